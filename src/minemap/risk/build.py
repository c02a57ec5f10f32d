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
   residual factor of its method (:data:`RELEASED_RESIDUAL`).
9. **Outputs** (see :mod:`minemap.risk.mapfolder`): ``risk.tif``,
   ``zones.gpkg``, ``districts.csv``, ``metrics.json``, ``model.zip``,
   ``inputs.tif``, ``map.json``.
"""

from __future__ import annotations

import json
import logging
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

from minemap import __version__
from minemap.errors import ConfigError
from minemap.features.catalogue import FEATURES, describe
from minemap.features.inputs import rasterise_inputs
from minemap.features.runner import FeatureStack, compute_features
from minemap.grid import rasterize as rz
from minemap.grid.grid import Grid
from minemap.grid.layers import Layers
from minemap.grid.region import Region
from minemap.progress import steps
from minemap.risk import mapfolder as mf
from minemap.risk.labels import NEGATIVE, POSITIVE, UNKNOWN, LabelRules, make_labels

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


def hazard_candidates(
    chosen: tuple[Any, ...] | None = None, *, background_weight: float = 1.0
) -> tuple[Any, ...]:
    """The model recipes a hazard map chooses from (by the library's inner CV).

    By default the library's shallow recipe twice: on labelled cells only, and
    with the unknown cells as background of weight ``background_weight`` each.
    ``chosen`` picks the library's recipes by name, or gives
    :class:`~minemap.risk.model.Candidate` recipes outright.
    """
    from dataclasses import replace

    from minemap.risk.model import DEFAULT_CANDIDATES, Candidate

    known = {c.name: c for c in DEFAULT_CANDIDATES}
    if chosen is None:
        shallow = known["shallow"]
        return (
            shallow,
            replace(shallow, name="shallow+background", background_weight=background_weight),
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
    cv_folds: int = 5
    #: unknown cells sampled as background for the model (never as negatives)
    background_cells: int = 60_000
    #: total weight of the background as a share of the labelled cells' count
    background_share: float = 0.5
    #: labelled cells beyond this are sampled (same rate for both classes)
    max_labelled_cells: int = 150_000
    #: features computed and documented but not given to the model
    exclude_features: tuple[str, ...] = LEAKY_FEATURES
    inner_folds: int = 3
    #: the model library's recipes to choose from, by name or as Candidate objects
    #: (None: the recipes that learn from background)
    candidates: tuple[Any, ...] | None = None
    seed: int = 42
    num_threads: int = 0
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
                n_workers=2, threads_per_worker=1, dashboard_address=None, processes=True
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


def _training_rows(
    labels: np.ndarray,
    mask: np.ndarray,
    n_background: int,
    seed: int,
    max_labelled: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the labelled cells plus a random sample of unknown cells.

    Beyond ``max_labelled`` labelled cells, a uniform sample keeps both classes
    at the same rate, so the share of positives (and the calibration) holds.
    """
    labelled = np.flatnonzero(((labels == POSITIVE) | (labels == NEGATIVE)).ravel() & mask.ravel())
    unknown = np.flatnonzero((labels == UNKNOWN).ravel() & mask.ravel())
    rng = np.random.default_rng(seed)
    if max_labelled is not None and len(labelled) > max_labelled:
        labelled = np.sort(rng.choice(labelled, size=max_labelled, replace=False))
    if len(unknown) > n_background:
        unknown = np.sort(rng.choice(unknown, size=n_background, replace=False))
    flat = np.concatenate([labelled, unknown])
    return np.unravel_index(flat, labels.shape)  # type: ignore[return-value]


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


def calibration_table(
    labels: np.ndarray, probability: np.ndarray, bins: int = 10
) -> list[dict[str, Any]]:
    """Reliability table of out-of-fold probabilities on labelled cells, by decile of score."""
    keep = (labels >= 0) & np.isfinite(probability)
    y, p = labels[keep].astype(float), probability[keep]
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
                "observed_positive_rate": float(y[part].mean()),
                "min_probability": float(p[part].min()),
                "max_probability": float(p[part].max()),
            }
        )
    return out


def _scores(labels: np.ndarray, probability: np.ndarray) -> dict[str, Any]:
    from minemap.risk.validation import scores

    keep = labels >= 0
    auc, ap = scores(labels, probability) if keep.any() else (np.nan, np.nan)
    return {
        "roc_auc": None if np.isnan(auc) else round(auc, 5),
        "average_precision": None if np.isnan(ap) else round(ap, 5),
        "positives": int((labels[keep] == 1).sum()),
        "negatives": int((labels[keep] == 0).sum()),
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
    """Polygons of the zones with their area and expected contaminated area."""
    area = grid.cell_area_m2
    geoms, zone_ids = [], []
    for geometry, value in rasterio.features.shapes(
        codes, mask=codes > 0, transform=grid.transform, connectivity=4
    ):
        geoms.append(geometry)
        zone_ids.append(int(value))
    polygons = shapely.from_geojson([json.dumps(g) for g in geoms]) if geoms else np.array([])
    frame = gpd.GeoDataFrame(
        {"zone_code": np.asarray(zone_ids, dtype=np.int32)},
        geometry=gpd.GeoSeries(polygons, crs=grid.crs),
        crs=grid.crs,
    )
    frame["zone"] = [ZONES[z - 1][0] for z in frame["zone_code"]]
    frame["area_m2"] = frame.geometry.area
    # expected contaminated area per polygon: probability summed over its cells
    labels_img = rasterio.features.rasterize(
        ((g, i + 1) for i, g in enumerate(frame.geometry)),
        out_shape=grid.shape,
        transform=grid.transform,
        fill=0,
        dtype="int32",
    )
    inside = labels_img > 0
    sums = np.bincount(
        labels_img[inside], weights=probability[inside].astype(np.float64), minlength=len(frame) + 1
    )
    frame["expected_contaminated_m2"] = sums[1:] * area
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


def _released_codes(layers: Layers, grid: Grid) -> np.ndarray:
    out = np.zeros(grid.shape, dtype=np.uint8)
    releases = layers.get("releases")
    if releases.empty or "method" not in releases.columns:
        return out
    # the strongest release of a cell wins: cleared over reduced over cancelled
    for method in ("cancelled", "reduced", "cleared"):
        chosen = releases[releases["method"].astype("string").str.lower().eq(method).fillna(False)]
        out[rz.burn(grid, list(chosen.geometry))] = mf.RELEASE_CODES[method]
    return out


# --- the pipeline ------------------------------------------------------------------


def build_hazard_map(
    layers: Layers, out_dir: Path, options: BuildOptions | None = None
) -> BuildResult:
    """Build the hazard map of ``layers`` into ``out_dir`` (see the module docs)."""
    from minemap.risk.model import ModelOptions, fit
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
        released = _released_codes(layers, grid)
        lap("rasterise")

        bar.advance("computing features")
        with _dask_runner(options.dask) as runner:
            stack = compute_features(
                inputs, grid.cell_size, dask=runner, tile_size=options.tile_size
            )
        lap("features")

        bar.advance("labelling cells")
        labels = make_labels(
            layers,
            grid,
            finds=inputs["finds"],
            accidents=inputs["accidents"],
            rules=options.label_rules,
        )
        if labels.positives == 0 or labels.negatives == 0:
            msg = (
                f"{layers.source}: the records give {labels.positives} positive and "
                f"{labels.negatives} negative cells; a hazard map needs both (finds or confirmed "
                "hazards, and released land)"
            )
            raise ConfigError(msg)
        rows, cols = _training_rows(
            labels.grid,
            grid.mask,
            options.background_cells,
            options.seed,
            options.max_labelled_cells,
        )
        y = labels.grid[rows, cols].astype(np.int8)
        if options.groups == "districts":
            index, table = district_index(layers, grid)
            refs = np.append(table["ref"].astype(str).to_numpy(), "(none)")
            groups = refs[index[rows, cols]]
            scheme = "districts"
        else:
            groups = spatial_groups(grid, rows, cols, options.block_size_m)
            scheme = f"square blocks of {options.block_size_m:g} m"
        unknown_names = sorted(set(options.exclude_features) - set(stack.names))
        if unknown_names:
            msg = f"cannot exclude unknown feature(s) {', '.join(unknown_names)}"
            raise ConfigError(msg)
        X = _table(stack, rows, cols).drop(columns=list(options.exclude_features))
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
        bar.advance("spatial cross-validation")
        n_groups = len(np.unique(groups[y == POSITIVE]))
        folds = min(options.cv_folds, n_groups)
        if folds < 2:
            msg = (
                f"spatial cross-validation needs positive cells in at least 2 {scheme}; found "
                f"{n_groups}: use smaller blocks (--block-size)"
            )
            raise ConfigError(msg)
        fold_names = block_folds(groups, y, folds)
        cv = cross_validate(X, y, fold_names, options=model_options)
        lap("cross_validation")

        bar.advance("training the final model")
        model = fit(
            X,
            y,
            groups,
            options=model_options,
            metadata={
                "purpose": "hazard map",
                "source": layers.source,
                "background_weight": background_weight,
            },
        )
        lap("fit")

        bar.advance("predicting every cell")
        probability = np.full(grid.shape, np.nan, dtype=np.float32)
        flat = np.flatnonzero(grid.mask.ravel())
        out_flat = probability.ravel()
        values = stack.values.reshape(stack.values.shape[0], -1)
        for start in range(0, len(flat), PREDICT_CHUNK):
            chunk = flat[start : start + PREDICT_CHUNK]
            frame = pd.DataFrame(values[:, chunk].T, columns=stack.names)
            out_flat[chunk] = model.predict_proba(frame).astype(np.float32)
        for method, code in mf.RELEASE_CODES.items():
            factor = options.released_residual.get(method, 1.0)
            hit = (released == code) & grid.mask
            probability[hit] *= np.float32(factor)
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
        names = list(inputs)
        bands = np.empty((len(names) + 2, *grid.shape), dtype=np.float32)
        for i, name in enumerate(names):
            bands[i] = inputs[name]
        bands[-2] = labels.grid
        bands[-1] = released
        mf.write_cog(
            tmp / mf.INPUTS,
            bands,
            grid,
            descriptions=[*names, mf.LABEL_BAND, mf.RELEASED_BAND],
            resampling="NEAREST",
        )

    per_fold = []
    for i, fold in enumerate(cv.folds):
        held = np.isin(fold_names, fold.get("held_out", []))
        entry = {"fold": fold.get("fold", i + 1), "groups": len(np.unique(groups[held]))}
        entry.update(_scores(y[held], cv.oof[held]))
        entry["chosen"] = fold.get("chosen")
        if "skipped" in fold:
            entry["skipped"] = fold["skipped"]
        per_fold.append(entry)
    per_block = []
    for block in np.unique(groups[y >= 0]):
        rows = groups == block
        entry = {"group": str(block), "fold": str(fold_names[rows][0])}
        entry.update(_scores(y[rows], cv.oof[rows]))
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
            "background_weight_per_cell": model.metadata.get("background_weight"),
            "positives_unlabelled": (
                "unknown cells are never negatives: a random sample of them is given to the "
                "model library as background (label -1); its recipes learn from them as "
                "weighted background and its inner CV, scored on labelled cells only, "
                "chooses the recipe"
            ),
        },
        "cv": {
            "scheme": scheme,
            "folds": len(per_fold),
            "groups_with_labels": len(np.unique(groups[y >= 0])),
            "pooled": _scores(y, cv.oof),
            "per_fold": per_fold,
            "per_block": per_block,
            "note": "out-of-fold calibrated probabilities of labelled cells; whole groups held "
            "out; hyper-parameters and calibration chosen inside the training folds only",
        },
        "calibration": {
            "method": model.calibrator.method,
            "table": calibration_table(y, cv.oof),
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
