"""Map tiles: vector tiles of records, risk and hillshade PNG tiles, the legend."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from pathlib import Path

import mapbox_vector_tile
import numpy as np
import pytest
import rasterio
from affine import Affine
from fastapi.testclient import TestClient
from PIL import Image

from minemap.api import create_app
from minemap.api.geo import WGS84, transformer
from minemap.api.tiles import hillshade
from minemap.store import open_store
from tests.api.conftest import LAT, LON, World

CELL = 50.0


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def write_raster(path: Path, data: np.ndarray, nodata: float | None) -> Path:
    """A tiled GeoTIFF in UTM 38N whose top-left corner is at (LON, LAT) + 0.05° north."""
    x0, y0 = transformer(WGS84, "EPSG:32638").transform(LON - 0.02, LAT + 0.05)
    profile = {
        "driver": "GTiff",
        "height": data.shape[0],
        "width": data.shape[1],
        "count": 1,
        "dtype": data.dtype.name,
        "crs": "EPSG:32638",
        "transform": Affine(CELL, 0.0, x0, 0.0, -CELL, y0),
        "nodata": nodata,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.build_overviews([2, 4], rasterio.enums.Resampling.average)
    return path


@pytest.fixture
def map_dir(tmp_path: Path) -> Path:
    """A map folder whose risk rises west to east, with nodata in its first rows."""
    folder = tmp_path / "map"
    folder.mkdir()
    risk = np.tile(np.linspace(0, 1, 256, dtype="float32"), (256, 1))
    risk[:20] = np.nan
    write_raster(folder / "risk.tif", risk, float("nan"))
    return folder


@pytest.fixture
def map_client(world: World, map_dir: Path, tmp_path: Path) -> Iterator[TestClient]:
    dem = np.add.outer(np.linspace(900, 300, 256), np.sin(np.linspace(0, 12, 256)) * 60).astype(
        "float32"
    )
    dem_path = write_raster(tmp_path / "dem.tif", dem, -9999.0)
    with open_store(world.url) as store:
        store.put_raster("dem", dem_path)
    with TestClient(create_app(world.url, map_dir, secret="y" * 40)) as c:
        yield c


def png(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    assert image.size == (256, 256)
    return np.asarray(image.convert("RGBA"))


def test_risk_tiles_are_coloured_pngs_transparent_outside(map_client: TestClient) -> None:
    z = 12
    x, y = tile_of(LON + 0.05, LAT, z)
    r = map_client.get(f"/api/risk/tiles/{z}/{x}/{y}.png")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png"
    rgba = png(r.content)
    assert rgba[..., 3].max() > 150  # some risk drawn
    # a tile far away is a blank, fully transparent tile, not an error
    fx, fy = tile_of(20.0, 10.0, z)
    far = png(map_client.get(f"/api/risk/tiles/{z}/{fx}/{fy}.png").content)
    assert far[..., 3].max() == 0


def test_risk_colour_follows_the_risk(map_client: TestClient) -> None:
    # at zoom 15 the tile is smaller than the raster: its west and east halves differ in risk
    z = 13
    x, y = tile_of(LON + 0.05, LAT + 0.02, z)
    rgba = png(map_client.get(f"/api/risk/tiles/{z}/{x}/{y}.png").content).astype(int)
    visible = rgba[..., 3] > 0
    assert visible.any()
    # YlOrRd: riskier is darker (less green)
    cols = np.where(visible.any(axis=0))[0]
    west, east = rgba[:, cols[: len(cols) // 4]], rgba[:, cols[-len(cols) // 4 :]]
    assert west[..., 1][west[..., 3] > 0].mean() > east[..., 1][east[..., 3] > 0].mean()


def test_legend(map_client: TestClient) -> None:
    legend = map_client.get("/api/risk/legend").json()
    assert next(c["label"] for c in legend["classes"]) == "risk_very_low"
    assert legend["classes"][-1]["to"] == 1.0
    assert all(c["colour"].startswith("#") for c in legend["ramp"])


def test_no_map_is_404(client: TestClient) -> None:
    r = client.get("/api/risk/tiles/10/0/0.png")
    assert r.status_code == 404
    assert "--map" in r.json()["message"]
    assert client.get("/api/risk/explain?lon=46.9&lat=40.0").status_code == 404


def test_hillshade_basemap_from_the_store_dem(map_client: TestClient) -> None:
    z = 12
    x, y = tile_of(LON + 0.05, LAT, z)
    r = map_client.get(f"/api/basemap/hillshade/{z}/{x}/{y}.png")
    assert r.status_code == 200
    rgba = png(r.content)
    assert rgba[..., 3].max() > 0  # shadows drawn
    assert rgba[..., 3].min() < rgba[..., 3].max()  # relief, not a flat wash


def test_hillshade_without_dem_is_404(client: TestClient) -> None:
    assert client.get("/api/basemap/hillshade/10/0/0.png").status_code == 404


def test_hillshade_lights_slopes_facing_the_sun() -> None:
    # a ridge: west slope faces the north-west sun (bright), east slope away (dark)
    dem = np.tile(np.concatenate([np.arange(50), np.arange(50)[::-1]]).astype(float) * 10, (20, 1))
    shade = hillshade(dem, 50.0)
    assert shade[10, 20] > shade[10, 80]
    assert shade.min() >= 1
    with_gap = dem.copy()
    with_gap[0, 0] = np.nan
    assert hillshade(with_gap, 50.0)[0, 0] == 0


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/tiles/hazards/23/0/0.pbf", 422),
        ("/api/tiles/hazards/3/8/0.pbf", 422),
        ("/api/tiles/hazards/3/0/-1.pbf", 422),
        ("/api/tiles/nonsense/3/0/0.pbf", 422),
        ("/api/tiles/organisations/3/0/0.pbf", 422),
        ("/api/risk/tiles/30/0/0.png", 422),
    ],
)
def test_bad_tile_requests_are_4xx(client: TestClient, path: str, status: int) -> None:
    r = client.get(path)
    assert r.status_code == status
    assert r.json()["message"]


def test_vector_tile_holds_the_records_of_the_tile(client: TestClient, world: World) -> None:
    z = 13
    x, y = tile_of(LON + 0.005, LAT + 0.005, z)
    r = client.get(f"/api/tiles/hazards,accidents,settlements/{z}/{x}/{y}.pbf")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    tile = mapbox_vector_tile.decode(r.content)
    hazards = {f["properties"]["name"]: f for f in tile["hazards"]["features"]}
    assert "ANAMA field" in hazards
    props = hazards["ANAMA field"]["properties"]
    assert props["status"] == "open"
    assert props["type"] == "SHA"
    assert hazards["ANAMA field"]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert tile["accidents"]["features"][0]["id"] == world.ids["accident"]
    # an empty tile is 204, which map clients draw as empty
    ex, ey = tile_of(20.0, 10.0, z)
    assert client.get(f"/api/tiles/hazards/{z}/{ex}/{ey}.pbf").status_code == 204


def test_new_record_appears_in_the_next_tile(
    client: TestClient, headers: dict, world: World
) -> None:
    z = 14
    lon, lat = LON + 0.012, LAT + 0.003
    x, y = tile_of(lon, lat, z)
    before = client.get(f"/api/tiles/finds/{z}/{x}/{y}.pbf")
    assert before.status_code == 204
    body = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"category": "AT", "model": "TM-62M", "found_on": "2024-02-02"},
    }
    assert client.post("/api/finds", json=body, headers=headers["editor"]).status_code == 201
    tile = mapbox_vector_tile.decode(client.get(f"/api/tiles/finds/{z}/{x}/{y}.pbf").content)
    assert tile["finds"]["features"][0]["properties"]["model"] == "TM-62M"


def test_cached_answers_follow_writes_by_other_processes(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write straight into the store (another process, QGIS...) is seen by the next read."""
    from shapely.geometry import Point

    from minemap.api import cache
    from tests.api.conftest import to_store

    monkeypatch.setattr(cache, "POSTGIS_SECONDS", 1e-6)
    z = 14
    lon, lat = LON + 0.013, LAT + 0.004
    x, y = tile_of(lon, lat, z)
    bbox = f"/api/finds?bbox={lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    assert client.get(f"/api/tiles/finds/{z}/{x}/{y}.pbf").status_code == 204
    assert client.get(bbox).json()["features"] == []
    assert client.get(bbox).json()["features"] == []  # now from the cache
    with open_store(world.url) as store:
        store.insert(
            "finds",
            [{"category": "UXO", "found_on": "2024-03-03", "geometry": to_store(Point(lon, lat))}],
            user="qgis",
        )
    assert len(client.get(bbox).json()["features"]) == 1
    tile = mapbox_vector_tile.decode(client.get(f"/api/tiles/finds/{z}/{x}/{y}.pbf").content)
    assert tile["finds"]["features"][0]["properties"]["category"] == "UXO"


def test_tile_ready_drops_a_part_that_snapping_collapsed_to_a_point() -> None:
    # a hazard tile from the demo world: on the tile grid one small part of a
    # multipolygon collapsed to a single point (GEOS's default repair refuses it)
    import shapely

    from minemap.api.geo import tile_ready

    pinched = shapely.from_wkt(
        "MULTIPOLYGON (((3331 446, 3331 446, 3331 446, 3331 446)), ((3334 458, 3334 462, "
        "3341 463, 3341 458, 3339 458, 3339 452, 3341 452, 3340 450, 3332 446, 3333 458, "
        "3334 458)))"
    )
    (fixed,) = tile_ready(np.array([pinched], dtype=object))
    assert fixed.is_valid
    assert fixed.geom_type == "Polygon"
    assert fixed.area > 50
