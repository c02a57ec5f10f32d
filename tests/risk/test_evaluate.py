"""Capture curves by hand, and the evaluate command on a built map."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from minemap.cli.main import main
from minemap.errors import NotFoundError
from minemap.grid.layers import load_folder
from minemap.risk.build import build_hazard_map
from minemap.risk.evaluate import capture_curve, evaluate_map
from tests.risk.mapworld import write_world
from tests.risk.test_build import QUICK


def test_capture_curve_by_hand() -> None:
    curve = capture_curve(np.array([3.0, 2.0, 1.0, 0.0]), np.array([False, True, False, True]))
    np.testing.assert_allclose(curve.area, [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(curve.captured, [0, 0, 0.5, 0.5, 1.0])
    assert curve.at(0.5) == 0.5
    assert curve.at(0.125) == 0.0
    assert curve.area_under() == pytest.approx(0.375)


def test_ties_are_averaged_not_broken_in_anyones_favour() -> None:
    # all cells tied: the expected curve of a random order, the diagonal
    curve = capture_curve(np.zeros(10), np.arange(10) < 3)
    assert curve.at(0.1) == pytest.approx(0.1)
    assert curve.at(0.5) == pytest.approx(0.5)
    # a tie between a mined and a clean cell at the top: half a mined cell per half cell
    tied = capture_curve(np.array([1.0, 1.0, 0.0]), np.array([True, False, False]))
    assert tied.at(1 / 3) == pytest.approx(0.5)


def test_nan_scores_go_last_and_weights_count() -> None:
    curve = capture_curve(np.array([np.nan, 1.0]), np.array([1.0, 3.0]))
    assert curve.at(0.5) == pytest.approx(0.75)


def test_no_mined_cells_is_an_error() -> None:
    with pytest.raises(NotFoundError):
        capture_curve(np.ones(3), np.zeros(3, dtype=bool))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    world = write_world(tmp_path_factory.mktemp("world") / "scenario")
    result = build_hazard_map(load_folder(world), tmp_path_factory.mktemp("map") / "map", QUICK)
    return world, result


def test_evaluate_writes_json_and_png(built: tuple[Path, Any], tmp_path: Path) -> None:
    world, result = built
    out = evaluate_map(result.out_dir / "risk.tif", world / "truth.gpkg", tmp_path)
    written = json.loads((tmp_path / "capture.json").read_text())
    assert written["orders"] == out["orders"]
    assert (tmp_path / "capture.png").stat().st_size > 10_000
    assert set(out["orders"]) == {"hazard_map", "front_line", "suspected_areas", "random"}
    assert out["orders"]["random"]["capture_at_10pct"] == pytest.approx(0.1)
    ten = out["versus_best_heuristic"]["capture_at_10pct"]
    assert ten["best_heuristic"] in ("front_line", "suspected_areas")
    # the map is far better than random on this world, where belts follow the doctrine
    assert out["orders"]["hazard_map"]["capture_at_10pct"] > 0.3
    curves = out["curves"]
    assert len(curves["area_share"]) == len(curves["hazard_map"]) == 201


def test_found_mines_are_left_out_unless_asked(built: tuple[Path, Any], tmp_path: Path) -> None:
    world, result = built
    default = evaluate_map(result.out_dir / "risk.tif", world / "truth.gpkg", tmp_path / "a")
    everything = evaluate_map(
        result.out_dir / "risk.tif", world / "truth.gpkg", tmp_path / "b", include_found=True
    )
    assert default["counted"] == "mines not yet found"
    assert everything["mines"] > default["mines"]


def test_heuristics_from_the_scenario_folder_agree(built: tuple[Path, Any], tmp_path: Path) -> None:
    world, result = built
    from_inputs = evaluate_map(result.out_dir / "risk.tif", world / "truth.gpkg", tmp_path / "a")
    from_layers = evaluate_map(
        result.out_dir / "risk.tif", world / "truth.gpkg", tmp_path / "b", layers_dir=world
    )
    for name in ("front_line", "suspected_areas"):
        assert from_layers["orders"][name] == from_inputs["orders"][name]


def test_cli_evaluate(
    built: tuple[Path, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world, result = built
    args = ["hazard-map", "evaluate", "--risk", str(result.out_dir / "risk.tif")]
    assert main([*args, "--truth", str(world / "truth.gpkg"), "--out", str(tmp_path)]) == 0
    assert "capture at 5 / 10 / 20%" in capsys.readouterr().out
    assert main([*args, "--truth", str(tmp_path / "none.gpkg"), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error:")
    assert "none.gpkg" in err
    # the observed layers given as truth: one line naming the file and the missing layer
    observed = world / "observed.gpkg"
    assert main([*args, "--truth", str(observed), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"Error: {observed}: cannot read layer 'mines'")
    assert len(err.strip().splitlines()) == 1


def test_build_and_evaluate_the_shared_scenario(scenario_dir: Path, tmp_path: Path) -> None:
    """The generated Karabakh-like world: every output, and a map that beats random."""
    result = build_hazard_map(load_folder(scenario_dir), tmp_path / "map", QUICK)
    assert result.metrics["labels"]["positive"] > 0
    assert result.metrics["labels"]["negative"] > 0
    out = evaluate_map(result.out_dir / "risk.tif", scenario_dir / "truth.gpkg", tmp_path / "eval")
    capture = out["orders"]["hazard_map"]["capture_at_10pct"]
    # a random order finds 10% of the mined cells in 10% of the area
    assert capture > 0.2, out["orders"]
