"""``minemap db init|backup|restore``: exit codes and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from minemap.cli.main import main
from minemap.store import open_store
from minemap.store.extent import parse_extent
from tests.store.sample import hazard


def test_init_backup_restore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "national.gpkg")
    assert main(["db", "init", "--db", db, "--extent", "AZ"]) == 0
    assert "EPSG:32638" in capsys.readouterr().out
    with open_store(db) as s:
        assert s.extent == parse_extent("azerbaijan")
        s.insert("hazards", [hazard()], user="u")
    backup = tmp_path / "backups" / "monday.gpkg"
    assert main(["db", "backup", "--db", db, "--out", str(backup)]) == 0
    assert backup.is_file()
    copy = str(tmp_path / "copy.gpkg")
    assert main(["db", "restore", str(backup), "--db", copy]) == 0
    assert "1 hazards" in capsys.readouterr().out
    with open_store(copy) as s:
        assert list(s.read("hazards")["ref"]) == ["HA-000001"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["db", "init", "--extent", "atlantis"], "unknown extent 'atlantis'"),
        (["db", "init", "--extent", "50,40,45,42"], "not a lon/lat box"),
        (["db", "init", "--crs", "EPSG:4326"], "projected in metres"),
        (["db", "restore", "missing.gpkg"], "does not exist"),
        (["db", "backup", "--out", "b.gpkg"], "db init"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    db = str(tmp_path / "s.gpkg")
    args = [str(tmp_path / a) if a.endswith(".gpkg") else a for a in args]
    assert main([*args, "--db", db]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error: ")
    assert message in err
    assert len(err.splitlines()) == 1


def test_extents() -> None:
    assert parse_extent("AZ") == parse_extent("Azerbaijan")
    assert parse_extent("44.5, 38, 51, 42") == (44.5, 38.0, 51.0, 42.0)
