"""Exports: every format imports back into the same records; styles, KML, personal data."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from minemap.cli.main import main
from minemap.errors import ConfigError
from minemap.io.export import EXPORT_FORMATS, export_records
from minemap.io.importer import import_file
from minemap.io.mapping import shapefile_names
from minemap.store import open_store
from minemap.store.base import Store
from tests.io.conftest import LAT, LON

SUFFIX = {
    "gpkg": "gpkg",
    "geojson": "geojson",
    "kml": "kml",
    "csv": "csv",
    "xlsx": "xlsx",
    "shp": "shp",
}


def fresh_store(path: Path) -> Store:
    s = open_store(str(path))
    s.init()
    s.insert(
        "organisations",
        [{"ref": "ORG-1", "name": "ANAMA", "type": "national_authority"}],
        user="test",
    )
    return s


def _comparable(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = frame.set_index("ref")[columns].sort_index()
    for col in out.columns:
        if str(out[col].dtype).startswith("datetime"):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_hazards_round_trip(
    tmp_path: Path, store: Store, hazards_wgs84: gpd.GeoDataFrame, fmt: str
) -> None:
    source = tmp_path / "in.gpkg"
    hazards_wgs84.assign(description=['a, "quoted" text', None, "трава"]).to_file(
        source, layer="hazards"
    )
    import_file(store, "hazards", source, user="t")
    out = tmp_path / "export" / f"hazards.{SUFFIX[fmt]}"
    report = export_records(store, "hazards", fmt, out)
    assert report.records == 3
    assert out.exists()
    again = fresh_store(tmp_path / "again.gpkg")
    import_file(again, "hazards", out, user="t")
    columns = ["type", "contamination", "status", "recorded_on", "name", "description", "area_m2"]
    before = store.read("hazards")
    after = again.read("hazards")
    pd.testing.assert_frame_equal(
        _comparable(before, columns[:-1]), _comparable(after, columns[:-1]), check_dtype=False
    )
    assert list(_comparable(after, ["area_m2"])["area_m2"]) == pytest.approx(
        list(_comparable(before, ["area_m2"])["area_m2"]), rel=1e-6
    )
    b = before.set_index("ref").sort_index().geometry
    a = after.set_index("ref").sort_index().geometry
    assert all(shapely.hausdorff_distance(x, y) < 0.01 for x, y in zip(a, b, strict=True))
    assert list(after.set_index("ref").sort_index()["organisation_id"].isna()) == [
        False,
        False,
        True,
    ]
    again.close()


def test_gpkg_export_carries_qgis_style(
    tmp_path: Path, store: Store, hazards_wgs84: gpd.GeoDataFrame
) -> None:
    source = tmp_path / "in.gpkg"
    hazards_wgs84.to_file(source, layer="hazards")
    import_file(store, "hazards", source, user="t")
    out = tmp_path / "h.gpkg"
    export_records(store, "hazards", "gpkg", out)
    with sqlite3.connect(out) as conn:
        row = conn.execute(
            "SELECT f_table_name, f_geometry_column, useAsDefault, styleQML FROM layer_styles"
        ).fetchone()
        contents = conn.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'"
        ).fetchone()
    assert row[0] == "hazards"
    assert row[1] == pyogrio.read_info(out, layer="hazards")["geometry_name"]
    assert row[2] == 1
    assert 'type="categorizedSymbol" attr="status"' in row[3]
    assert 'value="handed_over"' in row[3]
    assert contents == ("attributes",)
    assert pyogrio.read_info(out, layer="hazards")["crs"] == "EPSG:32638"


def test_kml_has_styles_names_and_wgs84(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "finds.csv"
    pd.DataFrame(
        {
            "ref": ["FD-1", "FD-2"],
            "category": ["AP", "AT"],
            "found_on": ["2022-01-01"] * 2,
            "model": ["PMN-2", "TM-62M"],
            "lat": [LAT, LAT + 0.001],
            "lon": [LON, LON],
        }
    ).to_csv(path, index=False)
    import_file(store, "finds", path, user="t")
    out = tmp_path / "finds.kmz"
    export_records(store, "finds", "kml", out)
    with zipfile.ZipFile(out) as kmz:
        body = kmz.read("doc.kml").decode("utf-8")
    assert '<Style id="finds-AP">' in body
    assert "<styleUrl>#finds-AT</styleUrl>" in body
    assert "<name>FD-1</name>" in body
    assert "category: AP; model: PMN-2; found on: 2022-01-01" in body
    assert f"{LON:.8f},{LAT:.8f}" in body


def test_accidents_export_outcome_and_personal_fields(tmp_path: Path, store: Store) -> None:
    store.insert(
        "accidents",
        gpd.GeoDataFrame(
            {
                "ref": ["AD-1", "AD-2"],
                "occurred_on": ["2021-05-01", "2022-06-01"],
                "activity": ["farming", "herding"],
            },
            geometry=[shapely.Point(LON, LAT), shapely.Point(LON + 0.01, LAT)],
            crs="EPSG:4326",
        ),
        user="t",
    )
    store.insert(
        "victims",
        [
            {
                "accident_ref": "AD-1",
                "outcome": "injured",
                "group": "civilian",
                "name": "Əli Məmmədov",
            },
            {"accident_ref": "AD-1", "outcome": "killed", "group": "civilian"},
            {"accident_ref": "AD-2", "outcome": "injured", "group": "military"},
        ],
        user="t",
    )
    out = tmp_path / "acc.gpkg"
    export_records(store, "accidents", "gpkg", out)
    acc = pyogrio.read_dataframe(out, layer="accidents").set_index("ref")
    assert acc.loc["AD-1", "outcome"] == "killed"
    assert acc.loc["AD-2", "outcome"] == "injured"
    assert int(acc.loc["AD-1", "killed"]) == 1
    again = fresh_store(tmp_path / "again.gpkg")
    import_file(again, "accidents", out, user="t")
    assert again.read("accidents")["attributes"].isna().all()  # derived columns are not kept
    victims = tmp_path / "victims.csv"
    report = export_records(store, "victims", "csv", victims)
    text = victims.read_text(encoding="utf-8-sig")
    assert "Məmmədov" not in text
    assert "name" not in text.splitlines()[0].split(",")
    assert any("personal fields left out" in n for n in report.notes)
    export_records(store, "victims", "csv", victims, personal=True)
    assert "Əli Məmmədov" in victims.read_text(encoding="utf-8-sig")
    again.close()


def test_shapefile_names_are_short_unique_and_mapped_back(tmp_path: Path) -> None:
    names = shapefile_names(
        ["area_cancelled_m2", "area_cleared_m2", "foreign_column_a", "foreign_column_b"]
    )
    assert all(len(v) <= 10 for v in names.values())
    assert len(set(names.values())) == 4
    assert names["area_cancelled_m2"] == "a_cancel"


def test_export_refuses_kml_without_geometry(tmp_path: Path, store: Store) -> None:
    with pytest.raises(ConfigError, match="no geometry"):
        export_records(store, "organisations", "kml", tmp_path / "o.kml")
    assert not (tmp_path / "o.kml").exists()


def test_export_cli(tmp_path: Path, store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    db = store.url
    store.close()
    out = tmp_path / "orgs.xlsx"
    assert main(["export", "organisations", "--db", db, "--format", "xlsx", "--out", str(out)]) == 0
    assert "1 records written" in capsys.readouterr().out
    assert pd.read_excel(out)["ref"].tolist() == ["ORG-1"]
    code = main(
        [
            "export",
            "victims",
            "--db",
            db,
            "--format",
            "csv",
            "--out",
            str(out),
            "--include-personal",
        ]
    )
    assert code == 1
    assert "--include-personal needs --user" in capsys.readouterr().err
