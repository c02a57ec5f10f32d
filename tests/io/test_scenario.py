"""``minemap import scenario``: every observed layer, linked, whole or not at all; truth unread."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from affine import Affine

from minemap.cli.main import main
from minemap.errors import InputFileError
from minemap.io.digitise import digitise_store
from minemap.io.scenario import import_scenario
from minemap.store import open_store

UTM = "EPSG:32638"
X, Y = 650_000.0, 4_410_000.0


def _layer(
    path: Path, name: str, frame: pd.DataFrame, geoms: list[shapely.Geometry] | None
) -> None:
    if geoms is None:
        pyogrio.write_dataframe(frame, path, layer=name)
    else:
        pyogrio.write_dataframe(gpd.GeoDataFrame(frame, geometry=geoms, crs=UTM), path, layer=name)


def tiny_scenario(folder: Path, *, bad_link: bool = False) -> Path:
    folder.mkdir()
    obs = folder / "observed.gpkg"
    _layer(
        obs,
        "organisations",
        pd.DataFrame({"ref": ["ORG-1"], "name": ["ANAMA"], "type": ["national_authority"]}),
        None,
    )
    _layer(
        obs,
        "settlements",
        pd.DataFrame({"ref": ["SE-1"], "name": ["Ağdam"], "population": [120]}),
        [shapely.Point(X, Y)],
    )
    _layer(
        obs,
        "hazards",
        pd.DataFrame(
            {
                "ref": ["HA-1", "HA-2"],
                "type": ["SHA", "CHA"],
                "contamination": ["AP", "AT"],
                "status": ["open", "open"],
                "recorded_on": ["2021-01-01", "2022-01-01"],
                "settlement_ref": ["SE-1", None],
                "organisation_ref": ["ORG-1", "ORG-1"],
            }
        ),
        [
            shapely.MultiPolygon([shapely.box(X, Y, X + 300, Y + 200)]),
            shapely.MultiPolygon([shapely.box(X + 500, Y, X + 700, Y + 200)]),
        ],
    )
    _layer(
        obs,
        "activities",
        pd.DataFrame(
            {
                "ref": ["AC-1"],
                "type": ["TS"],
                "hazard_ref": ["HA-1"],
                "start_date": ["2022-03-01"],
                "status": ["completed"],
            }
        ),
        [shapely.MultiPolygon([shapely.box(X, Y, X + 100, Y + 100)])],
    )
    _layer(
        obs,
        "finds",
        pd.DataFrame(
            {
                "ref": ["FD-1", "FD-2"],
                "category": ["AP", "AP"],
                "activity_ref": ["AC-1", "AC-9" if bad_link else "AC-1"],
                "found_on": ["2022-03-02", "2022-03-03"],
            }
        ),
        [shapely.Point(X + 10, Y + 10), shapely.Point(X + 20, Y + 20)],
    )
    _layer(
        obs,
        "accidents",
        pd.DataFrame({"ref": ["AD-1"], "occurred_on": ["2021-06-01"], "hazard_ref": ["HA-1"]}),
        [shapely.Point(X + 50, Y + 50)],
    )
    _layer(
        obs,
        "victims",
        pd.DataFrame(
            {
                "ref": ["VI-1"],
                "accident_ref": ["AD-1"],
                "outcome": ["injured"],
                "group": ["civilian"],
            }
        ),
        None,
    )
    _layer(
        obs,
        "minefield_records",
        pd.DataFrame({"ref": ["MR-1"], "bearing_type": ["grid"], "shape": ["polygon"]}),
        [shapely.Point(X - 100, Y)],
    )
    _layer(
        obs,
        "minefield_legs",
        pd.DataFrame(
            {
                "record_ref": ["MR-1"] * 4,
                "seq": [1, 2, 3, 4],
                "bearing_deg": [90.0, 0.0, 90.0, 180.0],
                "distance_m": [100.0, 100.0, 100.0, 100.0],
            }
        ),
        None,
    )
    with rasterio.open(
        folder / "dem.tif",
        "w",
        driver="GTiff",
        width=4,
        height=4,
        count=1,
        dtype="float32",
        crs=UTM,
        transform=Affine(100.0, 0.0, X, 0.0, -100.0, Y + 400),
    ) as dem:
        dem.write(np.arange(16, dtype="float32").reshape(1, 4, 4))
    # the hidden truth must never be opened by an import: garbage proves it is not read
    (folder / "truth.gpkg").write_bytes(b"not a geopackage: reading it would fail")
    return folder


def test_scenario_imports_whole_and_linked(tmp_path: Path) -> None:
    folder = tiny_scenario(tmp_path / "scn")
    store = open_store(str(tmp_path / "s.gpkg"))
    store.init()
    result = import_scenario(store, folder, user="t")
    assert result.counts["finds"] == 2
    assert result.counts["minefield_legs"] == 4
    assert result.rasters == ["dem"]
    finds = store.read("finds", with_refs=True)
    assert set(finds["activity_ref"]) == {"AC-1"}
    victims = store.read("victims", with_refs=True)
    assert victims["accident_ref"].tolist() == ["AD-1"]
    assert store.raster("dem") is not None
    shapes = digitise_store(store).shapes
    assert shapes.geometry.iloc[0].area == pytest.approx(100 * 100)
    store.close()


def test_scenario_with_a_bad_layer_writes_nothing(tmp_path: Path) -> None:
    folder = tiny_scenario(tmp_path / "scn", bad_link=True)
    store = open_store(str(tmp_path / "s.gpkg"))
    store.init()
    with pytest.raises(Exception, match="AC-9"):
        import_scenario(store, folder, user="t")
    assert all(store.count(k) == 0 for k in ("organisations", "hazards", "activities", "finds"))
    store.close()


def test_not_a_scenario_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = open_store(str(tmp_path / "s.gpkg"))
    store.init()
    with pytest.raises(InputFileError, match=r"no observed\.gpkg"):
        import_scenario(store, tmp_path, user="t")
    store.close()
    db = str(tmp_path / "s.gpkg")
    assert main(["import", "scenario", str(tmp_path / "missing"), "--db", db]) == 1
    assert "not a scenario folder" in capsys.readouterr().err


@pytest.mark.slow
def test_generated_scenario_imports_whole(tmp_path: Path, scenario_dir: Path) -> None:
    """The shared generated scenario: every observed layer, every feature, linked."""
    store = open_store(str(tmp_path / "scenario.gpkg"))
    store.init()
    result = import_scenario(store, scenario_dir, user="t")
    observed = scenario_dir / "observed.gpkg"
    for name, _ in pyogrio.list_layers(observed):
        expected = pyogrio.read_info(observed, layer=name)["features"]
        assert result.counts.get(name, 0) == expected, name
        assert store.count(name) == expected, name
    assert set(result.rasters) == {"dem", "landcover"}
    legs = store.read("minefield_legs", with_refs=True)
    assert legs["record_ref"].notna().all()
    assert not digitise_store(store).shapes.empty
    store.close()
