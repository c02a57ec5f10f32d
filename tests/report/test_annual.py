"""The annual report: the summary's figures for a year beside the year before, even when empty."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from minemap.cli.main import main
from minemap.report import annual
from minemap.report import summary as s
from tests.report.world import small_world


@pytest.fixture(scope="module")
def records() -> s.Records:
    return s.Records.from_frames(small_world())


def _flat_text(pdf: Path) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(pdf).pages).split())


def test_annual_figures_are_the_summary_figures(records: s.Records) -> None:
    report = annual.build_annual(records, 2024)
    assert report.this_year.figures == s.national_summary(records, s.Period.year(2024)).figures
    assert report.last_year.figures == s.national_summary(records, s.Period.year(2023)).figures
    assert not report.empty
    assert {"release_by_year", "victims_by_year"} <= set(report.images)


def test_pdf_html_and_json_of_a_year(records: s.Records, tmp_path: Path) -> None:
    files = annual.write_annual(records, 2024, tmp_path / "annual-2024.pdf")
    flat = _flat_text(files.pdf)
    assert "Annual mine action report 2024" in flat
    for section in ("Land released", "Casualties"):
        assert section in flat, section
    data = json.loads(files.json.read_text(encoding="utf-8"))
    # cancelled 200,000 + cleared 10,000 + reduced 50,000 m², all in 2024 (tests/report/world.py)
    assert data["this_year"]["area_released_m2"] == pytest.approx(260_000)
    assert data["last_year"]["area_released_m2"] == 0
    assert files.html.read_text(encoding="utf-8").count("data:image/png;base64,") >= 2


def test_a_store_without_records_still_gives_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "empty.gpkg")
    assert main(["db", "init", "--db", db]) == 0
    out = tmp_path / "annual.pdf"
    assert main(["report", "annual", "--db", db, "--year", "2025", "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    assert "No record is dated in 2025" in _flat_text(out)
    assert json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))["empty"] is True
