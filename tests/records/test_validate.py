"""Row-level validation: every refusal names its row and field; safe repairs are reported."""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from minemap.errors import ValidationError
from minemap.records.validate import json_safe, validate_frame, validate_record

CRS = "EPSG:32638"
AZ = (44.7, 38.3, 50.9, 42.0)
X, Y = 600_000.0, 4_400_000.0


def hazards(geoms: list[object], crs: str | None = CRS, **cols: list[object]) -> gpd.GeoDataFrame:
    n = len(geoms)
    data: dict[str, list[object]] = {
        "type": ["SHA"] * n,
        "contamination": ["AP"] * n,
        "status": ["open"] * n,
        "recorded_on": ["2021-05-01"] * n,
    }
    data.update(cols)
    return gpd.GeoDataFrame(data, geometry=geoms, crs=crs, index=range(2, 2 + n))


def square(size: float = 100.0) -> shapely.Polygon:
    return shapely.box(X, Y, X + size, Y + size)


def test_a_bow_tie_is_repaired_and_reported() -> None:
    bow = shapely.Polygon([(X, Y), (X + 100, Y + 100), (X + 100, Y), (X, Y + 100)])
    result = validate_frame("hazards", hazards([bow]), crs=CRS)
    assert result.ok
    geom = result.valid.geometry.iloc[0]
    assert geom.geom_type == "MultiPolygon"
    assert geom.is_valid
    assert geom.area == pytest.approx(5000)
    assert result.valid["area_m2"].iloc[0] == pytest.approx(5000)
    [repair] = [r for r in result.repairs if r.field == "geometry"]
    assert repair.row == 2
    assert "Self-intersection" in repair.message


def test_broken_geometries_are_refused_with_their_reason() -> None:
    sliver = shapely.Polygon([(X, Y), (X + 10, Y + 10), (X + 10, Y + 10), (X, Y)])
    frame = hazards([None, shapely.Polygon(), sliver, shapely.Point(X, Y), square()])
    result = validate_frame("hazards", frame, crs=CRS)
    reasons = dict(zip(result.rejects["row"], result.rejects["reason"], strict=True))
    assert "missing" in reasons[2]
    assert "empty" in reasons[3]
    assert "three distinct vertices" in reasons[4]
    assert "expected MultiPolygon, got Point" in reasons[5]
    assert list(result.valid.index) == [6]
    assert set(result.rejects["field"]) == {"geometry"}


def test_a_frame_without_crs_is_refused() -> None:
    with pytest.raises(ValidationError, match="no CRS"):
        validate_frame("hazards", hazards([square()], crs=None), crs=CRS)


def test_geographic_input_is_reprojected_and_checked_against_the_extent() -> None:
    frame = gpd.GeoDataFrame(
        {"category": ["AP"] * 4, "found_on": ["2022-03-01"] * 4},
        geometry=[
            shapely.Point(46.75, 39.6),  # Fuzuli: fine
            shapely.Point(39.6, 46.75),  # the same, swapped
            shapely.Point(46.75, 139.6),  # latitude out of range
            shapely.Point(13.4, 52.5),  # Berlin: outside Azerbaijan
        ],
        crs="EPSG:4326",
        index=[10, 11, 12, 13],
    )
    result = validate_frame("finds", frame, crs=CRS, extent=AZ)
    reasons = dict(zip(result.rejects["row"], result.rejects["reason"], strict=True))
    assert "swapped" in reasons[11]
    assert "latitude -90..90" in reasons[12] or "swapped" in reasons[12]
    assert "outside the store's extent" in reasons[13]
    [pt] = result.valid.geometry
    assert result.valid.crs.to_epsg() == 32638
    assert 640_000 < pt.x < 660_000
    assert 4_380_000 < pt.y < 4_390_000


def test_swapped_coordinates_are_named_without_an_extent() -> None:
    frame = gpd.GeoDataFrame(
        {"category": ["AP"], "found_on": ["2022-03-01"]},
        geometry=[shapely.Point(39.6, 146.75)],
        crs="EPSG:4326",
    )
    result = validate_frame("finds", frame, crs=CRS)
    assert "swapped" in result.rejects["reason"].iloc[0]


def test_degrees_in_a_metric_crs_are_named() -> None:
    frame = hazards([shapely.box(46.7, 39.6, 46.71, 39.61)])
    result = validate_frame("hazards", frame, crs=CRS, extent=AZ)
    assert "look like degrees" in result.rejects["reason"].iloc[0]


def test_fields_required_typed_in_vocabulary_and_range() -> None:
    frame = pd.DataFrame(
        {
            "type": ["TS", "ts", None, "TS", "TS", "TS"],
            "status": ["completed"] * 6,
            "start_date": [
                "2022-01-01",
                "2022-01-01",
                "2022-01-01",
                "2022-13-45",
                "2022-02-01",
                None,
            ],
            "end_date": [None, dt.date(2022, 2, 1), None, None, "2022-01-15", None],
            "depth_cm": [10, "12,5", 5, 5, 5, -3],
        },
        index=[1, 2, 3, 4, 5, 6],
    )
    frame = gpd.GeoDataFrame(frame, geometry=[shapely.MultiPolygon([square()])] * 6, crs=CRS)
    result = validate_frame("activities", frame, crs=CRS)
    reasons = dict(zip(result.rejects["row"], result.rejects["reason"], strict=True))
    fields = dict(zip(result.rejects["row"], result.rejects["field"], strict=True))
    assert list(result.valid.index) == [1, 2]
    assert result.valid.loc[2, "type"] == "TS"  # matched without regard to case
    assert result.valid.loc[2, "depth_cm"] == pytest.approx(12.5)
    assert fields[3] == "type"
    assert "required" in reasons[3]
    assert fields[4] == "start_date"
    assert "not a date" in reasons[4]
    assert fields[5] == "end_date"
    assert "before start_date" in reasons[5]
    assert "start_date: is required" in reasons[6]
    assert "below the minimum 0" in reasons[6]


def test_vocabulary_and_whole_numbers() -> None:
    frame = pd.DataFrame(
        {
            "accident_id": [1, 1, 1],
            "outcome": ["killed", "maimed", "injured"],
            "group": ["civilian"] * 3,
            "age": [30, 40, 25.5],
        },
        index=[1, 2, 3],
    )
    result = validate_frame("victims", frame, crs=CRS)
    reasons = dict(zip(result.rejects["row"], result.rejects["reason"], strict=True))
    assert "'maimed' is not one of: killed, injured" in reasons[2]
    assert "25.5 is not a whole number" in reasons[3]
    assert result.valid["age"].dtype == "Int64"


def test_areas_come_from_the_geometry() -> None:
    result = validate_frame(
        "hazards", hazards([square(100), square(10)], area_m2=[10_000.0, 999.0]), crs=CRS
    )
    assert list(result.valid["area_m2"]) == pytest.approx([10_000, 100])
    [note] = [r for r in result.repairs if r.field == "area_m2"]
    assert note.row == 3
    assert "999" in note.message


def test_unknown_columns_are_kept_in_attributes() -> None:
    frame = hazards([square()], imsma_id=["HAZ-77"])
    frame["Köhnə ad"] = ["Qırmızı tarla"]
    result = validate_frame("hazards", frame, crs=CRS)
    assert result.valid["attributes"].iloc[0] == {"imsma_id": "HAZ-77", "Köhnə ad": "Qırmızı tarla"}
    assert any("imsma_id" in r.message for r in result.repairs)


def test_links_may_come_as_refs() -> None:
    frame = pd.DataFrame(
        {"activity_ref": ["AC-1"], "method": ["cleared"], "released_on": ["2022-01-01"]}
    )
    frame = gpd.GeoDataFrame(frame, geometry=[square()], crs=CRS)
    result = validate_frame("releases", frame, crs=CRS)
    assert result.ok
    assert result.valid["activity_ref"].iloc[0] == "AC-1"


def test_validate_record_raises_naming_the_field() -> None:
    good, repairs = validate_record(
        "finds",
        {"category": "uxo", "found_on": "2022-01-01", "geometry": shapely.Point(X, Y)},
        crs=CRS,
    )
    assert good["category"] == "UXO"
    assert good["workflow"] == "draft"
    assert repairs == []
    with pytest.raises(ValidationError) as err:
        validate_record(
            "finds",
            {"category": "UXO", "found_on": "1850-01-01", "geometry": shapely.Point(X, Y)},
            crs=CRS,
            row=9,
        )
    assert err.value.field == "found_on"
    assert err.value.row == 9
    assert "1900" in str(err.value)
    assert str(err.value).count("found_on") == 1  # the field is named once


def test_z_is_dropped_and_reported() -> None:
    frame = gpd.GeoDataFrame(
        {"category": ["AP"], "found_on": ["2022-03-01"]},
        geometry=[shapely.Point(X, Y, 812.0)],
        crs=CRS,
    )
    result = validate_frame("finds", frame, crs=CRS)
    assert not result.valid.geometry.iloc[0].has_z
    assert any("Z" in r.message for r in result.repairs)


def test_rows_must_be_labelled_uniquely() -> None:
    frame = hazards([square(), square()])
    frame.index = [1, 1]
    with pytest.raises(ValidationError, match="unique"):
        validate_frame("hazards", frame, crs=CRS)


def test_json_safe_gives_plain_json_values() -> None:
    values = {
        "count": np.int64(3),
        "whole": 2.0,
        "gap": float("nan"),
        "day": dt.date(2021, 5, 1),
        "at": dt.time(10, 30),
        "where": shapely.Point(1, 2),
        "nested": {"n": [np.float32(0.5), None]},
    }
    safe = json_safe(values)
    assert safe == {
        "count": 3,
        "whole": 2,
        "gap": None,
        "day": "2021-05-01",
        "at": "10:30:00",
        "where": "POINT (1 2)",
        "nested": {"n": [0.5, None]},
    }
    json.dumps(safe, allow_nan=False)  # nothing JSON cannot hold
