"""Geometry from columns (WKT, lat/lon, DMS, MGRS, ODK), CRS inference, swapped coordinates."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely

from minemap.io.coords import (
    crs_area,
    find_geometry_columns,
    geometry_from_columns,
    infer_crs,
    parse_degrees,
    parse_odk,
    swapped_rows,
)


def test_latlon_columns_with_decimal_comma_and_dms() -> None:
    frame = pd.DataFrame(
        {"Lat": ["39,8", "39°48'00\"N"], "Long": ["46.8", "46°48'E"]}, index=[1, 2]
    )
    spec = find_geometry_columns(frame)
    assert (spec.lat, spec.lon) == ("Lat", "Long")
    built = geometry_from_columns(frame, spec)
    assert built.crs == "EPSG:4326"
    for geom in built.geometry:
        assert geom.x == pytest.approx(46.8)
        assert geom.y == pytest.approx(39.8)


def test_parse_degrees_southern_and_western() -> None:
    assert parse_degrees("S 10°30'") == pytest.approx(-10.5)
    assert parse_degrees("74°15'W") == pytest.approx(-74.25)
    with pytest.raises(ValueError, match="not a coordinate"):
        parse_degrees("north-ish")


def test_mgrs_column() -> None:
    import mgrs

    ref = mgrs.MGRS().toMGRS(39.8, 46.8, MGRSPrecision=5)
    frame = pd.DataFrame({"MGRS": [ref, "not a grid ref"]}, index=[1, 2])
    built = geometry_from_columns(frame, find_geometry_columns(frame))
    assert built.geometry[1].x == pytest.approx(46.8, abs=1e-4)
    assert built.geometry[1].y == pytest.approx(39.8, abs=1e-4)
    assert 2 in built.errors
    assert "MGRS" in built.errors[2]


def test_odk_geopoint_and_geoshape() -> None:
    point = parse_odk("39.8 46.8 812.0 4.5")
    assert (point.x, point.y) == (46.8, 39.8)
    shape = parse_odk("39.80 46.80 0 5;39.80 46.81 0 5;39.81 46.81 0 5;39.80 46.80 0 5")
    assert shape.geom_type == "Polygon"
    assert shape.exterior.coords[1] == (46.81, 39.80)
    frame = pd.DataFrame(
        {"group_a/where": ["39.8 46.8 0 0", "39.9 46.9 10 3"], "other": ["x", "y"]}, index=[1, 2]
    )
    spec = find_geometry_columns(frame)
    assert spec.odk == "group_a/where"


def test_kobo_split_geopoint_columns() -> None:
    frame = pd.DataFrame(
        {"_where_latitude": [39.8], "_where_longitude": [46.8], "_where_altitude": [0]}, index=[1]
    )
    spec = find_geometry_columns(frame)
    assert (spec.lat, spec.lon) == ("_where_latitude", "_where_longitude")


def test_infer_crs_only_when_unambiguous() -> None:
    lonlat = pd.Series([shapely.Point(46.8, 39.8)])
    assert infer_crs(lonlat, "EPSG:32638")[0] == "EPSG:4326"
    metres = pd.Series([shapely.Point(650000, 4400000)])
    crs, why = infer_crs(metres, "EPSG:32638")
    assert crs is None
    assert "not longitude/latitude" in why


def test_swapped_rows_against_the_area_of_use() -> None:
    geoms = pd.Series(
        [shapely.Point(46.8, 39.8), shapely.Point(39.8, 46.8), shapely.Point(10.0, 10.0)],
        index=[1, 2, 3],
    )
    assert swapped_rows(geoms, "EPSG:4326", crs_area("EPSG:32638")) == [2]
    assert swapped_rows(geoms, "EPSG:4326", None) == []
