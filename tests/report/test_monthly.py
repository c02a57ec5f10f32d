"""The monthly report: same figures as the summary, a PDF with its sections, empty months."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from pypdf import PdfReader

from minemap.errors import ConfigError, InputFileError
from minemap.report import monthly
from minemap.report import summary as s
from tests.report.world import X0, Y0, small_world

SECTIONS = (
    "The month on the map",
    "Land release",
    "Explosive devices found",
    "Contamination remaining at the end of the month",
    "Casualties",
    "Explosive ordnance risk education",
    "Settlements with accidents but no risk education",
    "Teams, staff and assets",
    "Plan and completion forecast",
)


def _text(pdf: Path) -> tuple[int, str]:
    reader = PdfReader(pdf)
    return len(reader.pages), "\n".join(p.extract_text() for p in reader.pages)


@pytest.fixture(scope="module")
def records() -> s.Records:
    return s.Records.from_frames(small_world())


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plan folder as the planner writes it: forecast.json and schedule.csv."""
    folder = tmp_path_factory.mktemp("plan")
    months = pd.date_range("2024-04-30", periods=24, freq="ME")
    base = np.linspace(10_000, 1_000_000, len(months))
    forecast = {
        "p10": "2025-09-30",
        "p50": "2026-03-31",
        "p90": "2027-01-31",
        "monthly_released": [
            {
                "month": m.strftime("%Y-%m"),
                "released_m2_p10": b * 0.8,
                "released_m2_p50": b,
                "released_m2_p90": b * 1.2,
            }
            for m, b in zip(months, base, strict=True)
        ],
        "casualties_per_year": [{"year": 2024, "expected": 4.5, "p10": 2.0, "p90": 7.0}],
    }
    (folder / "forecast.json").write_text(json.dumps(forecast), encoding="utf-8")
    pd.DataFrame(
        {
            "asset_id": [1, 2],
            "hazard_id": [1, 2],
            "start": ["2024-03-01", "2024-03-17"],
            "end": ["2024-03-31", "2024-04-15"],
            "area_m2": [100_000.0, 60_000.0],
        }
    ).to_csv(folder / "schedule.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def map_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hazard-map folder with a small probability raster over the world."""
    folder = tmp_path_factory.mktemp("map")
    risk = np.random.default_rng(3).random((40, 80)).astype("float32")
    risk[:5, :5] = np.nan
    with rasterio.open(
        folder / "risk.tif", "w", driver="GTiff", width=80, height=40, count=1, dtype="float32",
        crs="EPSG:32638", transform=Affine(250, 0, X0, 0, -250, Y0 + 10_000), nodata=np.nan,
    ) as dst:  # fmt: skip
        dst.write(risk, 1)
    # a DEM for the terrain under the map: a hill in the west, plains in the east
    yy, xx = np.mgrid[0:100, 0:200]
    dem = (400 + 300 * np.exp(-((xx - 40) ** 2 + (yy - 50) ** 2) / 800.0)).astype("float32")
    with rasterio.open(
        folder / "dem.tif", "w", driver="GTiff", width=200, height=100, count=1, dtype="float32",
        crs="EPSG:32638", transform=Affine(100, 0, X0, 0, -100, Y0 + 10_000),
    ) as dst:  # fmt: skip
        dst.write(dem, 1)
    return folder


@pytest.fixture(scope="module")
def march(
    records: s.Records, plan_dir: Path, map_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> monthly.ReportFiles:
    out = tmp_path_factory.mktemp("report") / "march.pdf"
    return monthly.write_monthly(
        records, "2024-03", out, map_dir=map_dir, plan_dir=plan_dir, dem_path=map_dir / "dem.tif"
    )


def test_report_figures_are_the_summary_figures(records: s.Records) -> None:
    report = monthly.build_monthly(records, "2024-03")
    assert (
        report.this_month.figures == s.national_summary(records, s.Period.month("2024-03")).figures
    )
    to_date = s.national_summary(records, s.Period(None, dt.date(2024, 3, 31)))
    assert report.to_date.figures == to_date.figures
    ytd = s.national_summary(records, s.Period(dt.date(2024, 1, 1), dt.date(2024, 3, 31)))
    assert report.year_to_date.figures == ytd.figures


def test_pdf_has_its_sections_and_figures(march: monthly.ReportFiles) -> None:
    pages, text = _text(march.pdf)
    assert pages >= 3
    flat = " ".join(text.split())
    for title in SECTIONS:
        assert title in flat, title
    assert "Monthly mine action report: March 2024" in flat
    assert "21.0 ha of land were released" in flat
    assert "AD-4" in flat  # the month's accident is listed
    assert "1,487 m from HA-2" in flat  # with the hazard nearest to it
    assert "Aghdam-1" in flat  # the settlement with accidents and no EORE for a year
    assert "2026-03-31" in flat  # the forecast's P50
    assert "at the current pace: 4.5" in flat  # and its casualties in the coming year
    assert march.html.read_text(encoding="utf-8").count("data:image/png;base64,") >= 4


def test_json_beside_the_pdf_holds_the_printed_figures(
    march: monthly.ReportFiles, records: s.Records
) -> None:
    data = json.loads(march.json.read_text(encoding="utf-8"))
    summary = s.national_summary(records, s.Period.month("2024-03")).to_dict()
    for key, value in data["this_month"].items():
        assert summary[key] == pytest.approx(value), key
    assert data["forecast"]["p50"] == "2026-03-31"
    # 100,000 m² planned in March, and 15 of the 30 days of the second task
    assert data["planned_m2"] == pytest.approx(100_000 + 60_000 * 15 / 30)


def test_empty_month_gives_a_short_report(records: s.Records, tmp_path: Path) -> None:
    files = monthly.write_monthly(records, "2024-06", tmp_path / "june.pdf")
    pages, text = _text(files.pdf)
    assert pages == 1
    flat = " ".join(text.split())
    assert "No record is dated in June 2024" in flat
    assert "26.0 ha" in flat  # the figures to date are still there
    assert json.loads(files.json.read_text(encoding="utf-8"))["empty"] is True


def test_bad_month_and_bad_folders(records: s.Records, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="YYYY-MM"):
        monthly.build_monthly(records, "2024-3x")
    with pytest.raises(InputFileError, match=r"risk\.tif"):
        monthly.build_monthly(records, "2024-03", map_dir=tmp_path)
    (tmp_path / "forecast.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"forecast\.json"):
        monthly.read_forecast(tmp_path)
    assert not (tmp_path / "out.pdf").exists()


def test_report_from_a_store(tmp_path: Path) -> None:
    """The report reads a real store and prints what the summary of that store says."""
    from minemap.store import open_store
    from tests.report.world import fill_store

    with open_store(str(tmp_path / "store.gpkg")) as store:
        store.init(crs="EPSG:32638")
        fill_store(store)
        report = monthly.build_monthly(store, "2024-04")
        assert (
            report.this_month.figures
            == s.national_summary(store, s.Period.month("2024-04")).figures
        )
    assert report.this_month.figures["area_reduced_m2"] == pytest.approx(50_000)


def test_planned_area_of_a_month(plan_dir: Path) -> None:
    # 15 of the 30 days of the second task fall in April
    april = monthly.planned_in(plan_dir, s.Period.month("2024-04"))
    assert april == pytest.approx(60_000 * 15 / 30)
    # before the plan starts nothing was planned: no figure rather than zero
    assert monthly.planned_in(plan_dir, s.Period.month("2024-01")) is None
