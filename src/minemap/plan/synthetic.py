"""A seeded synthetic planning problem, for tests, benchmarks and trying the planner alone.

It is not the scenario generator (:mod:`minemap.scenario` builds a whole world
with a hidden truth): it makes only what the planner reads, shaped like the
store's records (hazards, assets, settlements, accidents, victims, activities
and their releases)
and a hazard-map folder (``risk.tif``, ``dem.tif``), at any size, in seconds.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point, Polygon

from minemap.plan.catalogue import Catalogue, load_catalogue
from minemap.plan.inputs import (
    PlanContext,
    add_land_release,
    prepare_assets,
    prepare_hazards,
    with_hazard_type,
)

CRS = "EPSG:32638"
ORIGIN = (600_000.0, 4_400_000.0)  # Karabakh lowlands and foothills, UTM 38N
CONTAMINATION_MIX = {"AP": 0.4, "AT": 0.15, "UXO": 0.15, "CMR": 0.08, "IED": 0.02, "mixed": 0.2}
LAND_USE_MIX = {
    "farmland": 0.35,
    "pasture": 0.25,
    "forest": 0.15,
    "road": 0.08,
    "housing": 0.07,
    "infrastructure": 0.05,
    "other": 0.05,
}
FLEET_MIX = {"manual": 0.5, "dog": 0.18, "machine": 0.1, "drone": 0.07, "nts": 0.1, "eod": 0.05}


def _pick(rng: np.random.Generator, mix: dict[str, float], n: int) -> np.ndarray:
    keys = list(mix)
    p = np.array([mix[k] for k in keys])
    return np.array(keys)[rng.choice(len(keys), size=n, p=p / p.sum())]


def write_rasters(
    folder: Path, width_m: float, height_m: float, seed: int, cell: float = 50.0
) -> tuple[Path, Path]:
    """``risk.tif`` (probability, high near a north-south 'front line') and ``dem.tif``."""
    import rasterio
    from affine import Affine
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    cols, rows = int(width_m // cell), int(height_m // cell)
    x = (np.arange(cols) + 0.5) / cols
    y = (np.arange(rows) + 0.5) / rows
    xx, yy = np.meshgrid(x, y)
    front = 0.45 + 0.08 * np.sin(yy * 6.0)
    noise = gaussian_filter(rng.normal(size=(rows, cols)), 6) * 8
    logit = -4.0 + 3.0 * np.exp(-(((xx - front) / 0.06) ** 2)) + noise
    risk = (1.0 / (1.0 + np.exp(-logit))).astype("float32")
    # mountains in the west, plains in the east (metres)
    # (the west third is steep, the east flat; a little roughness everywhere)
    hills = gaussian_filter(rng.normal(size=(rows, cols)), 8)
    dem = (
        2000 * np.exp(-4.0 * xx) + 200 * hills / (hills.std() + 1e-9) * np.exp(-2.0 * xx)
    ).astype("float32")
    transform = Affine(cell, 0.0, ORIGIN[0], 0.0, -cell, ORIGIN[1] + height_m)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in (("risk.tif", risk), ("dem.tif", dem)):
        path = folder / name
        with rasterio.open(
            path,
            "w",
            driver="GTiff",
            width=cols,
            height=rows,
            count=1,
            dtype="float32",
            crs=CRS,
            transform=transform,
            nodata=-9999.0,
        ) as dst:
            dst.write(data, 1)
        paths.append(path)
    return paths[0], paths[1]


def synthetic_records(
    n_hazards: int,
    n_assets: int,
    *,
    seed: int = 0,
    width_m: float = 40_000.0,
    height_m: float = 30_000.0,
) -> dict[str, pd.DataFrame]:
    """Frames shaped like the store's records: hazards, assets, settlements, accidents..."""
    rng = np.random.default_rng(seed)
    x0, y0 = ORIGIN
    cx = x0 + rng.uniform(0.03, 0.97, n_hazards) * width_m
    cy = y0 + rng.uniform(0.03, 0.97, n_hazards) * height_m
    area = np.clip(rng.lognormal(np.log(40_000), 1.0, n_hazards), 2_000, 2_000_000)
    ratio = rng.uniform(0.5, 2.0, n_hazards)
    w = np.sqrt(area * ratio)
    h = area / w
    polys = [
        Polygon(
            [
                (x - a / 2, y - b / 2),
                (x + a / 2, y - b / 2),
                (x + a / 2, y + b / 2),
                (x - a / 2, y + b / 2),
            ]
        )
        for x, y, a, b in zip(cx, cy, w, h, strict=True)
    ]
    recorded = [
        dt.date(2021, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 5 * 365, n_hazards)
    ]
    n_settle = max(5, n_hazards // 25)
    settlements = gpd.GeoDataFrame(
        {
            "id": np.arange(1, n_settle + 1),
            "ref": [f"SE-{i:06d}" for i in range(1, n_settle + 1)],
            "name": [f"Settlement {i}" for i in range(1, n_settle + 1)],
            "population": rng.integers(0, 3000, n_settle),
            "displaced": rng.integers(0, 5000, n_settle),
            "planned_return_year": rng.integers(2025, 2035, n_settle),
            "status": _pick(rng, {"inhabited": 0.4, "partly_ruined": 0.3, "ruined": 0.3}, n_settle),
        },
        geometry=[
            Point(x, y)
            for x, y in zip(
                x0 + rng.uniform(0, width_m, n_settle),
                y0 + rng.uniform(0, height_m, n_settle),
                strict=True,
            )
        ],
        crs=CRS,
    )
    hazards = gpd.GeoDataFrame(
        {
            "id": np.arange(1, n_hazards + 1),
            "ref": [f"HA-{i:06d}" for i in range(1, n_hazards + 1)],
            "type": _pick(rng, {"SHA": 0.75, "CHA": 0.25}, n_hazards),
            "contamination": _pick(rng, CONTAMINATION_MIX, n_hazards),
            "status": "open",
            "area_m2": area,
            "land_use": _pick(rng, LAND_USE_MIX, n_hazards),
            "recorded_on": recorded,
            "settlement_id": rng.integers(1, n_settle + 1, n_hazards),
        },
        geometry=polys,
        crs=CRS,
    )
    types = _pick(rng, FLEET_MIX, n_assets)
    # keep at least one of each clearance type so every contamination has a taker
    for i, key in enumerate(("manual", "dog", "machine", "eod", "nts", "drone")):
        if i < n_assets:
            types[i] = key
    assets = pd.DataFrame(
        {
            "id": np.arange(1, n_assets + 1),
            "ref": [f"AS-{i:06d}" for i in range(1, n_assets + 1)],
            "name": [f"{t} {i}" for i, t in enumerate(types, 1)],
            "type": types,
            "deminers": np.where(types == "manual", rng.integers(6, 12, n_assets), 0),
            "status": "active",
            "commissioned_on": dt.date(2021, 1, 1),
            "productivity_m2_day": np.nan,
        }
    )
    n_acc = max(3, n_hazards // 20)
    hz = rng.integers(0, n_hazards, n_acc)
    accidents = gpd.GeoDataFrame(
        {
            "id": np.arange(1, n_acc + 1),
            "ref": [f"AD-{i:06d}" for i in range(1, n_acc + 1)],
            "occurred_on": [
                dt.date(2021, 1, 1) + dt.timedelta(days=int(d))
                for d in rng.integers(0, 5 * 365, n_acc)
            ],
            "hazard_id": hz + 1,
        },
        geometry=[Point(cx[i] + rng.normal(0, 300), cy[i] + rng.normal(0, 300)) for i in hz],
        crs=CRS,
    )
    victims = pd.DataFrame(
        {
            "id": np.arange(1, n_acc + 1),
            "ref": [f"VI-{i:06d}" for i in range(1, n_acc + 1)],
            "accident_id": np.arange(1, n_acc + 1),
            "outcome": _pick(rng, {"killed": 0.2, "injured": 0.8}, n_acc),
            "group": "civilian",
        }
    )
    n_rel = max(10, n_hazards // 5)
    method = _pick(rng, {"cancelled": 0.6, "reduced": 0.25, "cleared": 0.15}, n_rel)
    # each release comes from an activity on a hazard: NTS cancels, TS reduces, clearance clears
    activities = pd.DataFrame(
        {
            "id": np.arange(1, n_rel + 1),
            "ref": [f"AC-{i:06d}" for i in range(1, n_rel + 1)],
            "type": pd.Series(method).map(
                {"cancelled": "NTS", "reduced": "TS", "cleared": "clearance"}
            ),
            "hazard_id": rng.integers(1, n_hazards + 1, n_rel),
            "status": _pick(rng, {"completed": 0.9, "ongoing": 0.1}, n_rel),
        }
    )
    releases = pd.DataFrame(
        {
            "id": np.arange(1, n_rel + 1),
            "activity_id": activities["id"].to_numpy(),
            "method": method,
            "released_on": [
                dt.date(2022, 1, 1) + dt.timedelta(days=int(d))
                for d in rng.integers(0, 4 * 365, n_rel)
            ],
            "area_m2": rng.lognormal(np.log(30_000), 0.8, n_rel),
        }
    )
    return {
        "hazards": hazards,
        "assets": assets,
        "settlements": settlements,
        "accidents": accidents,
        "victims": victims,
        "releases": releases,
        "activities": activities,
    }


def synthetic_context(
    n_hazards: int,
    n_assets: int,
    folder: Path,
    *,
    seed: int = 0,
    start: dt.date = dt.date(2026, 1, 1),
    catalogue: Catalogue | None = None,
) -> PlanContext:
    """A whole plan context: synthetic records plus rasters written into ``folder``."""
    catalogue = catalogue or load_catalogue()
    side = max(20_000.0, float(np.sqrt(n_hazards) * 600))
    risk, dem = write_rasters(folder, side * 4 / 3, side, seed)
    rec = synthetic_records(n_hazards, n_assets, seed=seed, width_m=side * 4 / 3, height_m=side)
    hazards = prepare_hazards(rec["hazards"], catalogue, risk_path=risk, dem_path=dem)
    releases = with_hazard_type(rec["releases"], rec["activities"], rec["hazards"])
    add_land_release(hazards, rec["activities"], releases)
    return PlanContext(
        hazards=hazards,
        assets=prepare_assets(rec["assets"], catalogue),
        catalogue=catalogue,
        start=start,
        settlements=rec["settlements"],
        accidents=rec["accidents"],
        victims=rec["victims"],
        releases=releases,
        activities=rec["activities"],
        risk_path=risk,
        crs=CRS,
    )
