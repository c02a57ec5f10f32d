"""``minemap demo``: the whole chain, end to end, on a small generated world."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from minemap.cli.main import main


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--area-km2", "30", "--draws", "40"]) == 0
    printed = capsys.readouterr().out

    # the headline figures, the files and the command that serves the web map
    assert "Quick detection" in printed
    assert "minemap hazard map" in printed
    assert "suspected areas first" in printed
    assert "Completion of clearance:" in printed
    assert "What-if machine=10@" in printed
    assert "What-if dog=10@" in printed
    assert f"minemap serve --db {out / 'minemap.gpkg'} --map {out / 'map'}" in printed

    headline = json.loads((out / "demo.json").read_text(encoding="utf-8"))
    assert 0.0 <= headline["capture_at_10pct"]["hazard_map"] <= 1.0
    if headline["completion_p50"] and headline["completion_p90"]:
        assert headline["completion_p50"] <= headline["completion_p90"]
    assert "months_saved" in headline

    for path in (
        "scenario/observed.gpkg",
        "overview.png",
        "minemap.gpkg",
        "map/risk.tif",
        "evaluation/capture.json",
        "plan/priorities.csv",
        "plan/schedule.csv",
        "plan/forecast.json",
        "plan/whatif.json",
    ):
        assert (out / path).is_file(), path

    month = headline["report_month"]
    report = out / f"report-{month}.pdf"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(report).pages).split())
    assert "Monthly mine action report" in text
    assert "Completion of clearance" in text  # the plan folder reached the report
    assert (out / f"report-{month}.html").is_file()
