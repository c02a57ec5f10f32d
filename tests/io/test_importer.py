"""Imports into a real GeoPackage store: all or nothing, rejects, duplicates, mappings."""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from minemap.cli.main import main
from minemap.errors import ConfigError, InputFileError
from minemap.io.importer import ImportRefusedError, import_file
from minemap.io.mapping import shipped_mappings
from minemap.store.base import Store
from tests.io.conftest import LAT, LON, finds_frame, square, write_csv

WKT = "POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"


def poly_wkt(lon: float, lat: float, size: float = 0.002) -> str:
    return WKT.format(x0=lon, y0=lat, x1=lon + size, y1=lat + size)


def read_rejects(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def messy_hazards(path: Path) -> Path:
    """A realistic bad file: Azerbaijani/Cyrillic headers, nulls, a bow-tie, swapped, bad date."""
    x1, y1 = LON + 0.002, LAT + 0.002
    bowtie = f"POLYGON(({LON} {LAT},{x1} {y1},{x1} {LAT},{LON} {y1},{LON} {LAT}))"
    rows = [
        ["Kod", "Növ", "Загрязнение", "Status", "Tarix", "WKT", "Qeyd"],
        ["AZ-1", "Şübhəli", "AP", "Açıq", "12.03.2021", poly_wkt(LON, LAT), "kənd yaxınlığı"],
        ["AZ-2", "Təsdiqlənmiş", "AT", "Açıq", "31.02.2021", poly_wkt(LON + 0.01, LAT), ""],
        ["AZ-3", "Şübhəli", "", "Açıq", "01.04.2021", poly_wkt(LON + 0.02, LAT), "boş"],
        ["AZ-4", "Şübhəli", "AP", "Açıq", "02.04.2021", "", "koordinat yoxdur"],
        ["AZ-5", "Təsdiqlənmiş", "mixed", "Açıq", "03.04.2021", bowtie, "özünü kəsir"],
        ["AZ-6", "Şübhəli", "UXO", "Açıq", "04.04.2021", poly_wkt(LAT, LON + 0.03), "yer dəyişib"],
        [
            "AZ-7",
            "Şübhəli",
            "AP",
            "Açıq",
            "05.04.2021",
            f"POLYGON(({LON} {LAT},{LON + 0.001} {LAT},{LON} {LAT}))",
            "xətt",
        ],
    ]
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter=";").writerows(rows)
    return path


MESSY_MAP = """
kind = "hazards"
date_formats = ["%d.%m.%Y"]
[columns]
"Kod" = "ref"
"Növ" = "type"
"Загрязнение" = "contamination"
"Status" = "status"
"Tarix" = "recorded_on"
[values.type]
"Şübhəli" = "SHA"
"Təsdiqlənmiş" = "CHA"
[values.status]
"Açıq" = "open"
"""


def test_messy_file_is_refused_whole_and_listed(tmp_path: Path, store: Store) -> None:
    path = messy_hazards(tmp_path / "messy.csv")
    mapping = tmp_path / "az.toml"
    mapping.write_text(MESSY_MAP, encoding="utf-8")
    with pytest.raises(ImportRefusedError) as info:
        import_file(store, "hazards", path, user="t", mapping=mapping)
    refused = info.value.refused
    assert set(refused) == {2, 3, 4, 6, 7}
    assert "not a date" in refused[2]
    assert "contamination" in refused[3]
    assert "missing" in refused[4]
    assert "swapped" in refused[6]
    assert "three distinct" in refused[7]
    assert store.count("hazards") == 0  # nothing half-written


def test_messy_file_skip_invalid_accounts_for_every_row(tmp_path: Path, store: Store) -> None:
    path = messy_hazards(tmp_path / "messy.csv")
    mapping = tmp_path / "az.toml"
    mapping.write_text(MESSY_MAP, encoding="utf-8")
    rejects = tmp_path / "out" / "rejects.csv"
    report = import_file(
        store, "hazards", path, user="t", mapping=mapping, skip_invalid=True, rejects=rejects
    )
    assert report.imported == 2  # AZ-1 and the repaired bow-tie AZ-5
    listed = read_rejects(rejects)
    assert report.imported + len(listed) == report.rows_read == 7
    assert [r["row"] for r in listed] == ["2", "3", "4", "6", "7"]
    assert all(r["reason"] for r in listed)
    assert listed[0]["Kod"] == "AZ-2"  # the file's own columns, to fix and re-import
    assert any("repaired" in n for n in report.notes)
    stored = store.read("hazards")
    assert sorted(stored["ref"]) == ["AZ-1", "AZ-5"]
    az1 = stored.set_index("ref").loc["AZ-1"]
    assert az1["attributes"] == {"Qeyd": "kənd yaxınlığı"}  # unmapped column kept


def test_skip_invalid_needs_rejects(tmp_path: Path, store: Store) -> None:
    path = messy_hazards(tmp_path / "messy.csv")
    with pytest.raises(ConfigError, match="--rejects"):
        import_file(store, "hazards", path, user="t", skip_invalid=True)


def test_file_of_another_kind(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "finds.csv"
    finds_frame().to_csv(path, index=False)
    with pytest.raises(InputFileError, match="look like finds, not hazards"):
        import_file(store, "hazards", path, user="t")


def test_points_given_for_polygons_are_refused(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "pts.csv"
    frame = finds_frame().assign(
        type="SHA", contamination="AP", status="open", recorded_on="2021-01-01"
    )
    frame.to_csv(path, index=False)
    with pytest.raises(ImportRefusedError, match="expected MultiPolygon, got Point"):
        import_file(store, "hazards", path, user="t")


def test_swapped_columns_in_every_row(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "swapped.csv"
    frame = finds_frame().rename(columns={"lat": "lon", "lon": "lat"})
    frame.to_csv(path, index=False)
    with pytest.raises(InputFileError, match="swapped in every row"):
        import_file(store, "finds", path, user="t")


def test_set_defaults_and_links(
    tmp_path: Path, store: Store, hazards_wgs84: gpd.GeoDataFrame
) -> None:
    path = tmp_path / "h.gpkg"
    hazards_wgs84.drop(columns="type").to_file(path, layer="hazards")
    report = import_file(store, "hazards", path, user="t", defaults={"type": "CHA"})
    assert report.imported == 3
    stored = store.read("hazards", with_refs=True).set_index("ref")
    assert set(stored["type"]) == {"CHA"}
    org_id = int(store.read("organisations")["id"].iloc[0])
    assert stored.loc["HA-1", "organisation_id"] == org_id
    assert stored.crs.to_epsg() == 32638  # reprojected into the store CRS
    finds = tmp_path / "finds.csv"
    finds_frame().assign(hazard_ref=["HA-1", "HA-9"]).to_csv(finds, index=False)
    with pytest.raises(ImportRefusedError) as info:
        import_file(store, "finds", finds, user="t")
    assert list(info.value.refused) == [2]
    assert "HA-9" in info.value.refused[2]


def test_mgrs_and_kobo_columns(tmp_path: Path, store: Store) -> None:
    import mgrs

    grid = mgrs.MGRS()
    path = tmp_path / "kobo.csv"
    pd.DataFrame(
        {
            "start": ["2022-05-01T08:00:00.000+04:00"] * 2,
            "grp_find/category": ["AP", "AT"],
            "grp_find/found_on": ["2022-05-01", "2022-05-02"],
            "grid": [grid.toMGRS(LAT, LON), grid.toMGRS(LAT + 0.001, LON)],
            "_uuid": ["a1", "b2"],
        }
    ).to_csv(path, index=False)
    report = import_file(store, "finds", path, user="t")
    assert report.imported == 2
    stored = store.read("finds")
    assert set(stored["category"]) == {"AP", "AT"}
    assert stored["attributes"].iloc[0]["_uuid"] == "a1"


def test_odk_geoshape_with_shipped_mapping(tmp_path: Path, store: Store) -> None:
    shape = ";".join(
        f"{lat} {lon} 0 5"
        for lon, lat in [
            (LON, LAT),
            (LON + 0.002, LAT),
            (LON + 0.002, LAT + 0.002),
            (LON, LAT + 0.002),
            (LON, LAT),
        ]
    )
    path = tmp_path / "nts.csv"
    pd.DataFrame(
        {
            "today": ["2023-06-01"],
            "site/hazard_type": ["SHA"],
            "site/contamination": ["AP"],
            "site/area_boundary": [shape],
            "meta/instanceID": ["uuid:1"],
        }
    ).to_csv(path, index=False)
    report = import_file(store, "hazards", path, user="t", mapping=shipped_mappings()["kobo_nts"])
    assert report.imported == 1
    hazard = store.read("hazards").iloc[0]
    assert hazard["status"] == "open"  # from the mapping's [set]
    assert hazard["area_m2"] > 30000


def test_cp1251_file_with_russian_mapping(tmp_path: Path, store: Store) -> None:
    rows = [
        ["Номер", "Категория", "Тип", "Дата", "Широта", "Долгота", "Примечание"],
        ["FD-10", "ПП мина", "ПМН-2", "12.03.2021", str(LAT), str(LON), "у дороги"],
        ["FD-11", "ПТ мина", "ТМ-62М", "13.03.2021", str(LAT + 0.001), str(LON), ""],
    ]
    path = write_csv(tmp_path / "nahodki.csv", rows, encoding="cp1251", sep=";")
    report = import_file(store, "finds", path, user="t", mapping=shipped_mappings()["ru_finds"])
    assert report.encoding == "cp1251"
    stored = store.read("finds").set_index("ref")
    assert stored.loc["FD-10", "category"] == "AP"
    assert stored.loc["FD-11", "model"] == "ТМ-62М"
    assert stored.loc["FD-10", "attributes"] == {"Примечание": "у дороги"}


def _dup_file(tmp_path: Path, name: str) -> Path:
    frame = gpd.GeoDataFrame(
        {
            "type": ["SHA", "SHA", "CHA"],
            "contamination": ["AP", "AP", "AT"],
            "status": ["open", "open", "open"],
            "recorded_on": ["2021-01-01", "2021-01-01", "2021-01-01"],
            "description": [None, "second team's sketch", "elsewhere"],
        },
        # row 2 is row 1 drawn again, shifted ~20 m: an overlapping polygon of the same date
        geometry=[square(LON, LAT), square(LON + 0.0002, LAT), square(LON + 0.05, LAT)],
        crs="EPSG:4326",
    )
    path = tmp_path / name
    frame.to_file(path)
    return path


@pytest.mark.parametrize("mode", ["keep", "skip", "merge"])
def test_duplicates_in_file_each_mode(tmp_path: Path, store: Store, mode: str) -> None:
    path = _dup_file(tmp_path, "dups.geojson")
    rejects = tmp_path / "rejects.csv"
    report = import_file(store, "hazards", path, user="t", on_duplicate=mode, rejects=rejects)  # type: ignore[arg-type]
    assert [d.row for d in report.duplicates] == [2]
    assert report.duplicates[0].other_row == 1
    listed = read_rejects(rejects)
    assert report.imported + len(listed) == report.rows_read == 3
    if mode == "keep":
        assert report.imported == 3
        assert listed == []
    else:
        assert report.imported == 2
        assert listed[0]["row"] == "2"
        assert listed[0]["reason"].startswith("skipped" if mode == "skip" else "merged")
    if mode == "merge":
        merged = store.read("hazards").sort_values("id").iloc[0]
        assert merged["description"] == "second team's sketch"  # the empty field was filled


@pytest.mark.parametrize("mode", ["keep", "skip", "merge"])
def test_duplicates_against_the_store(tmp_path: Path, store: Store, mode: str) -> None:
    first = _dup_file(tmp_path, "first.geojson")
    import_file(store, "hazards", first, user="t")
    again = tmp_path / "again.csv"
    frame = gpd.read_file(first)
    frame["description"] = ["from the second import", None, "elsewhere"]
    frame.assign(wkt=frame.geometry.to_wkt()).drop(columns="geometry").to_csv(again, index=False)
    rejects = tmp_path / "rejects.csv"
    report = import_file(store, "hazards", again, user="t", on_duplicate=mode, rejects=rejects)  # type: ignore[arg-type]
    assert {d.row for d in report.duplicates} >= {1, 3}
    assert all(d.other_id is not None for d in report.duplicates if d.row in (1, 3))
    listed = read_rejects(rejects)
    assert report.imported + len(listed) == report.rows_read
    if mode == "keep":
        assert store.count("hazards") == 6
    else:
        assert store.count("hazards") == 3
    if mode == "merge":
        stored = store.read("hazards").sort_values("id")
        assert stored.iloc[0]["description"] == "from the second import"
        audit = store.audit(kind="hazards", record_id=int(stored.iloc[0]["id"]))
        assert len(audit) == 2  # insert, then the merge


def test_cli_exit_codes_and_messages(
    tmp_path: Path, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    path = messy_hazards(tmp_path / "messy.csv")
    mapping = tmp_path / "az.toml"
    mapping.write_text(MESSY_MAP, encoding="utf-8")
    db = store.url
    store.close()
    code = main(["import", "hazards", str(path), "--db", db, "--map", str(mapping)])
    err = capsys.readouterr().err
    assert code == 1
    assert "row 6:" in err
    assert err.strip().splitlines()[-1].startswith("Error: ")
    assert "5 of 7 rows refused, nothing imported" in err
    rejects = tmp_path / "r.csv"
    code = main(
        [
            "import",
            "hazards",
            str(path),
            "--db",
            db,
            "--map",
            str(mapping),
            "--skip-invalid",
            "--rejects",
            str(rejects),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "7 rows read, 2 imported, 5 refused" in out
    assert main(["import", "nonsense", str(path), "--db", db]) == 1
    assert main(["import", "hazards", str(path), "--db", db, "--set", "colour=red"]) == 1
    assert "has no field 'colour'" in capsys.readouterr().err


def test_wrong_types_are_named(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "finds.csv"
    finds_frame().assign(depth_cm=["deep", "12"], quantity=["1", "2.5"]).to_csv(path, index=False)
    with pytest.raises(ImportRefusedError) as info:
        import_file(store, "finds", path, user="t")
    assert "depth_cm: 'deep' is not a number" in info.value.refused[1]
    assert "quantity: '2.5' is not a whole number" in info.value.refused[2]
    assert store.count("finds") == 0
