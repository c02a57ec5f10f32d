"""Reading every format and encoding into one raw table; bad files named clearly."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pytest

from minemap.errors import InputFileError
from minemap.io.readers import read_table
from minemap.io.text import decode_bytes, sniff_delimiter
from tests.io.conftest import write_csv


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        ("Район;Тип;Дата\nАгдам;ПМН-2;12.03.2021\nФизули;ТМ-62;01.02.2020\n", "cp1251", "cp1251"),
        ("Rayon;Növ\nAğdam;Şuşa\nFüzuli;Xocavənd\n", "utf-8", "utf-8"),
        ("Rayon;Növ\nAğdam;Şuşa\nFüzuli;Qubadlı\n", "cp1254", "cp1254"),
        ("Región;Descripción\nAntioquia;Campaña año\n", "cp1252", "cp1252"),
        ("ref,name\nHA-1,Ağdam\n", "utf-8-sig", "utf-8-sig"),
        ("ref,name\nHA-1,Ağdam\n", "utf-16", "utf-16"),
    ],
)
def test_encodings_are_found_and_reported(text: str, encoding: str, expected: str) -> None:
    decoded = decode_bytes(text.encode(encoding), "x.csv")
    assert decoded.text == text
    assert decoded.encoding == expected


def test_utf16_without_mark_is_refused() -> None:
    data = "ref,name\nHA-1,x\n".encode("utf-16-le")
    with pytest.raises(InputFileError, match="cannot tell the text encoding"):
        decode_bytes(data, "x.csv")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ref;area\nHA-1;12,5\nHA-2;3,25\n", ";"),  # Excel in a decimal-comma locale
        ("ref\tname\nHA-1\tAğdam\n", "\t"),
        ("ref|name\nHA-1|Ağdam\n", "|"),
        ('"Homicidio, Masacre";Municipio\n1;SONSON\n2;NARI¥O\n', ";"),  # commas in a header
        ('ref,wkt\nHA-1,"POINT (46.9 39.8)"\nHA-2,"POINT (47.1 39.7)"\n', ","),
        ("ref\nHA-1\nHA-2\n", ","),  # one column
    ],
)
def test_delimiter_is_sniffed(text: str, expected: str) -> None:
    assert sniff_delimiter(text) == expected


def test_csv_rows_numbered_from_one_and_kept_as_text(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", [["ref", "depth"], ["FD-1", "05"], ["FD-2", '"7,5"']])
    table = read_table(path)
    assert list(table.frame.index) == [1, 2]
    assert table.frame.loc[1, "depth"] == "05"
    assert table.encoding == "utf-8"


def test_truncated_csv_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    path.write_text("ref,type,status\nHA-1,SHA,open\nHA-2,CH", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"cut.csv, row 2: has 2 values .*truncated"):
        read_table(path)


def test_unclosed_quote_is_a_broken_csv(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('ref,name\nHA-1,"Ağdam\n', encoding="utf-8")
    with pytest.raises(InputFileError, match="broken CSV"):
        read_table(path)


@pytest.mark.parametrize("content", [b"", b"ref,type\n"])
def test_empty_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=r"empty|no records"):
        read_table(path)


def test_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "x.dbx"
    path.write_text("x")
    with pytest.raises(InputFileError, match="unknown file type"):
        read_table(path)


def test_truncated_geopackage(tmp_path: Path, hazards_wgs84: gpd.GeoDataFrame) -> None:
    good = tmp_path / "h.gpkg"
    hazards_wgs84.to_file(good, layer="hazards")
    cut = tmp_path / "cut.gpkg"
    cut.write_bytes(good.read_bytes()[:3000])
    with pytest.raises(InputFileError, match=r"cut.gpkg"):
        read_table(cut)


def test_geopackage_layer_chosen_by_kind(tmp_path: Path, hazards_wgs84: gpd.GeoDataFrame) -> None:
    path = tmp_path / "two.gpkg"
    hazards_wgs84.to_file(path, layer="hazards")
    hazards_wgs84.to_file(path, layer="other")
    assert read_table(path, prefer_layer="hazards").layer == "hazards"
    with pytest.raises(InputFileError, match="several layers"):
        read_table(path)
    with pytest.raises(InputFileError, match="no layer 'nope'"):
        read_table(path, layer="nope")


def test_zipped_shapefile(tmp_path: Path, hazards_wgs84: gpd.GeoDataFrame) -> None:
    shp = tmp_path / "shp" / "hazards.shp"
    shp.parent.mkdir()
    renames = {"contamination": "contam", "recorded_on": "recorded"}
    hazards_wgs84.drop(columns="organisation_ref").rename(columns=renames).to_file(shp)
    archive = tmp_path / "hazards.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in shp.parent.iterdir():
            z.write(part, part.name)
    table = read_table(archive)
    assert table.format == "shp"
    assert len(table.frame) == 3
    assert table.crs is not None
    assert "Ağdam şimal" in set(table.frame["name"])


def test_xlsx_sheet_by_kind(tmp_path: Path, hazards_wgs84: gpd.GeoDataFrame) -> None:
    import pandas as pd

    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as book:
        pd.DataFrame({"a": [1]}).to_excel(book, sheet_name="notes", index=False)
        pd.DataFrame(hazards_wgs84.drop(columns="geometry")).to_excel(
            book, sheet_name="hazards", index=False
        )
    table = read_table(path, prefer_layer="hazards")
    assert table.layer == "hazards"
    assert list(table.frame["ref"]) == ["HA-1", "HA-2", "HA-3"]


def test_broken_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(InputFileError, match=r"bad\.xlsx"):
        read_table(path)
