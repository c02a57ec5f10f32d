"""The asset catalogue: shipped defaults load; a bad user file is one clear error."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from minemap.errors import ConfigError
from minemap.plan.catalogue import load_catalogue
from minemap.plan.inputs import prepare_assets
from minemap.settings import PACKAGE_DATA

SHIPPED = Path(str(PACKAGE_DATA / "assets_catalogue.toml"))


def test_shipped_catalogue_has_every_type_with_sources() -> None:
    cat = load_catalogue(SHIPPED)
    assert {"manual", "dog", "machine", "drone", "nts", "eod"} <= set(cat.types)
    for t in cat.types.values():
        assert t.source, t.key
    assert cat["manual"].base_rate(10) == pytest.approx(300.0)
    assert not cat["machine"].capable("steep", "open", "AP")
    assert not cat["machine"].capable("flat", "forest", "AP")
    assert not cat["dog"].capable("flat", "open", "UXO")
    assert cat["drone"].role == "survey"
    assert cat["nts"].role == "survey"


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "catalogue.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    path = _edited(
        tmp_path, "productivity_m2_day = 850.0", "productivity_m2_day = 850.0\nspeed = 3"
    )
    with pytest.raises(ConfigError, match=r"catalogue.toml: key 'types.dog.speed': unknown key"):
        load_catalogue(path)


def test_negative_productivity_is_refused(tmp_path: Path) -> None:
    path = _edited(tmp_path, "productivity_m2_day = 850.0", "productivity_m2_day = -850.0")
    with pytest.raises(ConfigError, match=r"types.dog.productivity_m2_day': must not be negative"):
        load_catalogue(path)


def test_limit_must_agree_with_factor(tmp_path: Path) -> None:
    path = _edited(
        tmp_path,
        "terrain = { flat = 1.0, hilly = 0.5, steep = 0.0 }",
        "terrain = { flat = 1.0, hilly = 0.5, steep = 0.2 }",
    )
    with pytest.raises(ConfigError, match=r"types\.machine\.not_on"):
        load_catalogue(path)


def test_asset_of_a_type_missing_from_the_catalogue() -> None:
    assets = pd.DataFrame({"id": [1], "ref": ["AS-000001"], "type": ["hovercraft"]})
    with pytest.raises(
        ConfigError, match=r"asset AS-000001 has type 'hovercraft'.*\[types.hovercraft\]"
    ):
        prepare_assets(assets, load_catalogue(SHIPPED))
