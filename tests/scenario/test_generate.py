"""Generation is deterministic, and another seed gives another world."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from minemap.errors import ConfigError
from minemap.scenario import generate
from minemap.scenario.writer import FILES
from tests.fixtures.scenario import make_scenario

TINY_KM2 = 25.0


def frames(path: Path) -> dict[str, pd.DataFrame]:
    return {
        str(name): pyogrio.read_dataframe(path, layer=str(name))
        for name, _ in pyogrio.list_layers(path)
    }


def test_same_preset_and_seed_give_identical_files(tmp_path: Path) -> None:
    a = make_scenario(tmp_path / "a", seed=3, area_km2=TINY_KM2)
    b = make_scenario(tmp_path / "b", seed=3, area_km2=TINY_KM2)
    for name in ("observed.gpkg", "truth.gpkg"):
        fa, fb = frames(a / name), frames(b / name)
        assert fa.keys() == fb.keys()
        for layer in fa:
            pd.testing.assert_frame_equal(fa[layer], fb[layer], check_exact=True)
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert not list(a.glob(".partial-*"))


def test_another_seed_gives_another_world(tmp_path: Path) -> None:
    a = make_scenario(tmp_path / "a", seed=3, area_km2=TINY_KM2)
    b = make_scenario(tmp_path / "b", seed=4, area_km2=TINY_KM2)
    assert (a / "dem.tif").read_bytes() != (b / "dem.tif").read_bytes()
    ma = pyogrio.read_dataframe(a / "truth.gpkg", layer="mines")
    mb = pyogrio.read_dataframe(b / "truth.gpkg", layer="mines")
    assert len(ma) != len(mb) or not ma.geometry.geom_equals(mb.geometry).all()
    ha = pyogrio.read_dataframe(a / "observed.gpkg", layer="hazards")
    hb = pyogrio.read_dataframe(b / "observed.gpkg", layer="hazards")
    assert len(ha) != len(hb) or not ha.geometry.geom_equals(hb.geometry).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"preset": "atlantis"}, "unknown scenario preset 'atlantis'"),
        ({"area_km2": -5.0}, "--area-km2 must be a positive number"),
        ({"area_km2": 0.0}, "--area-km2 must be a positive number"),
        ({"area_km2": float("nan")}, "--area-km2 must be a positive number"),
        ({"cell": 0.0}, "--cell must lie between"),
        ({"cell": 500.0}, "--cell must lie between"),
    ],
)
def test_bad_arguments_are_refused_before_any_work(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        generate(tmp_path / "out", **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "out" / "observed.gpkg").exists()


def test_a_folder_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="cannot write there"):
        generate(blocker / "scenario", area_km2=TINY_KM2)
