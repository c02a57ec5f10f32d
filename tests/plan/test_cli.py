"""``minemap plan`` end to end on a real GeoPackage store; one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from minemap.cli.main import main


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_prioritise_schedule_forecast_whatif(
    plan_store: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, map_dir = plan_store
    common = ["--db", url, "--map", str(map_dir), "--start", "2026-01"]
    code, _, err = _run(["plan", "prioritise", *common, "--out", str(tmp_path / "p")], capsys)
    assert code == 0, err
    pr = pd.read_csv(tmp_path / "p" / "priorities.csv")
    assert list(pr["rank"]) == list(range(1, len(pr) + 1))
    contributions = pr[[c for c in pr.columns if c.endswith("_contribution")]].sum(axis=1)
    assert (contributions - pr["score"]).abs().max() < 1e-4
    assert len(pd.read_csv(tmp_path / "p" / "sensitivity.csv")) == 14

    out_dir = tmp_path / "s"
    code, _, err = _run(
        [
            "plan",
            "schedule",
            *common,
            "--horizon-months",
            "12",
            "--time-limit",
            "10",
            "--out",
            str(out_dir),
        ],
        capsys,
    )
    assert code == 0, err
    table = pd.read_csv(out_dir / "schedule.csv")
    assert {"asset_id", "hazard_id", "start", "end", "area_m2", "asset_ref", "hazard_ref"} <= set(
        table.columns
    )
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["objective"] <= summary["bound"] + 1e-9
    assert 0 <= summary["gap"] <= 1
    assert (out_dir / "gantt.png").stat().st_size > 10_000
    planned = gpd.read_file(out_dir / "planned_hazards.gpkg")
    assert {"planned_start", "planned_end", "priority"} <= set(planned.columns)

    code, _, err = _run(
        ["plan", "forecast", *common, "--draws", "50", "--seed", "1", "--out", str(tmp_path / "f")],
        capsys,
    )
    assert code == 0, err
    forecast = json.loads((tmp_path / "f" / "forecast.json").read_text())
    assert forecast["p10"] <= forecast["p50"] <= forecast["p90"]
    assert forecast["monthly_released"]
    assert forecast["casualties_per_year"]
    assert (tmp_path / "f" / "forecast.png").exists()

    code, _out, err = _run(
        [
            "plan",
            "whatif",
            *common,
            "--add",
            "machine=2@2026-03",
            "--add",
            "manual=4@2026-01",
            "--draws",
            "40",
            "--out",
            str(tmp_path / "w"),
        ],
        capsys,
    )
    assert code == 0, err
    whatif = json.loads((tmp_path / "w" / "whatif.json").read_text())
    assert {"p50", "p90"} <= set(whatif["baseline"])
    assert {"p50", "p90"} <= set(whatif["scenario"])
    assert {"months_saved", "casualties_averted", "cost_per_month_saved"} <= set(whatif)
    assert len(whatif["options"]) == 2
    assert whatif["scenario"]["p50"] <= whatif["baseline"]["p50"]


def test_survey_and_simulate(
    plan_store: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, map_dir = plan_store
    common = ["--db", url, "--map", str(map_dir), "--start", "2026-01"]
    code, _, err = _run(["plan", "survey", *common, "--out", str(tmp_path / "v")], capsys)
    assert code == 0, err
    targets = pd.read_csv(tmp_path / "v" / "survey_targets.csv")
    assert len(targets) > 0
    assert targets["value_per_team_day"].is_monotonic_decreasing
    # a truth with mines inside the first hazards
    from minemap.store import open_store

    with open_store(url) as store:
        hazards = store.read("hazards")
    points = [h.representative_point() for h in hazards.geometry.iloc[:10]] + [Point(0, 0)]
    truth = tmp_path / "truth.gpkg"
    gpd.GeoDataFrame({"type": ["PMN-2"] * len(points)}, geometry=points, crs=hazards.crs).to_file(
        truth, layer="mines"
    )
    code, _out, err = _run(
        [
            "plan",
            "simulate",
            *common,
            "--truth",
            str(truth),
            "--years",
            "2",
            "--out",
            str(tmp_path / "m"),
        ],
        capsys,
    )
    assert code == 0, err
    sim = json.loads((tmp_path / "m" / "simulation.json").read_text())
    assert sim["mines_in_truth"] == 11
    assert sim["mines_inside_open_hazards"] == 10
    assert [r["strategy"] for r in sim["strategies"]] == [
        "status quo",
        "hazard-map guided",
        "minemap planner",
    ]


def test_errors_are_one_line(
    plan_store: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from minemap.store import open_store

    url, map_dir = plan_store
    empty = str(tmp_path / "empty.gpkg")
    with open_store(empty) as store:
        store.init()
    code, _, err = _run(
        ["plan", "forecast", "--db", empty, "--map", str(map_dir), "--out", str(tmp_path / "x")],
        capsys,
    )
    assert code == 1
    assert err.startswith("Error: ")
    assert "no hazards" in err
    assert err.count("\n") == 1

    code, _, err = _run(
        ["plan", "schedule", "--db", url, "--map", str(tmp_path), "--out", str(tmp_path / "x")],
        capsys,
    )
    assert code == 1
    assert "risk.tif" in err
    assert err.count("\n") == 1

    code, _, err = _run(
        [
            "plan",
            "whatif",
            "--db",
            url,
            "--map",
            str(map_dir),
            "--add",
            "hovercraft=2@2026-01",
            "--out",
            str(tmp_path / "x"),
        ],
        capsys,
    )
    assert code == 1
    assert "hovercraft" in err
    assert err.count("\n") == 1

    cat = tmp_path / "cat.toml"
    from minemap.settings import PACKAGE_DATA

    text = (PACKAGE_DATA / "assets_catalogue.toml").read_text(encoding="utf-8")
    cat.write_text(text.replace("[types.eod]", "[types.eod_old]"), encoding="utf-8")
    code, _, err = _run(
        [
            "plan",
            "prioritise",
            "--db",
            url,
            "--map",
            str(map_dir),
            "--catalogue",
            str(cat),
            "--out",
            str(tmp_path / "x"),
        ],
        capsys,
    )
    assert code == 1
    assert "type 'eod', which is not in the catalogue" in err
    assert str(cat) in err


def test_zero_area_hazard_is_refused(small_context: object) -> None:
    from minemap.errors import ValidationError
    from minemap.plan.inputs import prepare_hazards

    ctx = small_context
    hazards = ctx.hazards.copy()  # type: ignore[attr-defined]
    hazards.loc[3, "area_m2"] = 0.0
    with pytest.raises(ValidationError, match=f"hazard {hazards.loc[3, 'ref']} has zero area"):
        prepare_hazards(hazards, ctx.catalogue)  # type: ignore[attr-defined]
