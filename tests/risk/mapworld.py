"""A tiny hand-made hazard-map world written as a scenario folder.

12 km by 10 km in UTM 38N around (600 000, 4 400 000). A wavy north-south
front line at x = 6 km; positions on both sides 800 m from it, facing it; AP
belts 100-300 m in front of some positions (the truth); an east-west main
road mined where it nears the line; suspected areas drawn around the belts
(larger than them); part of one belt cleared with finds, some land cancelled
far from the line; two accidents; three settlements; a DEM rising westward
and blocks of land cover. ``truth.gpkg`` holds the mines (``found`` True for
those under the cleared polygon).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from affine import Affine
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon, box

X0, Y0 = 600_000.0, 4_400_000.0
W, H = 12_000.0, 10_000.0
CRS = "EPSG:32638"


def _line_x(y: np.ndarray | float) -> np.ndarray:
    return 6_000.0 + 300.0 * np.sin(np.asarray(y) / 1_500.0)


def _geo(rows: list[dict[str, object]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=CRS)


def _mp(geom: object) -> MultiPolygon:
    return geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])  # type: ignore[list-item]


def write_world(folder: Path, seed: int = 1) -> Path:
    """Write observed.gpkg, truth.gpkg, dem.tif, landcover.tif and scenario.json."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    observed = folder / "observed.gpkg"
    ys = np.linspace(0, H, 60)
    front = LineString([(X0 + _line_x(y), Y0 + y) for y in ys])

    layers: dict[str, gpd.GeoDataFrame] = {}
    # the region: the rectangle with its north-east corner cut off (cells there are outside)
    outline = Polygon(
        [(X0, Y0), (X0 + W, Y0), (X0 + W, Y0 + H - 2_000), (X0 + W - 2_000, Y0 + H), (X0, Y0 + H)]
    )
    layers["region"] = _geo([{"ref": "RG-1", "name": "test", "geometry": _mp(outline)}])
    layers["districts"] = _geo(
        [
            {"ref": "DI-1", "name": "West", "geometry": _mp(box(X0, Y0, X0 + 6_000, Y0 + H))},
            {"ref": "DI-2", "name": "East", "geometry": _mp(box(X0 + 6_000, Y0, X0 + W, Y0 + H))},
        ]
    )
    layers["front_line"] = _geo(
        [
            {
                "ref": "FL-1",
                "name": "line",
                "period": "1994-2020",
                "geometry": MultiLineString([front]),
            }
        ]
    )
    positions, mines, belts = [], [], []
    for i, y in enumerate(np.arange(500.0, H, 700.0)):
        for side, offset, facing in (("west", -800.0, 90.0), ("east", 800.0, 270.0)):
            x = float(_line_x(y)) + offset
            ref = f"PO-{len(positions) + 1:03d}"
            positions.append(
                {
                    "ref": ref,
                    "side": side,
                    "kind": "strongpoint",
                    "facing_deg": facing,
                    "period": "1994-2020",
                    "geometry": Point(X0 + x, Y0 + y),
                }
            )
            if (i + (side == "east")) % 2 == 0:
                # a belt 100-300 m in front of the position, 400 m wide
                direction = 1.0 if side == "west" else -1.0
                bx0 = x + direction * 100.0
                bx1 = x + direction * 300.0
                belt = box(X0 + min(bx0, bx1), Y0 + y - 200, X0 + max(bx0, bx1), Y0 + y + 200)
                belts.append(
                    {
                        "ref": f"MF-{len(belts) + 1:03d}",
                        "pattern": "ap_belt",
                        "side": side,
                        "laid_period": "1994-2020",
                        "geometry": belt,
                    }
                )
                for _ in range(25):
                    mines.append(
                        {
                            "x": X0 + rng.uniform(min(bx0, bx1), max(bx0, bx1)),
                            "y": Y0 + y + rng.uniform(-200, 200),
                            "minefield_ref": belts[-1]["ref"],
                            "category": "AP",
                            "model": "PMN-2",
                        }
                    )
    layers["positions"] = _geo(positions)
    road_y = 5_200.0
    layers["roads"] = _geo(
        [
            {
                "ref": "RD-1",
                "name": "main",
                "class": "main",
                "geometry": MultiLineString([[(X0, Y0 + road_y), (X0 + W, Y0 + road_y)]]),
            },
            {
                "ref": "RD-2",
                "name": "track",
                "class": "track",
                "geometry": MultiLineString([[(X0 + 2_000, Y0), (X0 + 2_500, Y0 + H)]]),
            },
        ]
    )
    for k in range(12):
        mines.append(
            {
                "x": X0 + float(_line_x(road_y)) - 600 + 100 * k,
                "y": Y0 + road_y + rng.uniform(-8, 8),
                "minefield_ref": "MF-ROAD",
                "category": "AT",
                "model": "TM-62M",
            }
        )
    layers["rivers"] = _geo(
        [
            {
                "ref": "RV-1",
                "name": "river",
                "order": 2,
                "geometry": MultiLineString([[(X0, Y0 + 8_500), (X0 + W, Y0 + 9_000)]]),
            }
        ]
    )
    layers["battle_areas"] = _geo(
        [
            {
                "ref": "BA-1",
                "name": "battle",
                "year": 2020,
                "intensity": "high",
                "geometry": _mp(box(X0 + 7_000, Y0 + 1_000, X0 + 9_000, Y0 + 2_500)),
            }
        ]
    )
    layers["advance_axes"] = _geo(
        [
            {
                "ref": "AX-1",
                "name": "axis",
                "year": 2020,
                "geometry": MultiLineString([[(X0 + W, Y0 + 1_500), (X0 + 3_000, Y0 + 2_000)]]),
            }
        ]
    )
    layers["settlements"] = _geo(
        [
            {
                "ref": "SE-1",
                "name": "A",
                "population": 1200,
                "displaced": 0,
                "status": "inhabited",
                "geometry": Point(X0 + 1_500, Y0 + 5_000),
            },
            {
                "ref": "SE-2",
                "name": "B",
                "population": 0,
                "displaced": 3000,
                "status": "ruined",
                "geometry": Point(X0 + 6_500, Y0 + 7_000),
            },
            {
                "ref": "SE-3",
                "name": "C",
                "population": 800,
                "displaced": 400,
                "status": "partly_ruined",
                "geometry": Point(X0 + 10_500, Y0 + 3_000),
            },
        ]
    )
    # suspected areas: each belt grown by 300 m; the first two belts confirmed (CHA)
    hazards = []
    for i, belt in enumerate(belts):
        hazards.append(
            {
                "ref": f"HA-{i + 1:03d}",
                "type": "CHA" if i < 2 else "SHA",
                "contamination": "AP",
                "evidence": "observed",
                "status": "open",
                "recorded_on": "2021-03-01",
                "geometry": _mp(belt["geometry"].buffer(300, join_style="mitre")),
            }
        )
    hazards.append(
        {
            "ref": "HA-900",
            "type": "SHA",
            "contamination": "AP",
            "evidence": "verbal",
            "status": "open",
            "recorded_on": "2021-03-01",
            "geometry": _mp(box(X0 + 500, Y0 + 500, X0 + 1_500, Y0 + 1_500)),
        }
    )
    layers["hazards"] = _geo(hazards)
    # clearance of the southern half of every third belt, with finds; TS reduction of the
    # margins of the others' suspected areas; cancelled land far from the line
    activities, releases = [], []
    cleared_parts = []
    for i, belt in enumerate(belts):
        minx, miny, maxx, maxy = belt["geometry"].bounds
        hazard = hazards[i]["geometry"]
        if i % 3 == 0:
            part = box(minx - 50, miny - 50, maxx + 50, (miny + maxy) / 2)
            cleared_parts.append(part)
            kind, method = "clearance", "cleared"
        else:
            part = hazard.difference(belt["geometry"].buffer(100, join_style="mitre"))
            kind, method = "TS", "reduced"
        ref = f"AC-{len(activities) + 1:03d}"
        activities.append(
            {
                "ref": ref,
                "type": kind,
                "hazard_ref": hazards[i]["ref"],
                "start_date": "2023-04-01",
                "end_date": "2023-06-01",
                "status": "completed",
                "geometry": _mp(part),
            }
        )
        releases.append(
            {
                "ref": f"RL-{len(releases) + 1:03d}",
                "activity_ref": ref,
                "method": method,
                "released_on": "2023-06-01",
                "geometry": _mp(part),
            }
        )
    for k, (x, y) in enumerate([(500, 8_000), (9_500, 500), (2_500, 500), (8_000, 6_000)]):
        ref = f"AC-{len(activities) + 1:03d}"
        area = _mp(box(X0 + x, Y0 + y, X0 + x + 1_500, Y0 + y + 1_500))
        activities.append(
            {
                "ref": ref,
                "type": "NTS",
                "hazard_ref": "HA-900" if k == 0 else None,
                "start_date": "2022-04-01",
                "end_date": "2022-04-05",
                "status": "completed",
                "geometry": area,
            }
        )
        releases.append(
            {
                "ref": f"RL-{len(releases) + 1:03d}",
                "activity_ref": ref,
                "method": "cancelled",
                "released_on": "2022-04-05",
                "geometry": area,
            }
        )
    layers["activities"] = _geo(activities)
    layers["releases"] = _geo(releases)
    truth = pd.DataFrame(mines)
    points = [Point(x, y) for x, y in zip(truth.x, truth.y, strict=True)]
    found = np.array([any(c.contains(pt) for c in cleared_parts) for pt in points])
    truth["found"] = found
    finds = [
        {
            "ref": f"FD-{j + 1:03d}",
            "category": "AP",
            "model": "PMN-2",
            "found_on": "2023-05-01",
            "quantity": 1,
            "geometry": Point(x, y),
        }
        for j, (x, y) in enumerate(zip(truth.x[found], truth.y[found], strict=True))
    ]
    layers["finds"] = _geo(finds)
    second = belts[1]["geometry"].centroid
    layers["accidents"] = _geo(
        [
            {
                "ref": "AD-1",
                "occurred_on": "2022-05-01",
                "activity": "herding",
                "device_category": "AP",
                "hazard_ref": "HA-002",
                "geometry": Point(second.x, second.y),
            },
            {
                "ref": "AD-2",
                "occurred_on": "2023-07-01",
                "activity": "travel",
                "device_category": "AT",
                "geometry": Point(X0 + float(_line_x(road_y)) - 200, Y0 + road_y),
            },
        ]
    )
    layers["minefield_records"] = _geo(
        [
            {
                "ref": "MR-1",
                "landmark": "hill",
                "bearing_type": "grid",
                "shape": "polygon",
                "mine_types": "PMN-2",
                "mine_count": 25,
                "geometry": belts[2]["geometry"].centroid,
            }
        ]
    )
    for name, frame in layers.items():
        frame.to_file(observed, layer=name, driver="GPKG", engine="pyogrio")
    legs = pd.DataFrame(
        [{"ref": "ML-1", "record_ref": "MR-1", "seq": 1, "bearing_deg": 90.0, "distance_m": 200.0}]
    )
    import pyogrio

    pyogrio.write_dataframe(legs, observed, layer="minefield_legs", driver="GPKG")

    truth_gdf = gpd.GeoDataFrame(
        truth.drop(columns=["x", "y"]).assign(ref=[f"MN-{i + 1:05d}" for i in range(len(truth))]),
        geometry=gpd.points_from_xy(truth.x, truth.y),
        crs=CRS,
    )
    truth_gdf.to_file(folder / "truth.gpkg", layer="mines", driver="GPKG", engine="pyogrio")
    _geo(belts).to_file(folder / "truth.gpkg", layer="minefields", driver="GPKG", engine="pyogrio")

    # rasters at 40 m: a DEM rising westward with bumps, land cover in blocks
    cell = 40.0
    shape = (int(H / cell), int(W / cell))
    transform = Affine(cell, 0, X0, 0, -cell, Y0 + H)
    yy, xx = np.indices(shape)
    dem = (800 - xx * cell * 0.05 + 30 * np.sin(yy / 15.0) * np.cos(xx / 20.0)).astype(np.float32)
    profile = {
        "driver": "GTiff",
        "width": shape[1],
        "height": shape[0],
        "count": 1,
        "crs": CRS,
        "transform": transform,
    }
    with rasterio.open(folder / "dem.tif", "w", dtype="float32", **profile) as dst:
        dst.write(dem, 1)
    landcover = (1 + (xx // 50 + yy // 40) % 6).astype(np.uint8)
    with rasterio.open(folder / "landcover.tif", "w", dtype="uint8", nodata=0, **profile) as dst:
        dst.write(landcover, 1)
    (folder / "scenario.json").write_text(json.dumps({"preset": "test", "seed": seed, "crs": CRS}))
    return folder
