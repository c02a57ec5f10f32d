"""Reading analysts' feature tables as they are: encodings, headers, labels, identifiers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from minemap.errors import ConfigError, InputFileError
from minemap.risk.table import (
    find_column,
    identifier_reason,
    metric_coordinates,
    parse_labels,
    prepare_table,
    read_table,
)
from tests.risk.tabledata import FEATURES, GROUP, LABEL, awkward_table, write_csv


def test_awkward_headers_are_kept_exactly(tmp_path: Path) -> None:
    frame = awkward_table(n_per_group=12)
    path = write_csv(frame, tmp_path / "cells.csv")
    read = read_table(path)
    assert list(read.columns) == list(frame.columns)
    assert "Distancia, vía " in read.columns  # comma inside, trailing space kept
    assert set(read[GROUP]) == {"NARI¥O", "PE¥OL", "SAN CARLOS", "GRANADA"}
    assert read[FEATURES[0]].dtype == float


def test_legacy_code_page_with_broken_letter(tmp_path: Path) -> None:
    # the Antioquia case: an Ñ saved in a DOS code page (0xA5) and read back as Latin-1
    header = '"elevación","Distancia, vía ",Municipio,mines_outcome\n'
    rows = "1200.5,3.2,NARI\xa5O,1\n900.0,1.1,PE\xa5OL,0\n1000.0,2.0,SAN CARLOS,-1\n"
    path = tmp_path / "latin.csv"
    path.write_bytes((header + rows).encode("latin-1"))
    read = read_table(path)
    assert list(read.columns) == ["elevación", "Distancia, vía ", "Municipio", "mines_outcome"]
    assert read["Municipio"].tolist() == ["NARI¥O", "PE¥OL", "SAN CARLOS"]
    assert read["elevación"].tolist() == [1200.5, 900.0, 1000.0]


def test_semicolon_and_decimal_comma(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text("altura;riesgo;label\n1,5;2;1\n2,25;3;0\n", encoding="utf-8")
    read = read_table(path)
    assert read["altura"].tolist() == [1.5, 2.25]
    assert read["label"].tolist() == [1, 0]


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet", ".gpkg"])
def test_other_formats(tmp_path: Path, suffix: str) -> None:
    frame = awkward_table(n_per_group=5).drop(columns="geometry")
    path = tmp_path / f"cells{suffix}"
    if suffix == ".xlsx":
        frame.to_excel(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path)
    else:
        import geopandas as gpd

        geo = gpd.GeoDataFrame(
            frame,
            geometry=gpd.points_from_xy(frame["LONGITUD_X"], frame["LATITUD_Y"]),
            crs="EPSG:4326",
        )
        geo.to_file(path, driver="GPKG")
    read = read_table(path)
    assert len(read) == len(frame)
    assert read[LABEL].tolist() == frame[LABEL].tolist()
    assert np.allclose(read[FEATURES[0]], frame[FEATURES[0]])


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        read_table(tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputFileError, match="empty"):
        read_table(empty)
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"this is not a workbook")
    with pytest.raises(InputFileError, match=r"fake\.xlsx"):
        read_table(fake)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3,4,5,6\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"ragged\.csv, row 2"):
        read_table(ragged)


@pytest.mark.parametrize(
    ("asked", "found"),
    [
        ("Municipio", "Municipio"),
        ("municipio", "Municipio"),
        ("MUNICIPIO ", "Municipio"),
        ("SIN INFORMACION", "SIN INFORMACION "),
        ("Elevacion", "elevación"),
        ("distancia via", "Distancia, vía "),
    ],
)
def test_find_column_after_normalisation(asked: str, found: str) -> None:
    columns = ["Municipio", "SIN INFORMACION ", "elevación", "Distancia, vía "]
    assert find_column(columns, asked, path="t.csv") == found


def test_find_column_missing_names_file_and_suggests() -> None:
    with pytest.raises(
        InputFileError, match=r"t\.csv: no label column 'mine_outcome'.*mines_outcome"
    ):
        find_column(["mines_outcome", "x"], "mine_outcome", path="t.csv", role="label")


def test_parse_labels_numeric_with_unknown() -> None:
    codes = parse_labels(pd.Series([1, 0, -1, 1, np.nan]), unknown="-1")
    assert codes.tolist() == [1, 0, -1, 1, -1]


def test_parse_labels_words() -> None:
    codes = parse_labels(pd.Series(["Sí", "no", "unknown", "YES", ""]), unknown="unknown")
    assert codes.tolist() == [1, 0, -1, 1, -1]


def test_parse_labels_errors() -> None:
    with pytest.raises(ConfigError, match="--unknown 'none' is not a number"):
        parse_labels(pd.Series([1, 0, -1], name="mines_outcome"), unknown="none")
    with pytest.raises(InputFileError, match="only one class"):
        parse_labels(pd.Series([1, 1, -1], name="y"), unknown=-1)
    with pytest.raises(InputFileError, match="give --unknown"):
        parse_labels(pd.Series([1, 0, -1], name="y"))
    with pytest.raises(InputFileError, match="two classes"):
        parse_labels(pd.Series(["a", "b", "c"], name="y"))


def test_identifier_like_columns() -> None:
    frame = awkward_table(n_per_group=10)
    frame["cell_id"] = np.arange(len(frame))
    reasons = {c: identifier_reason(c, frame[c]) for c in frame.columns}
    assert reasons["LATITUD_Y"] == "coordinates"
    assert reasons["LONGITUD_X"] == "coordinates"
    assert reasons["geometry"] == "geometry"
    assert reasons["cell_id"] == "identifier"
    assert all(reasons[f] is None for f in FEATURES)


def test_prepare_table_excludes_identifiers_unless_asked(tmp_path: Path) -> None:
    frame = awkward_table(n_per_group=10)
    table = prepare_table(
        frame, path="t.csv", label="MINES_OUTCOME", unknown="-1", group="municipio"
    )
    assert table.features == list(FEATURES)
    assert table.group_column == GROUP
    assert table.coordinates == ("LONGITUD_X", "LATITUD_Y")
    assert table.crs is not None
    assert table.crs.startswith("EPSG:326")
    assert table.xy is not None
    assert table.xy.shape == (len(frame), 2)
    with_coords = prepare_table(
        frame, path="t.csv", label=LABEL, unknown="-1", use_coordinates=True
    )
    assert "LATITUD_Y" in with_coords.features
    assert "LONGITUD_X" in with_coords.features
    chosen = prepare_table(frame, path="t.csv", label=LABEL, unknown="-1", features=["elevacion"])
    assert chosen.features == ["elevación"]


def test_metric_coordinates_degrees_to_utm() -> None:
    xy, crs, source = metric_coordinates(np.array([-75.0, -74.991]), np.array([6.0, 6.0]))
    assert crs == "EPSG:32618"
    assert source == "EPSG:4326"
    # 0.009 degrees of longitude at 6°N is about 995 m
    assert abs(np.hypot(*(xy[1] - xy[0])) - 995) < 5
    metres, named, none = metric_coordinates(np.array([500000.0]), np.array([4400000.0]))
    assert none is None
    assert "not stated" in named
    assert metres.tolist() == [[500000.0, 4400000.0]]
