"""The GeoPackage engine: a file GDAL and QGIS open as layers, with a true spatial index."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from minemap.errors import StoreError
from minemap.store import open_store
from minemap.store.gpkg import GpkgStore
from minemap.store.gpkg_format import decode, encode, wkb_of
from tests.store.sample import box, fill, hazard


def rtree_is_true(path: Path, table: str) -> bool:
    """Every geometry is in the rtree with a box holding its bounds, and nothing else is."""
    con = sqlite3.connect(path)
    try:
        rtree = {
            r[0]: r[1:]
            for r in con.execute(f"SELECT id, minx, maxx, miny, maxy FROM rtree_{table}_geom")
        }
        rows = con.execute(f"SELECT id, geom FROM {table} WHERE geom IS NOT NULL").fetchall()
    finally:
        con.close()
    if set(rtree) != {r[0] for r in rows}:
        return False
    geoms = decode([r[1] for r in rows])
    for (fid, _), g in zip(rows, geoms, strict=True):
        x0, y0, x1, y1 = g.bounds
        minx, maxx, miny, maxy = rtree[fid]
        # the rtree keeps 32-bit floats rounded outwards
        if not (
            minx <= x0 + 1e-6 and maxx >= x1 - 1e-6 and miny <= y0 + 1e-6 and maxy >= y1 - 1e-6
        ):
            return False
        if max(x0 - minx, maxx - x1, y0 - miny, maxy - y1) > 1.0:
            return False
    return True


@pytest.fixture
def gpkg(tmp_path: Path) -> GpkgStore:
    s = GpkgStore(str(tmp_path / "national.gpkg"))
    s.init(crs="EPSG:32638", extent=(44.7, 38.3, 50.9, 42.0))
    return s


def test_blobs_round_trip() -> None:
    geoms = np.array([shapely.Point(1, 2), None, shapely.Polygon(), box(0, 0)], dtype=object)
    blobs = encode(geoms, 32638)
    assert blobs[1] is None
    assert blobs[0] is not None
    assert blobs[0][:2] == b"GP"
    back = decode(blobs)
    assert shapely.equals_exact(back[0], geoms[0], 0.0)
    assert back[1] is None
    assert back[2].is_empty
    assert shapely.equals_exact(back[3], geoms[3], 0.0)
    assert shapely.from_wkb(wkb_of(blobs[3])) == geoms[3]


def test_gdal_opens_every_layer_with_its_crs(gpkg: GpkgStore) -> None:
    fill(gpkg)
    layers = dict(pyogrio.list_layers(gpkg.path))
    assert layers["hazards"] == "MultiPolygon"
    assert layers["finds"] == "Point"
    assert layers["front_line"] == "MultiLineString"
    assert layers["victims"] is None  # an attributes table
    info = pyogrio.read_info(gpkg.path, layer="hazards")
    assert info["crs"] == "EPSG:32638"
    assert info["features"] == 1
    assert info["capabilities"]["fast_spatial_filter"]
    assert info["fid_column"] == "id"
    ogr = pyogrio.read_dataframe(gpkg.path, layer="hazards")
    ours = gpkg.read("hazards")
    assert list(ogr["ref"]) == list(ours["ref"])
    assert shapely.equals_exact(ogr.geometry.iloc[0], ours.geometry.iloc[0], 0.0)
    assert str(ogr["recorded_on"].iloc[0])[:10] == "2021-05-04"


def test_the_rtree_stays_true_after_writes(gpkg: GpkgStore) -> None:
    ids = gpkg.insert(
        "hazards", [hazard(600 * i, 600 * j) for i in range(8) for j in range(8)], user="u"
    )
    gpkg.update("hazards", ids[0], {"geometry": box(9000, 9000, 100)}, expected_version=1, user="u")
    gpkg.delete("hazards", ids[1], expected_version=1, user="u")
    assert rtree_is_true(gpkg.path, "hazards")
    bbox = (600_000 + 1000, 4_400_000 + 1000, 600_000 + 2500, 4_400_000 + 2000)
    ogr = pyogrio.read_dataframe(gpkg.path, layer="hazards", bbox=bbox, fid_as_index=True)
    ours = gpkg.read("hazards", bbox=bbox)
    assert sorted(ogr.index) == sorted(ours["id"])
    bounds = pyogrio.read_info(gpkg.path, layer="hazards")["total_bounds"]
    assert bounds[2] == pytest.approx(600_000 + 9100)


def test_records_written_by_gdal_are_read_and_indexed(gpkg: GpkgStore) -> None:
    gpkg.insert("hazards", [hazard()], user="u")
    gpkg.close()
    edit = gpd.GeoDataFrame(
        {
            "ref": ["HA-QGIS"],
            "type": ["CHA"],
            "contamination": ["AT"],
            "status": ["open"],
            "workflow": ["draft"],
            "version": [1],
        },
        geometry=[box(3000, 3000)],
        crs="EPSG:32638",
    )
    pyogrio.write_dataframe(edit, gpkg.path, layer="hazards", append=True, promote_to_multi=True)
    assert rtree_is_true(gpkg.path, "hazards")
    with open_store(str(gpkg.path)) as again:
        frame = again.read("hazards", bbox=(603_000, 4_403_000, 603_100, 4_403_100))
        assert list(frame["ref"]) == ["HA-QGIS"]
        [new] = again.insert("hazards", [hazard(6000)], user="u")
        assert new == 3


def test_integrity_after_writes(gpkg: GpkgStore) -> None:
    fill(gpkg)
    con = sqlite3.connect(gpkg.path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        extensions = con.execute("SELECT table_name FROM gpkg_extensions").fetchall()
        assert ("hazards",) in extensions
    finally:
        con.close()


def test_files_that_are_not_stores_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.gpkg"
    text.write_text("this is not a database, it is a shopping list " * 50)
    with pytest.raises(StoreError), open_store(str(text)) as s:
        s.count("hazards")
    other = tmp_path / "other.gpkg"
    gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs="EPSG:4326").to_file(other)
    with pytest.raises(StoreError, match="db init"), open_store(str(other)) as s:
        s.count("hazards")
    nested = tmp_path / "new" / "folder" / "x.gpkg"
    with open_store(str(nested)) as s:
        s.init()
    assert nested.is_file()
