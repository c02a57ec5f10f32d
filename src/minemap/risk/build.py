"""The hazard-map pipeline: layers -> grid -> features -> labels -> model -> map folder.

:func:`build_hazard_map` runs every step of ``minemap hazard-map build``:

1. **Grid.** The region polygon (layer ``region``) on a grid of
   ``cell_size`` metres in the layers' metric CRS.
2. **Inputs.** The records and rasters rasterised onto it
   (:func:`minemap.features.inputs.rasterise_inputs`).
3. **Features.** The documented kernels of :mod:`minemap.features`, in
   memory or tile by tile on Dask (identical results).
4. **Labels.** :func:`minemap.risk.labels.make_labels`: positives where
   devices were found or near a CHA's evidence, negatives on released land
   away from finds, unknown elsewhere.
5. **Training table.** Every labelled cell and a random sample of unknown
   cells (labelled -1: background, never negatives), each with its spatial
   group: square blocks of ``block_size_m`` or districts.
6. **Spatial cross-validation** with the model library
   (:func:`minemap.risk.validation.cross_validate`): whole groups held out,
   spread over ``cv_folds`` folds; the library chooses hyper-parameters and
   calibrates inside each training fold only. Figures go to ``metrics.json``.
7. **Final model** on the whole table (:func:`minemap.risk.model.fit`),
   calibrated from its inner out-of-fold scores; every cell of the region is
   predicted in chunks.
8. **Released land.** Land released by cancellation, reduction or clearance
   has been searched to a standard; its probability is multiplied by the
   residual factor of its method (:data:`RELEASED_RESIDUAL`), half of it on
   the edge of released land (:func:`minemap.risk.labels.residual_factors`).
9. **Outputs** (see :mod:`minemap.risk.mapfolder`): ``risk.tif``,
   ``zones.gpkg``, ``districts.csv``, ``metrics.json``, ``model.zip``,
   ``inputs.tif``, ``map.json``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio.features
import shapely
from scipy import ndimage

from minemap import __version__
from minemap.errors import ConfigError
from minemap.features.catalogue import FEATURES, GROUPS, describe
from minemap.features.inputs import rasterise_inputs
from minemap.features.runner import FeatureStack, compute_features
from minemap.grid import rasterize as rz
from minemap.grid.grid import Grid
from minemap.grid.layers import Layers
from minemap.grid.region import Region
from minemap.progress import steps
from minemap.risk import mapfolder as mf
from minemap.risk.labels import (
    NEGATIVE,
    POSITIVE,
    UNKNOWN,
    LabelRules,
    make_labels,
    released_codes,
    residual_factors,
)

log = logging.getLogger(__name__)

# OpenMP threads that spin while waiting (libgomp's default) slow LightGBM down
# tenfold or more when the cores are shared with other work; sleeping threads
# cost next to nothing on an idle machine. Read when LightGBM's OpenMP runtime
# loads, which is after this module is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

#: Probability left on released land, by release method: the share of a cell's
#: modelled risk that survives the search. Clearance searches every square
#: metre to depth (IMAS 09.10); technical survey samples it (08.20); NTS
#: cancellation only finds no evidence (08.10), so most risk remains there.
RELEASED_RESIDUAL: dict[str, float] = {"cleared": 0.02, "reduced": 0.1, "cancelled": 0.3}
#: Risk zones by share of the region's area, highest risk first (matching the
#: capture-curve checkpoints at 5, 10 and 20% of the area).
ZONES: tuple[tuple[str, float], ...] = (
    ("very high", 0.05),
    ("high", 0.10),
    ("medium", 0.20),
    ("low", 1.00),
)
#: Cells predicted at once.
PREDICT_CHUNK = 500_000


#: Features left out of the model by default. Finds make the positive labels, so
#: features drawn from them describe the label clusters themselves: the model
#: learns "mines are where clearance found mines", which is where they are no
#: longer. On the scenario worlds, leaving them out raised capture at 10% of the
#: area from 0.58 to 0.64-0.67 (see the README paragraph of this part).
LEAKY_FEATURES: tuple[str, ...] = ("dist_find_other_cell", "find_density")


#: The LightGBM recipe of hazard maps: trees of up to 15 leaves, 100 rounds at a
#: learning rate of 0.1. Tens of thousands of labelled cells support deeper trees
#: than a municipality table; few rounds keep the 5 million predictions of a
#: 12,000 km² map within seconds.
HAZARD_RECIPE: dict[str, Any] = {
    "num_leaves": 15,
    "min_child_samples": 50,
    "num_boost_round": 100,
    "learning_rate": 0.1,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "lambda_l2": 5.0,
}


def hazard_candidates(
    chosen: tuple[Any, ...] | None = None, *, background_weight: float = 1.0
) -> tuple[Any, ...]:
    """The model recipes of a hazard map (the library's inner CV picks among several).

    By default one: :data:`HAZARD_RECIPE` learning from the labelled cells and
    from the unknown cells as background of weight ``background_weight`` each.
    The inner cross-validation scores labelled cells only, which lie where
    survey went; it cannot see how a recipe ranks the land nobody surveyed,
    which is what the background is for, so it is not asked to choose
    whether to use background (see :attr:`BuildOptions.background_share`).
    ``chosen`` picks the library's recipes by name, or gives
    :class:`~minemap.risk.model.Candidate` recipes outright.
    """
    from minemap.risk.model import DEFAULT_CANDIDATES, Candidate

    known = {c.name: c for c in DEFAULT_CANDIDATES}
    if chosen is None:
        return (
            Candidate("hazard+background", **HAZARD_RECIPE, background_weight=background_weight),
        )
    out = []
    for item in chosen:
        if isinstance(item, Candidate):
            out.append(item)
        elif item in known:
            out.append(known[item])
        else:
            msg = f"unknown model recipe {item!r}; known: {', '.join(known)}"
            raise ConfigError(msg)
    return tuple(out)


@dataclass(frozen=True)
class BuildOptions:
    """How a hazard map is built; the defaults are minemap's recipe."""

    cell_size: float = 50.0
    #: spatial groups of the cross-validation: "blocks" (squares) or "districts"
    groups: str = "blocks"
    block_size_m: float = 5_000.0
    cv_folds: int = 4
    #: unknown cells sampled as background for the model (never as negatives)
    background_cells: int = 30_000
    #: total weight of the background as a share of the labelled cells' count
    #: 0.25: a light prior that unsurveyed land is mostly clean. On four generated
    #: worlds (seeds 7, 101, 102 and an earlier 150 km² one) learning from labelled
    #: cells only lost badly on one (capture at 10% of 0.25 against 0.37-0.41 with
    #: background: it extrapolated into the land nobody surveyed), while heavy
    #: background cost up to 0.15 on the others; 0.25 lost at most 0.025 anywhere.
    background_share: float = 0.25
    #: positive and negative cells beyond these are sampled; probabilities are
    #: then corrected for the two sampling rates (see :func:`prior_shift`)
    max_positive_cells: int = 15_000
    max_negative_cells: int = 45_000
    #: features computed and documented but not given to the model
    exclude_features: tuple[str, ...] = LEAKY_FEATURES
    inner_folds: int = 2
    #: the model library's recipes to choose from, by name or as Candidate objects
    #: (None: the recipes that learn from background)
    candidates: tuple[Any, ...] | None = None
    seed: int = 42
    num_threads: int = 0
    #: a model.zip of another build to apply instead of training one here
    model: Path | None = None
    #: None (in memory), "threads"/"processes"/"synchronous" (local Dask), "local"
    #: (a distributed LocalCluster) or a scheduler address
    dask: str | None = None
    tile_size: int = 1024
    label_rules: LabelRules = field(default_factory=LabelRules)
    released_residual: dict[str, float] = field(default_factory=lambda: dict(RELEASED_RESIDUAL))
    write_inputs: bool = True

    def __post_init__(self) -> None:
        if self.groups not in ("blocks", "districts"):
            msg = f"groups must be 'blocks' or 'districts', not {self.groups!r}"
            raise ConfigError(msg)
        if self.block_size_m <= 0:
            msg = f"block size must be positive metres, not {self.block_size_m}"
            raise ConfigError(msg)
        if self.cv_folds < 2:
            msg = f"cross-validation needs at least 2 folds, not {self.cv_folds}"
            raise ConfigError(msg)


@dataclass
class ExternalValidation:
    """Scores of a given model on this map's labelled sample (shaped like a CV result)."""

    oof: np.ndarray
    folds: list[dict[str, Any]]


@dataclass
class BuildResult:
    """What a build made: the folder, the grid, the probabilities and the metrics."""

    out_dir: Path
    grid: Grid
    probability: np.ndarray
    metrics: dict[str, Any]


# --- helpers ---------------------------------------------------------------------


@contextmanager
def _dask_runner(option: str | None) -> Iterator[Any]:
    """What :func:`compute_features` takes as ``dask`` for the ``--dask`` option."""
    if option is None:
        yield False
        return
    if option in ("threads", "processes", "synchronous"):
        yield option
        return
    try:
        import distributed
    except ImportError:
        from minemap.errors import MissingDependencyError

        msg = "--dask needs distributed: pip install 'minemap[dask]'"
        raise MissingDependencyError(msg) from None
    if option == "local":
        with (
            distributed.LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                dashboard_address=None,
                processes=True,
                silence_logs=logging.WARNING,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = distributed.Client(option, timeout="10s")
    except OSError as exc:
        msg = f"cannot reach the Dask scheduler at {option!r}: {exc}"
        raise ConfigError(msg) from None
    with client:
        yield client


def spatial_groups(grid: Grid, rows: np.ndarray, cols: np.ndarray, size_m: float) -> np.ndarray:
    """Square block of side ``size_m`` holding each cell, named ``"b<col>_<row>"``.

    Blocks are counted from the grid's lattice origin (multiples of the block
    size in the CRS), so two builds of one area share their blocks.
    """
    x, y = grid.xy(rows, cols)
    bx = np.floor(x / size_m).astype(np.int64)
    by = np.floor(y / size_m).astype(np.int64)
    return np.char.add(np.char.add("b", bx.astype(str)), np.char.add("_", by.astype(str)))


def district_index(layers: Layers, grid: Grid) -> tuple[np.ndarray, pd.DataFrame]:
    """Per cell the index of its district (-1 none) and the districts (ref, name)."""
    districts = layers.get("districts")
    if districts.empty:
        table = pd.DataFrame({"ref": ["(region)"], "name": ["whole region"]})
        return np.where(grid.mask, 0, -1).astype(np.int32), table
    index = rz.burn_values(
        grid, list(districts.geometry), np.arange(len(districts)), fill=-1, dtype=np.int32
    )
    refs = (
        districts["ref"].astype(str)
        if "ref" in districts
        else pd.Series([f"DI-{i + 1}" for i in range(len(districts))])
    )
    names = districts["name"].astype(str) if "name" in districts else refs
    table = pd.DataFrame({"ref": refs.to_numpy(), "name": names.to_numpy()})
    return index, table


@dataclass(frozen=True)
class TrainingSample:
    """The cells the model learns from and the rates at which each class was kept."""

    rows: np.ndarray
    cols: np.ndarray
    positive_rate: float
    negative_rate: float

    @property
    def odds_factor(self) -> float:
        """What the sample's odds of a positive are multiplied by to be the population's."""
        return self.negative_rate / self.positive_rate


def training_sample(
    labels: np.ndarray,
    mask: np.ndarray,
    *,
    max_positive: int,
    max_negative: int,
    n_background: int,
    seed: int,
) -> TrainingSample:
    """Labelled cells (each class sampled down to its maximum) plus sampled unknown cells.

    Sampling the classes at different rates is case-control sampling: it keeps
    the rare positives while bounding the table, and shifts the model's odds
    by a known factor that :func:`prior_shift` takes back out.
    """
    rng = np.random.default_rng(seed)
    inside = mask.ravel()
    flat_labels = labels.ravel()
    parts = []
    rates = []
    for value, limit in ((POSITIVE, max_positive), (NEGATIVE, max_negative)):
        cells = np.flatnonzero((flat_labels == value) & inside)
        rates.append(min(1.0, limit / len(cells)) if len(cells) else 1.0)
        if len(cells) > limit:
            cells = np.sort(rng.choice(cells, size=limit, replace=False))
        parts.append(cells)
    unknown = np.flatnonzero((flat_labels == UNKNOWN) & inside)
    if len(unknown) > n_background:
        unknown = np.sort(rng.choice(unknown, size=n_background, replace=False))
    flat = np.concatenate([*parts, unknown])
    rows, cols = np.unravel_index(flat, labels.shape)
    return TrainingSample(rows, cols, rates[0], rates[1])


def prior_shift(probability: np.ndarray, odds_factor: float) -> np.ndarray:
    """Probabilities with their odds multiplied by ``odds_factor`` (1 leaves them alone)."""
    if odds_factor == 1.0:
        return probability
    p = np.asarray(probability, dtype=np.float64)
    shifted = p * odds_factor / (p * odds_factor + (1.0 - p))
    return shifted.astype(np.asarray(probability).dtype, copy=False)


def predict_cells(model: Any, stack: FeatureStack, flat: np.ndarray) -> np.ndarray:
    """Calibrated probabilities of the cells ``flat`` (indices into the grid), in chunks.

    The model's inputs are taken straight from the float32 feature stack, so
    five million cells need no table in between.
    """
    names = [f.name for f in model.features]
    if any(f.kind != "number" for f in model.features) or model.evidence is not None:
        values = stack.values.reshape(len(stack.names), -1)
        parts = [
            model.predict_proba(
                pd.DataFrame(values[:, flat[s : s + PREDICT_CHUNK]].T, columns=stack.names)
            )
            for s in range(0, len(flat), PREDICT_CHUNK)
        ]
        return np.concatenate(parts) if parts else np.zeros(0)
    index = np.array([stack.names.index(n) for n in names], dtype=np.intp)
    values = stack.values.reshape(len(stack.names), -1)
    out = np.empty(len(flat), dtype=np.float64)
    for start in range(0, len(flat), PREDICT_CHUNK):
        chunk = flat[start : start + PREDICT_CHUNK]
        matrix = np.ascontiguousarray(values[np.ix_(index, chunk)].T)
        out[start : start + len(chunk)] = model.calibrator(model.raw_from_matrix(matrix))
    return out


def block_folds(blocks: np.ndarray, labels: np.ndarray, n_folds: int) -> np.ndarray:
    """Fold name of each row: whole blocks spread over ``n_folds`` folds, stratified.

    Positives are rare and clustered, so blocks are dealt positives first:
    blocks with more positives go first, each to the fold with the fewest
    positives so far; then blocks by negatives to the fold with the fewest
    negatives; blocks with no label by cells. Deterministic (ties by name).
    """
    names, inverse = np.unique(blocks.astype(str), return_inverse=True)
    pos = np.bincount(inverse, weights=(labels == POSITIVE), minlength=len(names))
    neg = np.bincount(inverse, weights=(labels == NEGATIVE), minlength=len(names))
    rows = np.bincount(inverse, minlength=len(names)).astype(float)
    load = np.zeros((n_folds, 3))
    fold_of = np.zeros(len(names), dtype=np.int64)
    order = sorted(range(len(names)), key=lambda i: (-pos[i], -neg[i], -rows[i], names[i]))
    for i in order:
        column = 0 if pos[i] > 0 else 1 if neg[i] > 0 else 2
        fold = int(np.lexsort((load[:, 2], load[:, 1], load[:, 0], load[:, column]))[0])
        fold_of[i] = fold
        load[fold] += (pos[i], neg[i], rows[i])
    return np.char.add("fold ", (fold_of[inverse] + 1).astype(str))


def _table(stack: FeatureStack, rows: np.ndarray, cols: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(stack.at(rows, cols), columns=stack.names)


def _class_weights(labels: np.ndarray, sample: TrainingSample | None) -> np.ndarray:
    """Weight of each labelled row that undoes the class sampling (1 without a sample)."""
    if sample is None:
        return np.ones(len(labels))
    return np.where(labels == POSITIVE, 1 / sample.positive_rate, 1 / sample.negative_rate)


def calibration_table(
    labels: np.ndarray,
    probability: np.ndarray,
    bins: int = 10,
    sample: TrainingSample | None = None,
) -> list[dict[str, Any]]:
    """Reliability table of out-of-fold probabilities on labelled cells, by decile of score.

    With a class-sampled ``sample``, observed rates are weighted back to the
    labelled population (as the probabilities are, by :func:`prior_shift`).
    """
    keep = (labels >= 0) & np.isfinite(probability)
    y, p = labels[keep].astype(float), probability[keep]
    w = _class_weights(labels[keep], sample)
    if len(y) == 0:
        return []
    order = np.argsort(p, kind="stable")
    out = []
    for k, part in enumerate(np.array_split(order, min(bins, len(order)))):
        if len(part) == 0:
            continue
        out.append(
            {
                "bin": k + 1,
                "cells": len(part),
                "mean_probability": float(p[part].mean()),
                "observed_positive_rate": float(np.average(y[part], weights=w[part])),
                "min_probability": float(p[part].min()),
                "max_probability": float(p[part].max()),
            }
        )
    return out


def weighted_auc_ap(
    labels: np.ndarray, score: np.ndarray, weights: np.ndarray
) -> tuple[float, float]:
    """ROC-AUC and average precision of 0/1 ``labels`` with row ``weights`` (ties grouped).

    The definitions of scikit-learn's ``roc_auc_score`` and
    ``average_precision_score``, computed in one sort: hundreds of
    per-block scores cost milliseconds.
    """
    order = np.argsort(-score, kind="stable")
    y, s, w = labels[order].astype(float), score[order], weights[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]
    tp = np.cumsum(w * y)[last]
    fp = np.cumsum(w * (1 - y))[last]
    total_p, total_n = tp[-1], fp[-1]
    if total_p <= 0:
        return math.nan, math.nan
    recall = tp / total_p
    precision = tp / np.maximum(tp + fp, 1e-300)
    ap = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    if total_n <= 0:
        return math.nan, ap
    auc = float(np.trapezoid(np.r_[0.0, recall], np.r_[0.0, fp / total_n]))
    return auc, ap


def _scores(
    labels: np.ndarray, probability: np.ndarray, sample: TrainingSample | None = None
) -> dict[str, Any]:
    """ROC-AUC and average precision of labelled rows, weighted back to the population."""
    keep = (labels >= 0) & np.isfinite(probability)
    y, p = labels[keep], probability[keep]
    auc, ap = weighted_auc_ap(y, p, _class_weights(y, sample)) if len(y) else (math.nan, math.nan)
    return {
        "roc_auc": None if math.isnan(auc) else round(auc, 5),
        "average_precision": None if math.isnan(ap) else round(ap, 5),
        "positives": int((y == 1).sum()),
        "negatives": int((y == 0).sum()),
    }


def zone_codes(probability: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Zone of each cell (1 = very high ... len(ZONES); 0 outside) and the probability cuts."""
    values = probability[mask]
    order = np.argsort(-values, kind="stable")
    codes_in = np.empty(len(values), dtype=np.uint8)
    cuts: list[float] = []
    start = 0
    for k, (_, share) in enumerate(ZONES, start=1):
        stop = len(values) if share >= 1 else round(share * len(values))
        codes_in[order[start:stop]] = k
        cuts.append(float(values[order[stop - 1]]) if stop > start else float("nan"))
        start = stop
    codes = np.zeros(probability.shape, dtype=np.uint8)
    codes[mask] = codes_in
    return codes, cuts


def _zones_frame(
    codes: np.ndarray, probability: np.ndarray, grid: Grid
) -> tuple[gpd.GeoDataFrame, list[dict[str, Any]]]:
    """Polygons of the zones with their area and expected contaminated area.

    Each 4-connected patch of a zone is labelled first, so the probability
    summed over a polygon's cells is a bincount, and each patch becomes
    exactly one polygon (with its holes).
    """
    area = grid.cell_area_m2
    patches = np.zeros(grid.shape, dtype=np.int32)
    zone_of = [0]
    for k in range(1, len(ZONES) + 1):
        labelled, n = ndimage.label(codes == k)
        hit = labelled > 0
        patches[hit] = labelled[hit] + (len(zone_of) - 1)
        zone_of.extend([k] * n)
    sums = np.bincount(
        patches.ravel(),
        weights=np.nan_to_num(probability, nan=0.0).ravel().astype(np.float64),
        minlength=len(zone_of),
    )
    ids, geoms = [], []
    for geometry, value in rasterio.features.shapes(
        patches, mask=patches > 0, transform=grid.transform, connectivity=4
    ):
        ids.append(int(value))
        geoms.append(json.dumps(geometry))
    polygons = shapely.from_geojson(geoms) if geoms else np.array([])
    index = np.asarray(ids, dtype=np.int64)
    zone_codes_of = np.asarray(zone_of, dtype=np.int32)[index]
    frame = gpd.GeoDataFrame(
        {"zone_code": zone_codes_of},
        geometry=gpd.GeoSeries(polygons, crs=grid.crs),
        crs=grid.crs,
    )
    frame["zone"] = [ZONES[z - 1][0] for z in frame["zone_code"]]
    frame["area_m2"] = frame.geometry.area
    frame["expected_contaminated_m2"] = sums[index] * area
    frame["mean_probability"] = np.where(
        frame["area_m2"] > 0, frame["expected_contaminated_m2"] / frame["area_m2"], 0.0
    )
    summary = []
    for k, (name, share) in enumerate(ZONES, start=1):
        cells = codes == k
        summary.append(
            {
                "zone": name,
                "cumulative_share_of_area": share,
                "area_km2": float(cells.sum() * area / 1e6),
                "expected_contaminated_km2": float(probability[cells].sum() * area / 1e6),
                "polygons": int((frame["zone_code"] == k).sum()),
            }
        )
    cols = ["zone", "zone_code", "area_m2", "expected_contaminated_m2", "mean_probability"]
    return frame[[*cols, "geometry"]], summary


def _districts_frame(
    layers: Layers, grid: Grid, probability: np.ndarray, codes: np.ndarray
) -> pd.DataFrame:
    index, table = district_index(layers, grid)
    inside = grid.mask & (index >= 0)
    n = len(table)
    area = grid.cell_area_m2
    idx = index[inside]
    cells = np.bincount(idx, minlength=n)
    expected = np.bincount(idx, weights=probability[inside].astype(np.float64), minlength=n)
    high = np.bincount(idx, weights=(codes[inside] <= 2).astype(np.float64), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        share_high = np.where(cells > 0, high / np.maximum(cells, 1), np.nan)
        mean = np.where(cells > 0, expected / np.maximum(cells, 1), np.nan)
    out = table.copy()
    out["area_km2"] = cells * area / 1e6
    out["expected_contaminated_m2"] = expected * area
    out["expected_contaminated_ha"] = expected * area / 1e4
    out["mean_probability"] = mean
    out["high_risk_share"] = share_high
    out["high_risk_km2"] = high * area / 1e6
    return out.rename(columns={"ref": "district_ref", "name": "district"})


# --- the pipeline ------------------------------------------------------------------


def build_hazard_map(
    layers: Layers, out_dir: Path, options: BuildOptions | None = None
) -> BuildResult:
    """Build the hazard map of ``layers`` into ``out_dir`` (see the module docs)."""
    from minemap.risk.model import ModelOptions, RiskModel, fit
    from minemap.risk.validation import cross_validate

    options = options or BuildOptions()
    out_dir = Path(out_dir)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        log.info("%s: %.2f s", name, now - clock)
        clock = now

    with steps(9, "building the hazard map") as bar:
        region = Region.from_frame(layers.require("region"), options.cell_size)
        grid = region.grid()
        log.info("grid %d x %d cells of %g m", grid.height, grid.width, grid.cell_size)
        bar.advance("rasterising layers")
        inputs = rasterise_inputs(layers, grid)
        released = released_codes(layers, grid)
        lap("rasterise")

        bar.advance("computing features")
        # groups whose every feature is excluded are not computed at all
        groups_used = [
            g
            for g in GROUPS
            if options.model is not None
            or any(f.name not in options.exclude_features for f in g.features)
        ]
        with _dask_runner(options.dask) as runner:
            stack = compute_features(
                inputs,
                grid.cell_size,
                groups=groups_used,
                dask=runner,
                tile_size=options.tile_size,
            )
        lap("features")

        bar.advance("labelling cells")
        labels = make_labels(
            layers,
            grid,
            finds=inputs["finds"],
            accidents=inputs["accidents"],
            released=released,
            rules=options.label_rules,
        )
        if labels.positives == 0 or labels.negatives == 0:
            msg = (
                f"{layers.source}: the records give {labels.positives} positive and "
                f"{labels.negatives} negative cells; a hazard map needs both (finds or confirmed "
                "hazards, and released land)"
            )
            raise ConfigError(msg)
        sample = training_sample(
            labels.grid,
            grid.mask,
            max_positive=options.max_positive_cells,
            max_negative=options.max_negative_cells,
            n_background=options.background_cells,
            seed=options.seed,
        )
        rows, cols = sample.rows, sample.cols
        y = labels.grid[rows, cols].astype(np.int8)
        if options.groups == "districts":
            index, table = district_index(layers, grid)
            refs = np.append(table["ref"].astype(str).to_numpy(), "(none)")
            groups = refs[index[rows, cols]]
            scheme = "districts"
        else:
            groups = spatial_groups(grid, rows, cols, options.block_size_m)
            scheme = f"square blocks of {options.block_size_m:g} m"
        X = _table(stack, rows, cols).drop(
            columns=[n for n in options.exclude_features if n in stack.names]
        )
        lap("labels")

        n_labelled = int((y >= 0).sum())
        n_background = int((y == UNKNOWN).sum())
        background_weight = options.background_share * n_labelled / max(n_background, 1)
        model_options = ModelOptions(
            candidates=hazard_candidates(options.candidates, background_weight=background_weight),
            inner_folds=options.inner_folds,
            seed=options.seed,
            num_threads=options.num_threads,
            evidence=False,
        )
        cv: Any
        if options.model is not None:
            # a model trained elsewhere: no training here, and every labelled cell of this
            # map is land it never saw, so its scores on them are an external validation
            bar.advance("validating the given model")
            model = RiskModel.load(options.model)
            odds_factor = float(model.metadata.get("odds_factor", 1.0))
            fold_names = np.full(len(y), "external", dtype=object)
            sample_flat = np.ravel_multi_index((rows, cols), grid.shape)
            cv = ExternalValidation(
                oof=predict_cells(model, stack, sample_flat),
                folds=[{"fold": "external", "held_out": ["external"], "chosen": model.recipe}],
            )
            lap("validation")
            bar.advance("model given")
        else:
            bar.advance("spatial cross-validation")
            n_groups = len(np.unique(groups[y == POSITIVE]))
            folds = min(options.cv_folds, n_groups)
            if folds < 2:
                msg = (
                    f"spatial cross-validation needs positive cells in at least 2 {scheme}; "
                    f"found {n_groups}: use smaller blocks (--block-size)"
                )
                raise ConfigError(msg)
            fold_names = block_folds(groups, y, folds)
            cv = cross_validate(X, y, fold_names, options=model_options)
            lap("cross_validation")

            bar.advance("training the final model")
            odds_factor = sample.odds_factor
            model = fit(
                X,
                y,
                groups,
                options=model_options,
                metadata={
                    "purpose": "hazard map",
                    "source": layers.source,
                    "background_weight": background_weight,
                    "odds_factor": odds_factor,
                },
            )
            lap("fit")

        bar.advance("predicting every cell")
        probability = np.full(grid.shape, np.nan, dtype=np.float32)
        flat = np.flatnonzero(grid.mask.ravel())
        predicted = predict_cells(model, stack, flat)
        probability.ravel()[flat] = prior_shift(predicted, odds_factor)
        probability *= residual_factors(released, options.released_residual)
        lap("predict")

        bar.advance("writing outputs")
        tmp = Path(tempfile.mkdtemp(prefix=".hazard-map-", dir=_parent(out_dir)))
        try:
            metrics = _write_outputs(
                tmp,
                layers=layers,
                grid=grid,
                options=options,
                inputs=inputs,
                released=released,
                labels=labels,
                probability=probability,
                cv=cv,
                y=y,
                groups=groups,
                fold_names=fold_names,
                scheme=scheme,
                model=model,
                sample=sample,
                odds_factor=odds_factor,
            )
            lap("outputs")
            metrics["timings_s"] = timings
            metrics["timings_s"]["total"] = round(sum(timings.values()), 3)
            (tmp / mf.METRICS).write_text(json.dumps(metrics, indent=2, default=_jsonable))
            out_dir.mkdir(parents=True, exist_ok=True)
            for path in tmp.iterdir():
                path.replace(out_dir / path.name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        bar.advance("done")
    return BuildResult(out_dir, grid, probability, metrics)


def _parent(out_dir: Path) -> Path:
    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    return parent


def _jsonable(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and np.isnan(value):
        return None
    msg = f"cannot write {type(value).__name__} to JSON"
    raise TypeError(msg)


def _write_outputs(
    tmp: Path,
    *,
    layers: Layers,
    grid: Grid,
    options: BuildOptions,
    inputs: dict[str, np.ndarray],
    released: np.ndarray,
    labels: Any,
    probability: np.ndarray,
    cv: Any,
    y: np.ndarray,
    groups: np.ndarray,
    fold_names: np.ndarray,
    scheme: str,
    model: Any,
    sample: TrainingSample,
    odds_factor: float,
) -> dict[str, Any]:
    mf.write_cog(
        tmp / mf.RISK,
        probability,
        grid,
        nodata=float("nan"),
        descriptions=["probability"],
        tags={"minemap": "calibrated probability that the cell holds mines"},
    )
    codes, cuts = zone_codes(probability, grid.mask)
    zones, zone_summary = _zones_frame(codes, probability, grid)
    zones.to_file(tmp / mf.ZONES, layer="zones", driver="GPKG", engine="pyogrio")
    districts = _districts_frame(layers, grid, probability, codes)
    districts.to_csv(tmp / mf.DISTRICTS, index=False, float_format="%.6g")
    model.save(tmp / mf.MODEL)

    input_dtypes = {name: str(a.dtype) for name, a in inputs.items()}
    if options.write_inputs:
        bands = {**inputs, mf.LABEL_BAND: labels.grid, mf.RELEASED_BAND: released}
        mf.write_bands(tmp / mf.INPUTS, bands, grid)

    # out-of-fold probabilities as the map gives them: corrected for the class sampling
    oof = prior_shift(cv.oof, odds_factor)
    per_fold = []
    for i, fold in enumerate(cv.folds):
        held = np.isin(fold_names, fold.get("held_out", []))
        entry = {"fold": fold.get("fold", i + 1), "groups": len(np.unique(groups[held]))}
        entry.update(_scores(y[held], oof[held], sample))
        entry["chosen"] = fold.get("chosen")
        if "skipped" in fold:
            entry["skipped"] = fold["skipped"]
        per_fold.append(entry)
    per_block = []
    for block in np.unique(groups[y >= 0]):
        rows = groups == block
        entry = {"group": str(block), "fold": str(fold_names[rows][0])}
        entry.update(_scores(y[rows], oof[rows], sample))
        per_block.append(entry)
    info = {
        "minemap_version": __version__,
        "source": layers.source,
        "crs": grid.crs,
        "cell_size_m": grid.cell_size,
        "grid": {
            "height": grid.height,
            "width": grid.width,
            "transform": list(grid.transform)[:6],
            "bounds": list(grid.bounds),
        },
        "inputs": input_dtypes,
        "features": [f.name for f in FEATURES],
        "options": {
            k: v
            for k, v in asdict(options).items()
            if k not in ("label_rules", "released_residual")
        },
        "label_rules": asdict(options.label_rules),
        "released_residual": options.released_residual,
        "zones": [{"zone": z, "cumulative_share_of_area": s} for z, s in ZONES],
        "zone_cuts": cuts,
        "odds_factor": odds_factor,
        "model_given": None if options.model is None else str(options.model),
    }
    (tmp / mf.MAP).write_text(json.dumps(info, indent=2, default=_jsonable))
    in_region = grid.mask
    return {
        "minemap_version": __version__,
        "source": layers.source,
        "crs": grid.crs,
        "cell_size_m": grid.cell_size,
        "region_km2": float(in_region.sum() * grid.cell_area_m2 / 1e6),
        "cells_in_region": int(in_region.sum()),
        "features": describe(),
        "features_used": model.feature_names,
        "features_excluded": {
            name: "drawn from the finds that make the positive labels (see LEAKY_FEATURES)"
            if name in LEAKY_FEATURES
            else "excluded by option"
            for name in options.exclude_features
        },
        "features_dropped": model.metadata.get("dropped_features", {}),
        "labels": labels.counts,
        "training": {
            "rows": len(y),
            "positives": int((y == POSITIVE).sum()),
            "negatives": int((y == NEGATIVE).sum()),
            "background_unknown": int((y == UNKNOWN).sum()),
            "positive_sampling_rate": sample.positive_rate,
            "negative_sampling_rate": sample.negative_rate,
            "background_weight_per_cell": model.metadata.get("background_weight"),
            "positives_unlabelled": (
                "unknown cells are never negatives: a random sample of them is given to the "
                "model library as background (label -1); its recipes learn from them as "
                "weighted background and its inner CV, scored on labelled cells only, "
                "chooses the recipe"
            ),
        },
        "cv": {
            "scheme": scheme
            if options.model is None
            else f"external: the model of {options.model} scored on this map's labelled cells",
            "folds": len(per_fold),
            "groups_with_labels": len(np.unique(groups[y >= 0])),
            "pooled": _scores(y, oof, sample),
            "per_fold": per_fold,
            "per_block": per_block,
            "note": "out-of-fold calibrated probabilities of labelled cells; whole groups held "
            "out; hyper-parameters and calibration chosen inside the training folds only",
        },
        "calibration": {
            "method": model.calibrator.method,
            "table": calibration_table(y, oof, sample=sample),
        },
        "model": {
            "chosen": model.metadata.get("chosen"),
            "inner_cv": model.metadata.get("inner_cv"),
            "importance_gain": {
                k: float(v) for k, v in model.feature_importance().head(15).items()
            },
        },
        "zones": zone_summary,
        "zone_cuts": cuts,
        "expected_contaminated_km2": float(np.nansum(probability) * grid.cell_area_m2 / 1e6),
        "released_residual": options.released_residual,
    }
