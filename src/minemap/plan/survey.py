"""Survey targeting: the next areas for NTS/TS teams, by value per team-day.

Candidates are the open suspected hazards (SHA) and the high-risk zones of the
map that no hazard covers and no release has cleared (connected cells above a
probability threshold). A team surveying an area of ``A`` m² with mean
probability ``p`` spends ``A / (rate * settled)`` team-days (``settled``: the
catalogue's ``release_share``, the share of the area covered that its survey
settles) and expects to confirm ``p * A`` m² of mined land and to cancel
``cancel * (1 - p) * A`` m², ``cancel`` being the share of clean land NTS has
cancelled in the store's history (:mod:`minemap.plan.release`); the value per
team-day is either or both.

Results since the map was built move the probabilities *around* them, not
only on the cells surveyed (:func:`update_probability`): in log-odds, a
device found raises its neighbourhood (Gaussian kernel), land released
without finds becomes nearly clean inside and lowers its neighbourhood. So
one find re-ranks the candidates next to it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from minemap.errors import ConfigError
from minemap.plan.inputs import PlanContext, zonal_mean

FIND_LOGIT = 2.5  # log-odds added at a find, fading with distance
NEGATIVE_LOGIT = -1.0  # log-odds added next to released land without finds
KERNEL_M = 300.0  # scale of the neighbourhood a result informs
RELEASED_FACTOR = 0.02  # what is left of the probability inside released land


def _rasterise_points(points: gpd.GeoSeries, shape: tuple[int, int], transform: Any) -> np.ndarray:
    from rasterio.transform import rowcol

    grid = np.zeros(shape)
    if len(points) == 0:
        return grid
    rows, cols = rowcol(transform, points.x.to_numpy(), points.y.to_numpy())
    rows, cols = np.asarray(rows), np.asarray(cols)
    ok = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
    np.add.at(grid, (rows[ok], cols[ok]), 1.0)
    return grid


def update_probability(
    risk: np.ndarray,
    transform: Any,
    *,
    finds: gpd.GeoSeries | None = None,
    released: gpd.GeoSeries | None = None,
) -> np.ndarray:
    """The map's probabilities moved by new finds and new releases (see the module docstring)."""
    from rasterio.features import rasterize
    from scipy.ndimage import gaussian_filter

    p = np.clip(np.nan_to_num(risk, nan=0.0), 1e-6, 1 - 1e-6)
    logit = np.log(p / (1 - p))
    sigma = KERNEL_M / abs(transform.a)
    if finds is not None and len(finds):
        hits = _rasterise_points(finds, p.shape, transform)
        kernel = gaussian_filter(hits, sigma) * (2 * np.pi * sigma**2)
        logit += FIND_LOGIT * np.minimum(kernel, 3.0)
    inside = np.zeros(p.shape, dtype=bool)
    if released is not None and len(released):
        shapes = [(g, 1) for g in released if g is not None and not g.is_empty]
        if shapes:
            inside = rasterize(
                shapes, out_shape=p.shape, transform=transform, fill=0, dtype="uint8"
            ).astype(bool)
            near = gaussian_filter(inside.astype(float), sigma)
            logit += NEGATIVE_LOGIT * np.minimum(near * 2.0, 1.0)
    out = 1.0 / (1.0 + np.exp(-logit))
    out[inside] *= RELEASED_FACTOR
    out[~np.isfinite(risk)] = np.nan
    return out


def _zones(
    p: np.ndarray,
    transform: Any,
    crs: Any,
    exclude: np.ndarray,
    *,
    threshold: float,
    min_cells: int,
) -> gpd.GeoDataFrame:
    """Connected cells above ``threshold`` outside ``exclude``, as polygons."""
    from rasterio.features import shapes
    from scipy.ndimage import label

    mask = (np.nan_to_num(p) >= threshold) & ~exclude
    labels, n = label(mask)
    if n == 0:
        return gpd.GeoDataFrame({"zone": []}, geometry=[], crs=crs)
    sizes = np.bincount(labels.ravel())
    keep = np.flatnonzero(sizes >= min_cells)
    keep = keep[keep > 0]
    geoms, ids = [], []
    from shapely.geometry import shape

    for geom, value in shapes(
        labels.astype("int32"), mask=np.isin(labels, keep), transform=transform
    ):
        geoms.append(shape(geom))
        ids.append(int(value))
    zones = gpd.GeoDataFrame({"zone": ids}, geometry=geoms, crs=crs)
    return zones.dissolve(by="zone").reset_index()


def survey_targets(
    ctx: PlanContext,
    *,
    db_url: str | None = None,
    map_dir: Path | None = None,
    team_type: str = "nts",
    goal: str = "both",
    since: dt.date | None = None,
    threshold: float | None = None,
    finds: gpd.GeoDataFrame | None = None,
    releases: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Candidates ranked by value per team-day after updating the map with new results."""
    import rasterio

    t = ctx.catalogue[team_type]
    if t.role != "survey":
        msg = (
            f"{ctx.catalogue.path}: type {team_type!r} is a {t.role} type; "
            "survey targets need a survey type (e.g. nts, drone)"
        )
        raise ConfigError(msg)
    if goal not in ("both", "confirm", "cancel"):
        msg = f"unknown goal {goal!r} (both, confirm, cancel)"
        raise ConfigError(msg)
    if ctx.risk_path is None:
        msg = "survey targets need the hazard map (risk.tif)"
        raise ConfigError(msg)
    with rasterio.open(ctx.risk_path) as src:
        risk = src.read(1, masked=True).astype("float64").filled(np.nan)
        transform, crs = src.transform, src.crs
    if since is None:
        since = dt.date.fromtimestamp(ctx.risk_path.stat().st_mtime)
    if (finds is None or releases is None) and db_url is not None:
        from minemap.store import open_store

        with open_store(db_url) as store:
            finds = store.read("finds") if finds is None else finds
            releases = store.read("releases") if releases is None else releases
    from minemap.plan.release import DEFAULT_CANCEL_SHARE, release_history

    cancel = release_history(ctx.releases).cancel_share() or DEFAULT_CANCEL_SHARE
    new_finds = _since(finds, "found_on", since)
    new_releases = _since(releases, "released_on", since)
    all_released = (
        releases.geometry
        if releases is not None and len(releases) and "geometry" in releases
        else None
    )
    p_after = update_probability(
        risk,
        transform,
        finds=None if new_finds is None else new_finds.geometry.to_crs(crs),
        released=None if new_releases is None else new_releases.geometry.to_crs(crs),
    )
    hazards = ctx.hazards
    sha = hazards[hazards["type"].astype(str) == "SHA"] if "type" in hazards else hazards
    from rasterio.features import rasterize

    covered = list(hazards.geometry.to_crs(crs))
    if all_released is not None:
        covered += [g for g in all_released.to_crs(crs) if g is not None]
    exclude = (
        rasterize(
            [(g, 1) for g in covered if g is not None and not g.is_empty],
            out_shape=risk.shape,
            transform=transform,
            fill=0,
            dtype="uint8",
        ).astype(bool)
        if covered
        else np.zeros(risk.shape, bool)
    )
    if threshold is None:
        valid = p_after[np.isfinite(p_after)]
        threshold = float(max(0.2, np.quantile(valid, 0.98))) if valid.size else 1.0
    zones = _zones(p_after, transform, crs, exclude, threshold=threshold, min_cells=4)
    cands = []
    if len(sha):
        before, _ = zonal_mean(sha.geometry.to_crs(crs), risk, transform, fill=0.05)
        after, _ = zonal_mean(sha.geometry.to_crs(crs), p_after, transform, fill=0.05)
        cands.append(
            pd.DataFrame(
                {
                    "candidate": sha["ref"].astype(str).to_numpy(),
                    "source": "suspected hazard",
                    "area_m2": sha["area_m2"].to_numpy(dtype="float64"),
                    "p_before": before,
                    "p_after": after,
                    "factor": [
                        t.terrain.get(a, 0) * t.cover.get(b, 0)
                        for a, b in zip(sha["terrain"], sha["cover"], strict=True)
                    ],
                }
            )
        )
    if len(zones):
        before, _ = zonal_mean(zones.geometry, risk, transform)
        after, _ = zonal_mean(zones.geometry, p_after, transform)
        cands.append(
            pd.DataFrame(
                {
                    "candidate": [f"ZONE-{i:05d}" for i in range(1, len(zones) + 1)],
                    "source": "high-risk zone outside hazards",
                    "area_m2": zones.geometry.area.to_numpy(),
                    "p_before": before,
                    "p_after": after,
                    "factor": 1.0,
                }
            )
        )
    if not cands:
        return pd.DataFrame(columns=["rank", "candidate", "source", "value_per_team_day"])
    table = pd.concat(cands, ignore_index=True)
    table = table[table["factor"] > 0].copy()
    rate = t.base_rate() * table["factor"] * t.survey_rate_factor()
    table["team_days"] = table["area_m2"] / rate
    table["expected_confirmed_m2"] = table["p_after"] * table["area_m2"]
    table["expected_cancelled_m2"] = cancel * (1 - table["p_after"]) * table["area_m2"]
    value = {
        "confirm": table["expected_confirmed_m2"],
        "cancel": table["expected_cancelled_m2"],
        "both": table["expected_confirmed_m2"] + table["expected_cancelled_m2"],
    }[goal]
    table["value_per_team_day"] = value / table["team_days"]
    # confirming mined land is what the next step (clearance) needs first: break ties by it
    table = table.sort_values(
        ["value_per_team_day", "expected_confirmed_m2"], ascending=False, kind="stable"
    )
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    table["updated_since"] = since.isoformat()
    return table.drop(columns="factor").round(4).reset_index(drop=True)


def _since(frame: gpd.GeoDataFrame | None, column: str, since: dt.date) -> gpd.GeoDataFrame | None:
    if frame is None or not len(frame) or column not in frame:
        return None
    dates = pd.to_datetime(frame[column], errors="coerce").dt.date
    out = frame[dates >= since]
    return out if len(out) else None
