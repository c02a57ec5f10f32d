"""The hazard-map build: outputs, honesty of the validation, truth never read, Dask = memory."""

from __future__ import annotations

import builtins
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio

from minemap.cli.main import main
from minemap.grid.layers import load_folder
from minemap.risk import mapfolder as mf
from minemap.risk.build import BuildOptions, build_hazard_map, spatial_groups
from minemap.risk.model import Candidate, RiskModel
from tests.risk.mapworld import write_world

# a quick recipe: one small model candidate, few folds, 100 m cells, 2 km blocks
QUICK = BuildOptions(
    cell_size=100.0,
    block_size_m=2_000.0,
    cv_folds=3,
    inner_folds=2,
    background_cells=2_000,
    candidates=(Candidate("quick", num_boost_round=60, background_weight=1.0),),
    num_threads=1,
)


@dataclass
class Watched:
    """A fold model that records which groups it trained on and which it predicted."""

    model: Any
    trained: set[str]
    calls: list[tuple[set[str], set[str]]]

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self.model.metadata)

    def predict_proba(self, X: pd.DataFrame, *, xy: Any = None, groups: Any = None) -> np.ndarray:
        self.calls.append((self.trained, set(np.asarray(groups).tolist())))
        return np.asarray(self.model.predict_proba(X))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_world(tmp_path_factory.mktemp("world") / "scenario")


@pytest.fixture(scope="module")
def built(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One build of the world, watched: files it opens, groups its fold models see.

    The folder's truth.gpkg is replaced by bytes no reader accepts, and every
    reader (pyogrio, geopandas, rasterio, open) records the paths it is given.
    """
    from minemap.risk import validation

    folder = tmp_path_factory.mktemp("watched") / "scenario"
    shutil.copytree(world, folder)
    (folder / "truth.gpkg").write_bytes(b"any read of this file would fail")
    opened: list[str] = []
    calls: list[tuple[set[str], set[str]]] = []
    real = validation._default_fitter

    def fitter(X: pd.DataFrame, y: np.ndarray, groups: np.ndarray, xy: Any, options: Any) -> Any:
        return Watched(real(X, y, groups, xy, options), set(np.asarray(groups).tolist()), calls)

    with pytest.MonkeyPatch.context() as mp:

        def spy(module: Any, name: str) -> None:
            original: Callable[..., Any] = getattr(module, name)

            def wrapper(*args: Any, **kwargs: Any) -> Any:
                opened.extend(str(a) for a in args if isinstance(a, (str, Path)))
                return original(*args, **kwargs)

            mp.setattr(module, name, wrapper)

        for name in ("read_dataframe", "read_info", "list_layers", "read_arrow", "open_arrow"):
            spy(pyogrio, name)
        spy(rasterio, "open")
        spy(gpd, "read_file")
        spy(builtins, "open")
        mp.setattr(validation, "_default_fitter", fitter)
        result = build_hazard_map(
            load_folder(folder), tmp_path_factory.mktemp("map") / "map", QUICK
        )
    result.opened = opened  # type: ignore[attr-defined]
    result.fold_calls = calls  # type: ignore[attr-defined]
    return result


def test_every_output_is_written(built: Any) -> None:
    for name in (mf.RISK, mf.ZONES, mf.DISTRICTS, mf.METRICS, mf.MODEL, mf.INPUTS, mf.MAP):
        assert (built.out_dir / name).is_file(), name
    assert not list(built.out_dir.parent.glob(".hazard-map-*")), "temporary folder left behind"


def test_risk_is_a_cog_of_probabilities_with_nodata_outside(built: Any) -> None:
    with rasterio.open(built.out_dir / mf.RISK) as src:
        assert src.dtypes[0] == "float32"
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert np.isnan(src.nodata)
        risk = src.read(1)
        assert src.crs.to_epsg() == 32638
    mask = built.grid.mask
    assert (~mask).any(), "the test region has cells outside it"
    assert np.isnan(risk[~mask]).all()
    inside = risk[mask]
    assert np.isfinite(inside).all()
    assert ((inside >= 0) & (inside <= 1)).all()
    np.testing.assert_array_equal(risk, built.probability)


def test_zones_split_the_region_by_share_of_area(built: Any) -> None:
    zones = gpd.read_file(built.out_dir / mf.ZONES, layer="zones")
    region_m2 = built.grid.mask.sum() * built.grid.cell_area_m2
    assert zones["area_m2"].sum() == pytest.approx(region_m2)
    by_zone = zones.groupby("zone")["area_m2"].sum() / region_m2
    assert by_zone["very high"] == pytest.approx(0.05, abs=0.002)
    assert by_zone["high"] == pytest.approx(0.05, abs=0.002)
    assert by_zone["medium"] == pytest.approx(0.10, abs=0.002)
    # the very high zone holds the highest probabilities
    mean = (
        zones.groupby("zone")["expected_contaminated_m2"].sum()
        / zones.groupby("zone")["area_m2"].sum()
    )
    assert mean["very high"] > mean["high"] > mean["low"]


def test_districts_sum_probability_times_area(built: Any) -> None:
    table = pd.read_csv(built.out_dir / mf.DISTRICTS)
    assert list(table["district"]) == ["West", "East"]
    p = built.probability
    west = p[:, :60][built.grid.mask[:, :60]]  # district West is the first 6 km
    assert table.loc[0, "expected_contaminated_m2"] == pytest.approx(
        float(west.astype(np.float64).sum()) * 100 * 100, rel=1e-5
    )
    assert ((table["high_risk_share"] >= 0) & (table["high_risk_share"] <= 1)).all()


def test_metrics_report_spatial_cv_calibration_and_labels(built: Any) -> None:
    metrics = json.loads((built.out_dir / mf.METRICS).read_text())
    assert len(metrics["features"]) >= 20
    assert {"name", "unit", "rationale"} <= set(metrics["features"][0])
    cv = metrics["cv"]
    assert cv["scheme"] == "square blocks of 2000 m"
    assert 0.0 <= cv["pooled"]["roc_auc"] <= 1.0
    assert cv["pooled"]["positives"] == metrics["labels"]["positive"]
    assert len(cv["per_fold"]) == 3
    table = metrics["calibration"]["table"]
    assert table
    assert [row["mean_probability"] for row in table] == sorted(
        r["mean_probability"] for r in table
    )
    assert metrics["training"]["background_unknown"] == 2_000
    assert metrics["cell_size_m"] == 100.0
    assert set(metrics["timings_s"]) >= {"features", "cross_validation", "predict", "total"}


def test_held_out_blocks_never_reach_training(built: Any) -> None:
    """Every fold model predicts only blocks it was not trained on."""
    assert len(built.fold_calls) == 3
    for trained, held in built.fold_calls:
        assert held
        assert not trained & held


def test_spatial_groups_are_squares(built: Any) -> None:
    grid = built.grid
    rows, cols = np.indices(grid.shape)
    names = spatial_groups(grid, rows.ravel(), cols.ravel(), 2_000.0).reshape(grid.shape)
    # 2 km blocks of 100 m cells aligned on multiples of 2 km: 20 x 20 cells each
    x, y = grid.xy(rows, cols)
    assert (names == names[0, 0])[(x < x[0, 0] + 1_000) & (y > y[0, 0] - 1_000)].all()
    assert len(np.unique(names)) == 6 * 5


def test_build_never_opens_the_truth(built: Any) -> None:
    assert any("observed.gpkg" in p for p in built.opened)
    assert not [p for p in built.opened if "truth" in p]


def test_dask_runner_gives_the_same_map(world: Path, built: Any, tmp_path: Path) -> None:
    from dataclasses import replace

    tiled = build_hazard_map(
        load_folder(world), tmp_path / "map", replace(QUICK, dask="threads", tile_size=64)
    )
    np.testing.assert_array_equal(tiled.probability, built.probability)


def test_explain_cell_adds_up_to_the_risk(built: Any) -> None:
    model = RiskModel.load(built.out_dir / mf.MODEL)
    grid = built.grid
    # the riskiest cell, which lies on no released land
    row, col = np.unravel_index(np.nanargmax(built.probability), grid.shape)
    x, y = grid.xy(np.array([row]), np.array([col]))
    n = len(model.feature_names)
    explained = mf.explain_cell(built.out_dir, float(x[0]), float(y[0]), top=n)
    assert (explained.row, explained.col) == (row, col)
    raw = explained.baseline + sum(v for _, v in explained.contributions)
    assert model.calibrator(np.array([raw]))[0] == pytest.approx(explained.model_probability)
    # the riskiest cell is not on released land: the map holds the model's probability
    assert explained.released is None
    assert explained.probability == pytest.approx(explained.model_probability, rel=1e-5)
    as_dict = explained.as_dict()
    assert as_dict["contributions"][0]["feature"] in model.feature_names


def test_explain_outside_the_region(built: Any) -> None:
    from minemap.errors import NotFoundError

    _, _, right, top = built.grid.bounds
    with pytest.raises(NotFoundError, match="outside the mapped region"):
        mf.explain_cell(built.out_dir, right - 10, top - 10)


def test_cli_build_and_errors(
    world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli-map"
    code = main(
        [
            "hazard-map",
            "build",
            "--layers",
            str(world),
            "--out",
            str(out),
            "--cell",
            "250",
            "--block-size",
            "3000",
            "--folds",
            "2",
            "--threads",
            "1",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert (out / mf.RISK).is_file()
    assert "validation (square blocks" in capsys.readouterr().out
    # a scenario folder without observed.gpkg: one line, exit 1
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["hazard-map", "build", "--layers", str(empty), "--out", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error:")
    assert "observed.gpkg" in err
    assert err.count("\n") == 1
    assert main(["hazard-map", "build", "--out", str(tmp_path / "x")]) == 1
    assert "--db" in capsys.readouterr().err


def test_weighted_scores_match_scikit_learn() -> None:
    from sklearn.metrics import average_precision_score, roc_auc_score

    from minemap.risk.build import weighted_auc_ap

    rng = np.random.default_rng(5)
    y = (rng.random(400) < 0.2).astype(int)
    score = np.round(rng.random(400) + y * 0.3, 2)  # rounded: ties happen
    weights = np.where(y == 1, 2.0, 7.0)
    auc, ap = weighted_auc_ap(y, score, weights)
    assert auc == pytest.approx(roc_auc_score(y, score, sample_weight=weights))
    assert ap == pytest.approx(average_precision_score(y, score, sample_weight=weights))


@pytest.mark.slow
def test_cli_dask_local_cluster_gives_the_same_map(world: Path, tmp_path: Path) -> None:
    args = ["hazard-map", "build", "--layers", str(world), "--cell", "250", "--folds", "2"]
    args += ["--block-size", "3000", "--threads", "1"]
    assert main([*args, "--out", str(tmp_path / "memory")]) == 0
    assert main([*args, "--out", str(tmp_path / "dask"), "--dask", "local"]) == 0
    with (
        rasterio.open(tmp_path / "memory" / mf.RISK) as a,
        rasterio.open(tmp_path / "dask" / mf.RISK) as b,
    ):
        np.testing.assert_array_equal(a.read(1), b.read(1))


def test_a_given_model_is_applied_and_validated_externally(
    world: Path, built: Any, tmp_path: Path
) -> None:
    from dataclasses import replace

    applied = build_hazard_map(
        load_folder(world), tmp_path / "map", replace(QUICK, model=built.out_dir / mf.MODEL)
    )
    # the same world and features: the same probabilities, with no training at all
    np.testing.assert_array_equal(applied.probability, built.probability)
    cv = applied.metrics["cv"]
    assert cv["scheme"].startswith("external")
    assert cv["pooled"]["roc_auc"] is not None
    assert "fit" not in applied.metrics["timings_s"]


def test_explain_a_released_cell(built: Any) -> None:
    inputs, grid = mf.read_input_layers(built.out_dir, [mf.RELEASED_BAND])
    rows, cols = np.nonzero((inputs[mf.RELEASED_BAND] > 0) & built.grid.mask)
    x, y = grid.xy(rows[:1], cols[:1])
    explained = mf.explain_cell(built.out_dir, float(x[0]), float(y[0]))
    assert explained.released in ("cancelled", "reduced", "cleared")
    assert explained.residual_factor < 1.0
    assert explained.probability == pytest.approx(
        explained.model_probability * explained.residual_factor, rel=1e-5
    )
