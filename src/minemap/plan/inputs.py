"""What the planner reads: hazards with their map-derived attributes, assets, people, history.

:func:`load_context` reads the store (``open_store(url).read(kind)``) and the
hazard-map folder (``risk.tif``: calibrated probability per cell that it is
contaminated) and returns a :class:`PlanContext`, the one object every planning
step works from. :func:`prepare_hazards` adds to each open hazard, by zonal
statistics on the rasters (rasterio):

* ``p_mean``: mean probability over its cells, so ``expected_m2 = p_mean * area``
  is the expected contaminated area (the sum of probability times cell area);
* ``slope_deg`` and ``terrain`` (slope band of the catalogue) from the DEM when
  one is kept with the store or in the map folder, else flat;
* ``cover`` (open, forest, built) from the blocked land use;
* ``stage`` (new, surveyed, confirmed) from its activities, and the expected
  land release of the model of :mod:`minemap.plan.release`: ``cancel_share``
  (share of its clean land NTS cancels) and ``clear_share`` (share needing
  clearance), learned from the store's releases.

Hazards smaller than a cell take the probability at a point inside them, so a
small hazard is never scored as certainly clean.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from minemap.errors import NotFoundError, ValidationError
from minemap.plan.catalogue import Catalogue, load_catalogue

log = logging.getLogger(__name__)

COVER_OF_LAND_USE = {"forest": "forest", "housing": "built", "infrastructure": "built"}


@dataclass
class PlanContext:
    """Everything a plan is made from, in the store's metric CRS."""

    hazards: gpd.GeoDataFrame
    assets: pd.DataFrame
    catalogue: Catalogue
    start: dt.date
    settlements: gpd.GeoDataFrame | None = None
    accidents: gpd.GeoDataFrame | None = None
    victims: pd.DataFrame | None = None
    releases: pd.DataFrame | None = None
    roads: gpd.GeoDataFrame | None = None
    activities: pd.DataFrame | None = None
    risk_path: Path | None = None
    crs: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def first_of_month(day: dt.date) -> dt.date:
    return dt.date(day.year, day.month, 1)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + (day.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


# --- zonal statistics ----------------------------------------------------------------


def _read_band(path: Path) -> tuple[np.ndarray, Any, Any]:
    import rasterio

    with rasterio.open(path) as src:
        data = src.read(1, masked=True).astype("float64")
        values = np.asarray(data.filled(np.nan))
        return values, src.transform, src.crs


def zonal_mean(
    geoms: gpd.GeoSeries, values: np.ndarray, transform: Any, *, fill: float = np.nan
) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``values`` over the cells whose centres fall in each geometry, and the cell count.

    Overlapping geometries: a cell counts for the last one drawn (hazards rarely
    overlap, and the planner only needs their typical value). Geometries that
    cover no cell centre take the value at a point inside them; ``fill`` where
    that point is outside the raster or on nodata.
    """
    from rasterio.features import rasterize
    from rasterio.transform import rowcol

    n = len(geoms)
    if n == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    shapes = ((g, i + 1) for i, g in enumerate(geoms) if g is not None and not g.is_empty)
    labels = rasterize(
        shapes, out_shape=values.shape, transform=transform, fill=0, dtype="int32"
    ).ravel()
    flat = values.ravel()
    good = (labels > 0) & np.isfinite(flat)
    sums = np.bincount(labels[good], weights=flat[good], minlength=n + 1)[1:]
    counts = np.bincount(labels[good], minlength=n + 1)[1:]
    means = np.full(n, fill, dtype="float64")
    has = counts > 0
    means[has] = sums[has] / counts[has]
    missing = np.flatnonzero(~has)
    if missing.size:
        points = geoms.iloc[missing].representative_point()
        rows, cols = rowcol(transform, points.x.to_numpy(), points.y.to_numpy())
        rows = np.asarray(rows)
        cols = np.asarray(cols)
        inside = (rows >= 0) & (rows < values.shape[0]) & (cols >= 0) & (cols < values.shape[1])
        sampled = np.full(missing.size, fill)
        sampled[inside] = values[rows[inside], cols[inside]]
        sampled[~np.isfinite(sampled)] = fill
        means[missing] = sampled
    return means, counts


def slope_degrees(dem: np.ndarray, transform: Any) -> np.ndarray:
    """Slope in degrees of a DEM on a metric grid (central differences)."""
    dy, dx = np.gradient(dem, abs(transform.e), abs(transform.a))
    return np.degrees(np.arctan(np.hypot(dx, dy)))


def raster_zonal_mean(geoms: gpd.GeoSeries, path: Path, *, slope: bool = False) -> np.ndarray:
    """Zonal mean of a raster file (or of its slope) over each geometry."""
    values, transform, crs = _read_band(path)
    if crs is not None and geoms.crs is not None and not geoms.crs.equals(crs):
        geoms = geoms.to_crs(crs)
    if slope:
        if crs is not None and not crs.is_projected:
            msg = f"{path}: the DEM must be on a metric grid to compute slopes (got {crs})"
            raise ValidationError(msg)
        values = slope_degrees(values, transform)
    means, _ = zonal_mean(geoms, values, transform)
    return means


# --- hazards -------------------------------------------------------------------------


def prepare_hazards(
    hazards: gpd.GeoDataFrame,
    catalogue: Catalogue,
    *,
    risk_path: Path | None = None,
    dem_path: Path | None = None,
    default_p: float | None = None,
) -> gpd.GeoDataFrame:
    """Open hazards with area, expected contamination, terrain and cover added.

    Refuses a hazard with zero area (one line naming its ref) and a
    contamination the catalogue does not know.
    """
    if "status" in hazards.columns:
        hazards = hazards[hazards["status"].fillna("open") == "open"]
    if hazards.empty:
        msg = "the store holds no open hazards to plan"
        raise NotFoundError(msg)
    out = hazards.copy()
    if "ref" not in out.columns:
        out["ref"] = [f"HA-{i:06d}" for i in range(1, len(out) + 1)]
    if "id" not in out.columns:
        out["id"] = np.arange(1, len(out) + 1)
    geom_area = out.geometry.area.to_numpy(dtype="float64")
    area = geom_area.copy()
    if "area_m2" in out.columns:
        given = pd.to_numeric(out["area_m2"], errors="coerce").to_numpy(dtype="float64")
        area = np.where(np.isfinite(given), given, geom_area)
    zero = np.flatnonzero(~(area > 0) | ~(geom_area > 0))
    if zero.size:
        ref = out["ref"].iloc[zero[0]]
        msg = f"hazard {ref} has zero area; fix its polygon or close it before planning"
        raise ValidationError(msg, kind="hazards", field="area_m2")
    out["area_m2"] = area
    known = set(catalogue.contamination_classes)
    contamination = out["contamination"].fillna("mixed").astype(str)
    bad = ~contamination.isin(known)
    if bad.any():
        ref = out["ref"][bad].iloc[0]
        msg = f"hazard {ref}: contamination {contamination[bad].iloc[0]!r} is not in the catalogue"
        raise ValidationError(msg, kind="hazards", field="contamination")
    out["contamination"] = contamination
    if risk_path is not None:
        p = raster_zonal_mean(out.geometry, risk_path)
    else:
        p = np.full(len(out), np.nan)
    if default_p is None:
        # Without a map (or off it), fall back to the published share of suspected
        # land that holds mines: fewer than 5% (CISR Journal 13.2).
        default_p = 0.05
    p = np.where(np.isfinite(p), p, default_p)
    out["p_mean"] = np.clip(p, 0.0, 1.0)
    out["expected_m2"] = out["p_mean"] * out["area_m2"]
    if dem_path is not None:
        slope = raster_zonal_mean(out.geometry, dem_path, slope=True)
        slope = np.where(np.isfinite(slope), slope, 0.0)
    else:
        slope = np.zeros(len(out))
    out["slope_deg"] = slope
    out["terrain"] = [catalogue.terrain_class(s) for s in slope]
    land_use = out["land_use"] if "land_use" in out.columns else pd.Series(None, index=out.index)
    out["cover"] = [COVER_OF_LAND_USE.get(str(u), "open") for u in land_use]
    return out.reset_index(drop=True)


# --- assets ----------------------------------------------------------------------------


def prepare_assets(assets: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Active assets with their base rate (m² per working day on reference ground)."""
    if assets.empty:
        msg = "the store holds no assets (teams, dogs, machines...) to plan with"
        raise NotFoundError(msg)
    out = assets.copy()
    if "status" in out.columns:
        out = out[out["status"].fillna("active") != "retired"]
    if "ref" not in out.columns:
        out["ref"] = [f"AS-{i:06d}" for i in range(1, len(out) + 1)]
    if "id" not in out.columns:
        out["id"] = np.arange(1, len(out) + 1)
    catalogue.check_types(dict(zip(out["ref"].astype(str), out["type"].astype(str), strict=True)))
    rates = []
    override = out["productivity_m2_day"] if "productivity_m2_day" in out.columns else None
    deminers = out["deminers"] if "deminers" in out.columns else None
    for i, key in enumerate(out["type"].astype(str)):
        given = None if override is None else override.iloc[i]
        if given is not None and pd.notna(given) and float(given) > 0:
            rates.append(float(given))
            continue
        people = None if deminers is None or pd.isna(deminers.iloc[i]) else float(deminers.iloc[i])
        rates.append(catalogue[key].base_rate(people))
    out["rate_m2_day"] = rates
    if "commissioned_on" in out.columns:
        out["available_from"] = pd.to_datetime(out["commissioned_on"], errors="coerce").dt.date
    else:
        out["available_from"] = None
    out["available_until"] = None
    out["in_maintenance"] = (
        out["status"].fillna("active") == "maintenance" if "status" in out.columns else False
    )
    return out.reset_index(drop=True)


# --- the store and the map folder --------------------------------------------------------


def _read(store: Any, kind: str) -> pd.DataFrame | None:
    try:
        frame = store.read(kind)
    except NotFoundError:
        return None
    return frame if len(frame) else None


def find_dem(store: Any, map_dir: Path | None) -> Path | None:
    """The DEM kept with the store, else one in the map folder, else None."""
    try:
        path = store.raster("dem") if store is not None else None
    except (NotFoundError, OSError):
        path = None
    if path is not None and Path(path).exists():
        return Path(path)
    if map_dir is not None and (map_dir / "dem.tif").exists():
        return map_dir / "dem.tif"
    return None


def load_context(
    db_url: str,
    map_dir: Path,
    *,
    start: dt.date | None = None,
    catalogue_path: Path | None = None,
) -> PlanContext:
    """Read the store at ``db_url`` and the hazard map in ``map_dir`` into a plan context."""
    from minemap.store import open_store

    risk = map_dir / "risk.tif"
    if not risk.exists():
        msg = f"{map_dir}: no risk.tif; build it with 'minemap hazard-map build'"
        raise NotFoundError(msg)
    catalogue = load_catalogue(catalogue_path)
    with open_store(db_url) as store:
        hazards = _read(store, "hazards")
        if hazards is None:
            msg = f"{db_url}: the store holds no hazards; import some first"
            raise NotFoundError(msg)
        assets = _read(store, "assets")
        if assets is None:
            msg = f"{db_url}: the store holds no assets; import teams, dogs and machines first"
            raise NotFoundError(msg)
        dem = find_dem(store, map_dir)
        activities = _read(store, "activities")
        releases = _read(store, "releases")
        prepared = prepare_hazards(hazards, catalogue, risk_path=risk, dem_path=dem)
        releases = with_hazard_type(releases, activities, hazards)
        add_land_release(prepared, activities, releases)
        return PlanContext(
            hazards=prepared,
            assets=prepare_assets(assets, catalogue),
            catalogue=catalogue,
            start=first_of_month(start or dt.date.today()),
            settlements=_read(store, "settlements"),
            accidents=_read(store, "accidents"),
            victims=_read(store, "victims"),
            releases=releases,
            roads=_read(store, "roads"),
            activities=activities,
            risk_path=risk,
            crs=getattr(store, "crs", None),
        )


def with_hazard_type(
    releases: pd.DataFrame | None, activities: pd.DataFrame | None, hazards: pd.DataFrame
) -> pd.DataFrame | None:
    """The releases with ``hazard_id`` and ``hazard_type`` (SHA, CHA) through their activity."""
    if releases is None or activities is None or "activity_id" not in releases:
        return releases
    out = releases.copy()
    of_activity = pd.Series(
        pd.to_numeric(activities["hazard_id"], errors="coerce").to_numpy(),
        index=pd.to_numeric(activities["id"], errors="coerce").to_numpy(),
    )
    of_activity = of_activity[~of_activity.index.duplicated()]
    hazard = of_activity.reindex(pd.to_numeric(out["activity_id"], errors="coerce").to_numpy())
    types = pd.Series(
        hazards["type"].astype(str).to_numpy(),
        index=pd.to_numeric(hazards["id"], errors="coerce").to_numpy(),
    )
    types = types[~types.index.duplicated()]
    out["hazard_id"] = hazard.to_numpy()
    out["hazard_type"] = types.reindex(hazard.to_numpy()).to_numpy()
    return out


def add_land_release(
    hazards: pd.DataFrame, activities: pd.DataFrame | None, releases: pd.DataFrame | None
) -> None:
    """Add ``stage``, ``cancel_share`` and ``clear_share`` to prepared hazards (in place)."""
    from minemap.plan.release import hazard_stages, land_release, release_history

    hazards["stage"] = hazard_stages(hazards, activities)
    land = land_release(hazards, release_history(releases))
    hazards["cancel_share"] = land.cancel
    hazards["clear_share"] = land.clear
