"""Output files are written whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from minemap.files import replace_when_done


def test_the_file_appears_only_when_writing_succeeded(tmp_path: Path) -> None:
    target = tmp_path / "new" / "map.tif"
    with replace_when_done(target) as tmp:
        assert tmp.parent == target.parent
        assert tmp.suffix == ".tif"  # GDAL picks its driver by suffix
        tmp.write_text("whole")
        assert not target.exists()
    assert target.read_text() == "whole"
    assert [p.name for p in target.parent.iterdir()] == ["map.tif"]


def test_a_failure_leaves_the_old_file_and_nothing_partial(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")

    def write_half() -> None:
        with replace_when_done(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_half()
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_two_writers_never_share_a_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "cache.tif"
    with replace_when_done(target) as first, replace_when_done(target) as second:
        assert first != second
        first.write_text("1")
        second.write_text("2")
    assert target.read_text() == "1"  # the outer writer finished last
