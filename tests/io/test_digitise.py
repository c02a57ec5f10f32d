"""Minefield records: bearings, traverses, shapes, files and scores against later finds."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Geod, Transformer

from minemap.cli.main import main
from minemap.errors import InputFileError
from minemap.io.digitise import (
    digitise,
    grid_convergence,
    read_minefield_file,
    run_traverse,
    score_records,
    to_grid_bearing,
)
from tests.io.conftest import LAT, LON

UTM = "EPSG:32638"


def test_traverse_square() -> None:
    ends = run_traverse((0.0, 0.0), [(0, 100), (90, 100), (180, 100), (270, 100)])
    assert ends[0] == pytest.approx((0.0, 100.0))
    assert ends[1] == pytest.approx((100.0, 100.0))
    assert ends[3] == pytest.approx((0.0, 0.0), abs=1e-9)


def test_true_bearing_matches_the_geodesic() -> None:
    to_utm = Transformer.from_crs("EPSG:4326", UTM, always_xy=True)
    x0, y0 = to_utm.transform(LON, LAT)
    conv = grid_convergence(x0, y0, UTM)
    assert conv > 0  # east of the zone's central meridian (45°E)
    for azimuth in (0.0, 45.0, 200.0):
        lon, lat, _ = Geod(ellps="WGS84").fwd(LON, LAT, azimuth, 1000)
        x1, y1 = to_utm.transform(lon, lat)
        grid = math.degrees(math.atan2(x1 - x0, y1 - y0)) % 360
        assert to_grid_bearing(azimuth, "true", None, conv) == pytest.approx(grid, abs=1e-3)


def test_magnetic_bearing_uses_declination() -> None:
    assert to_grid_bearing(350.0, "magnetic", 15.0, 0.0) == pytest.approx(5.0)
    with pytest.raises(ValueError, match="declination"):
        to_grid_bearing(10.0, "magnetic", None, 0.0)


def _records(
    shape: str = "polygon", bearing_type: str = "grid", decl: float | None = None
) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "ref": ["MR-1"],
            "bearing_type": [bearing_type],
            "declination_deg": [decl],
            "shape": [shape],
            "mine_count": [40],
            "received_on": ["2021-01-15"],
        },
        geometry=[shapely.Point(LON, LAT)],
        crs="EPSG:4326",
    )


def _legs(closing_error: float = 0.0) -> pd.DataFrame:
    # RP -> TP1 100 m north, then a 200 x 100 m rectangle that closes with a small error
    return pd.DataFrame(
        {
            "record_ref": ["MR-1"] * 5,
            "seq": [1, 2, 3, 4, 5],
            "bearing_deg": [0.0, 90.0, 0.0, 270.0, 180.0],
            "distance_m": [100.0, 200.0, 100.0, 200.0, 100.0 - closing_error],
            "label": ["TP1", "TP2", "TP3", "TP4", "TP5"],
        }
    )


def test_polygon_record_with_misclosure() -> None:
    result = digitise(_records(), _legs(closing_error=3.0), crs=UTM)
    assert result.problems == {}
    assert len(result.points) == 5
    shape = result.shapes.iloc[0]
    assert shape["misclosure_m"] == pytest.approx(3.0)
    assert shape["area_m2"] == pytest.approx(200 * 100, rel=1e-9)
    rp = gpd.GeoSeries([shapely.Point(LON, LAT)], crs="EPSG:4326").to_crs(UTM).iloc[0]
    tp1 = result.points.geometry.iloc[0]
    assert tp1.x == pytest.approx(rp.x)
    assert tp1.y == pytest.approx(rp.y + 100)


def test_mine_row_line_and_problem_records() -> None:
    records = pd.concat([_records("line"), _records().assign(ref="MR-2")], ignore_index=True)
    records = gpd.GeoDataFrame(records, geometry="geometry", crs="EPSG:4326")
    legs = pd.concat(
        [
            _legs().head(3),
            pd.DataFrame(
                {
                    "record_ref": ["MR-2"],
                    "seq": [1],
                    "bearing_deg": [0.0],
                    "distance_m": [10.0],
                    "label": [None],
                }
            ),
        ],
        ignore_index=True,
    )
    result = digitise(records, legs, crs=UTM)
    line = result.shapes.set_index("record_ref").loc["MR-1"]
    assert line.geometry.geom_type == "LineString"
    assert line["length_m"] == pytest.approx(300.0)
    assert "at least three" in result.problems["MR-2"]


def test_score_against_later_finds() -> None:
    result = digitise(_records(), _legs(), crs=UTM)
    field = result.shapes.geometry.iloc[0]
    # finds 30 m east of the recorded field: the record is off by about 30 m
    c = field.centroid
    pts = [shapely.Point(c.x + 100 + 30, c.y + dy) for dy in (-20.0, 0.0, 20.0)]
    pts += [shapely.Point(c.x, c.y)]
    finds = gpd.GeoDataFrame(
        {"found_on": ["2022-01-01"] * 3 + ["2019-01-01"]}, geometry=pts, crs=UTM
    )
    received = pd.Series({"MR-1": "2021-01-15"})
    scores = score_records(result.shapes, finds, received=received).set_index("record_ref")
    assert scores.loc["MR-1", "finds_nearby"] == 3  # the find made before the record is left out
    assert scores.loc["MR-1", "share_inside"] == 0.0
    assert scores.loc["MR-1", "offset_dx_m"] == pytest.approx(30.0)
    assert scores.loc["MR-1", "offset_dy_m"] == pytest.approx(0.0)
    assert scores.loc["MR-1", "found_per_mine"] == pytest.approx(3 / 40)
    inside = score_records(result.shapes, finds.iloc[[3]]).set_index("record_ref")
    assert inside.loc["MR-1", "share_inside"] == 1.0
    assert inside.loc["MR-1", "offset_m"] == 0.0


def test_flat_csv_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    legs = _legs()
    flat = legs.rename(columns={"record_ref": "ref"}).assign(
        lat=LAT, lon=LON, bearing_type="magnetic", declination_deg=0.0, shape="polygon"
    )
    path = tmp_path / "record.csv"
    flat.to_csv(path, index=False)
    records, read_legs = read_minefield_file(path, crs=UTM)
    assert list(records["ref"]) == ["MR-1"]
    assert len(read_legs) == 5
    out = tmp_path / "shapes.gpkg"
    assert main(["records", "digitise", str(path), "--out", str(out)]) == 0
    assert "1 of 1 records digitised, 5 turning points" in capsys.readouterr().out
    assert {name for name, _ in pyogrio.list_layers(out)} == {"minefield_shapes", "turning_points"}
    shapes = pyogrio.read_dataframe(out, layer="minefield_shapes")
    assert shapes.geometry.iloc[0].area == pytest.approx(20000)


def test_geopackage_input_and_geojson_output(tmp_path: Path) -> None:
    path = tmp_path / "records.gpkg"
    _records().to_file(path, layer="minefield_records")
    pyogrio.write_dataframe(_legs(), path, layer="minefield_legs")
    out = tmp_path / "shapes.geojson"
    assert main(["records", "digitise", str(path), "--out", str(out)]) == 0
    both = pyogrio.read_dataframe(out)
    assert sorted(set(both["feature"])) == ["shape", "turning_point"]


def test_bad_minefield_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    flat = _legs().rename(columns={"record_ref": "ref"}).assign(lat=LAT, lon=LON)
    flat.assign(bearing_deg="north").to_csv(path, index=False)
    with pytest.raises(InputFileError, match="bearing_deg"):
        read_minefield_file(path, crs=UTM)
