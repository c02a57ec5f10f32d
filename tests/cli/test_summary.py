"""``minemap summary`` and ``minemap report``: the command line over a real store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from minemap.cli.main import main
from minemap.report import summary as s
from minemap.store import open_store
from tests.report.world import fill_store

REQUIRED_KEYS = (
    "victims_killed",
    "victims_injured",
    "area_cancelled_m2",
    "area_reduced_m2",
    "area_cleared_m2",
    "eore_beneficiaries",
    "last_month",
)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = str(tmp_path_factory.mktemp("cli") / "store.gpkg")
    with open_store(url) as store:
        store.init(crs="EPSG:32638")
        fill_store(store)
    return url


def test_summary_prints_and_writes_json(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "summary.json"
    assert main(["summary", "--db", db, "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Victims killed" in printed
    assert "Land released by district" in printed
    data = json.loads(out.read_text(encoding="utf-8"))
    for key in REQUIRED_KEYS:
        assert key in data, key
    assert (data["victims_killed"], data["victims_injured"]) == (3, 4)
    assert data["area_cancelled_m2"] == 200_000
    assert data["eore_beneficiaries"] == 75
    assert data["last_month"] == "2024-04"
    assert data["period"] == {"from": None, "to": None}


def test_summary_of_a_period(db: str, tmp_path: Path) -> None:
    out = tmp_path / "march.json"
    args = ["summary", "--db", db, "--from", "2024-03-01", "--to", "2024-03-31", "--json", str(out)]
    assert main(args) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["area_released_m2"] == 210_000
    assert data["last_month"] == "2024-03"
    assert data["victims_killed"] == 0


def test_summary_and_monthly_report_agree(db: str, tmp_path: Path) -> None:
    """`summary --from --to` of a month prints what the monthly report prints."""
    summary_json = tmp_path / "april.json"
    report_pdf = tmp_path / "april-report.pdf"
    assert main(["summary", "--db", db, "--from", "2024-04-01", "--to", "2024-04-30",
                 "--json", str(summary_json)]) == 0  # fmt: skip
    assert main(["report", "monthly", "--db", db, "--month", "2024-04",
                 "--out", str(report_pdf)]) == 0  # fmt: skip
    summary = json.loads(summary_json.read_text(encoding="utf-8"))
    report = json.loads(report_pdf.with_suffix(".json").read_text(encoding="utf-8"))
    for key, value in report["this_month"].items():
        assert summary[key] == pytest.approx(value), key
    assert report_pdf.exists()
    assert report_pdf.with_suffix(".html").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["summary", "--from", "2024-05-01", "--to", "2024-04-01"], "after it ends"),
        (["report", "monthly", "--month", "2024-13", "--out", "x.pdf"], "YYYY-MM"),
        (["report", "monthly", "--month", "2024-03", "--out", "x.docx"], "ending in .pdf"),
        (["report", "annual", "--year", "2023", "--out", "x.txt"], "ending in .pdf"),
    ],
)
def test_user_errors_are_one_line(
    db: str, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*args, "--db", db]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error:")
    assert message in err
    assert len(err.splitlines()) == 1


def test_bad_date_is_a_usage_error(db: str) -> None:
    assert main(["summary", "--db", db, "--from", "March"]) == 2


def test_annual_report(db: str, tmp_path: Path) -> None:
    from pypdf import PdfReader

    out = tmp_path / "annual-2024.pdf"
    assert main(["report", "annual", "--db", db, "--year", "2024", "--out", str(out)]) == 0
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(out).pages).split())
    for title in (
        "Annual mine action report 2024",
        "Contamination remaining at the end of 2024",
        "Land released",
        "Explosive devices found and destroyed",
        "Casualties",
        "Explosive ordnance risk education",
        "Every year on record",
    ):
        assert title in text, title
    data = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    with open_store(db) as store:
        year = s.national_summary(store, s.Period.year(2024)).figures
    assert data["this_year"] == json.loads(json.dumps(year))
    assert data["last_year"]["victims_total"] == 3  # 2023: AD-1..AD-3
