"""Reading foreign files into one raw table, whatever the format.

A :class:`RawTable` is what the file said, nothing interpreted yet: its
columns under their own names (values as read), a ``geometry`` column when the
format carries geometry, the CRS the file declares (or None), the encoding used
for text formats, and notes for the user. Column-held geometry (WKT, lat/lon,
MGRS, ODK geopoints) and field mapping come later (:mod:`minemap.io.coords`,
:mod:`minemap.io.mapping`).

Vector formats (GeoPackage, Shapefile also zipped, GeoJSON, KML/KMZ) are read
by pyogrio (GDAL); CSV by the standard :mod:`csv` module after the encoding is
found (:mod:`minemap.io.text`), so that a truncated or ragged row is named;
XLSX by pandas with openpyxl.

Rows are numbered from 1, the first record of the file (the header of a CSV
or spreadsheet is not counted).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from minemap.errors import InputFileError
from minemap.io.text import read_text, sniff_delimiter

#: File suffixes by format name.
FORMATS: dict[str, tuple[str, ...]] = {
    "gpkg": (".gpkg",),
    "shp": (".shp", ".zip", ".shz"),
    "geojson": (".geojson", ".json"),
    "kml": (".kml", ".kmz"),
    "csv": (".csv", ".txt", ".tsv"),
    "xlsx": (".xlsx", ".xlsm"),
}


@dataclass
class RawTable:
    """A file's records as read: columns by their own names, geometry if the format has it."""

    path: Path
    format: str
    frame: pd.DataFrame
    crs: str | None = None
    encoding: str | None = None
    layer: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def has_geometry(self) -> bool:
        return isinstance(self.frame, gpd.GeoDataFrame) and "geometry" in self.frame.columns


def detect_format(path: Path) -> str:
    """The format name of ``path`` from its suffix."""
    suffix = path.suffix.lower()
    if path.name.lower().endswith(".shp.zip"):
        return "shp"
    for name, suffixes in FORMATS.items():
        if suffix in suffixes:
            return name
    known = ", ".join(s for ss in FORMATS.values() for s in ss)
    msg = f"unknown file type {suffix or '(no suffix)'!r}; minemap reads {known}"
    raise InputFileError(path, msg)


def list_layers(path: Path) -> list[str]:
    """Layer names of a multi-layer vector file (GeoPackage, KML) or sheets of a workbook."""
    fmt = detect_format(path)
    if fmt == "xlsx":
        try:
            with pd.ExcelFile(path, engine="openpyxl") as book:
                return [str(s) for s in book.sheet_names]
        except (zipfile.BadZipFile, OSError, ValueError, KeyError) as exc:
            raise InputFileError(path, f"not a readable XLSX workbook ({exc})") from None
    import pyogrio

    try:
        return [str(name) for name, _ in pyogrio.list_layers(_gdal_path(path, fmt))]
    except Exception as exc:  # pyogrio raises its own DataSourceError family
        raise InputFileError(path, f"not a readable {fmt} file ({_first_line(exc)})") from None


def read_table(
    path: str | Path,
    *,
    layer: str | None = None,
    prefer_layer: str | None = None,
    encoding: str | None = None,
) -> RawTable:
    """Read ``path`` into a :class:`RawTable`.

    ``layer`` names the layer (GeoPackage, KML) or sheet (XLSX) to read;
    without it, ``prefer_layer`` (usually the record kind) is used when the
    file has a layer of that name, else the file's only layer. ``encoding``
    forces the text encoding of a CSV file.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "no such file")
    if path.is_dir():
        raise InputFileError(path, "is a folder, not a file")
    if path.stat().st_size == 0:
        raise InputFileError(path, "the file is empty")
    fmt = detect_format(path)
    if fmt == "csv":
        table = _read_csv(path, encoding)
    elif fmt == "xlsx":
        table = _read_xlsx(path, layer, prefer_layer)
    else:
        table = _read_vector(path, fmt, layer, prefer_layer)
    if len(table.frame) == 0:
        where = f" (layer {table.layer!r})" if table.layer else ""
        raise InputFileError(path, f"the file has no records{where}")
    table.frame.index = pd.RangeIndex(1, len(table.frame) + 1)
    return table


# --- vector formats ---------------------------------------------------------------


def _gdal_path(path: Path, fmt: str) -> str:
    name = path.name.lower()
    if fmt == "shp" and (name.endswith(".zip") and not name.endswith(".shp.zip")):
        # a plain .zip holding a shapefile: let GDAL look inside
        return f"/vsizip/{path}"
    return str(path)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _choose_layer(
    path: Path, layers: list[str], layer: str | None, prefer: str | None
) -> str | None:
    if layer is not None:
        if layer not in layers:
            msg = f"has no layer {layer!r}; its layers are: {', '.join(layers) or '(none)'}"
            raise InputFileError(path, msg)
        return layer
    if prefer is not None:
        for name in layers:
            if name.lower() == prefer.lower():
                return name
    if len(layers) == 1:
        return layers[0]
    return None


def _read_vector(path: Path, fmt: str, layer: str | None, prefer: str | None) -> RawTable:
    import pyogrio

    source = _gdal_path(path, fmt)
    if fmt == "shp" and source.startswith("/vsizip/"):
        if not zipfile.is_zipfile(path):
            raise InputFileError(path, "not a readable zip archive (truncated?)")
        with zipfile.ZipFile(path) as archive:
            shps = [n for n in archive.namelist() if n.lower().endswith(".shp")]
        if not shps:
            raise InputFileError(path, "the zip archive holds no .shp file")
        if len(shps) > 1 and layer is None:
            names = ", ".join(Path(s).stem for s in shps)
            msg = f"the zip archive holds several shapefiles ({names}); choose one with --layer"
            raise InputFileError(path, msg)
    layers = list_layers(path)
    chosen = _choose_layer(path, layers, layer, prefer)
    notes: list[str] = []
    if chosen is None and fmt == "kml":
        # Google Earth files keep records in several folders: read them all
        frames = [
            _read_layer(path, source, name).assign(kml_folder=name)
            for name in layers
            if pyogrio.read_info(source, layer=name)["features"] > 0
        ]
        if not frames:
            raise InputFileError(path, "the file has no records")
        frame = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
        notes.append(f"read {len(frames)} KML folders: {', '.join(layers)}")
    elif chosen is None:
        msg = f"has several layers ({', '.join(layers)}); choose one with --layer"
        raise InputFileError(path, msg)
    else:
        frame = _read_layer(path, source, chosen)
    if fmt == "kml":
        frame = _drop_kml_bookkeeping(frame)
    has_crs = isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None
    crs = frame.crs.to_string() if has_crs else None
    encoding = None
    if fmt == "shp":
        encoding = pyogrio.read_info(source, layer=chosen).get("encoding")
    return RawTable(path, fmt, frame, crs=crs, encoding=encoding, layer=chosen, notes=notes)


#: Columns GDAL's LIBKML driver adds to every layer, with the values meaning "not set".
_KML_BOOKKEEPING: dict[str, tuple[object, ...]] = {
    "id": (None, ""),
    "timestamp": (),
    "begin": (),
    "end": (),
    "altitudeMode": (None, ""),
    "tessellate": (-1, 0),
    "extrude": (0, -1),
    "visibility": (-1, 1),
    "drawOrder": (),
    "icon": (None, ""),
    "description": (None, ""),
    "snippet": (),
}


def _drop_kml_bookkeeping(frame: pd.DataFrame) -> pd.DataFrame:
    """Leave out LIBKML's own columns when they say nothing, and minemap's derived labels.

    A KML written by minemap names each placemark by its ``ref``: ``Name``
    repeats the ExtendedData's ``ref`` and is dropped when it equals it.
    """
    drop = []
    for col, unset in _KML_BOOKKEEPING.items():
        if col not in frame.columns:
            continue
        values = frame[col]
        if values.isna().all() or values.isin(unset).all():
            drop.append(col)
    minemap_kml = "ref" in frame.columns and "Name" in frame.columns
    if minemap_kml and (frame["Name"].astype(str) == frame["ref"].astype(str)).all():
        drop.append("Name")
    return frame.drop(columns=[c for c in drop if c in frame.columns])


def read_layer(
    path: str | Path,
    layer: str | None,
    *,
    columns: Sequence[str] | None = None,
    use_arrow: bool = False,
    source: str | None = None,
) -> pd.DataFrame:
    """Layer ``layer`` (None: the first) of the vector file at ``path``, as GDAL reads it.

    A GeoDataFrame, or a plain DataFrame for an attribute-only layer (victims).
    ``columns`` limits the attributes read; ``source`` is the GDAL path when it
    differs from ``path`` (a shapefile inside a zip). Whatever GDAL cannot read
    (a missing layer, a damaged file) raises :class:`InputFileError` naming the
    file and the layer: every minemap module reads vector layers through here.
    """
    import pyogrio
    import pyogrio.errors

    try:
        return pyogrio.read_dataframe(
            source or str(path),
            layer=layer,
            columns=None if columns is None else list(columns),
            use_arrow=use_arrow,
        )
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        what = f"layer {layer!r}" if layer is not None else "a vector layer"
        raise InputFileError(path, f"cannot read {what} ({_first_line(exc)})") from None


def _read_layer(path: Path, source: str, layer: str) -> pd.DataFrame:
    try:
        return read_layer(path, layer, source=source)
    except InputFileError as exc:
        raise InputFileError(path, f"{exc.reason}; is the file truncated?") from None


# --- CSV --------------------------------------------------------------------------------


def _read_csv(path: Path, encoding: str | None) -> RawTable:
    decoded = read_text(path, encoding=encoding)
    text = decoded.text
    if not text.strip():
        raise InputFileError(path, "the file is empty")
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        msg = f"broken CSV near line {reader.line_num} ({exc}); is the file truncated?"
        raise InputFileError(path, msg) from None
    header = [h.strip() for h in rows[0]]
    if not any(header):
        raise InputFileError(path, "the first line (the header) is empty")
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            raise InputFileError(path, f"the header names column {name!r} twice")
        seen.add(name)
    records: list[list[str]] = []
    for number, values in enumerate(rows[1:], start=1):
        if not any(v.strip() for v in values):
            continue  # blank line
        if len(values) != len(header):
            hint = " (truncated file?)" if number == len(rows) - 1 else ""
            msg = f"has {len(values)} values where the header has {len(header)} columns{hint}"
            raise InputFileError(path, msg, row=len(records) + 1)
        records.append(values)
    frame = pd.DataFrame(records, columns=header, dtype=object)
    note = f"read as {decoded.encoding} text, delimiter {delimiter!r}"
    return RawTable(path, "csv", frame, encoding=decoded.encoding, notes=[note])


# --- XLSX ---------------------------------------------------------------------------------


def _read_xlsx(path: Path, layer: str | None, prefer: str | None) -> RawTable:
    sheets = list_layers(path)
    chosen = _choose_layer(path, sheets, layer, prefer) or sheets[0]
    try:
        frame = pd.read_excel(path, sheet_name=chosen, dtype=object, engine="openpyxl")
    except (zipfile.BadZipFile, OSError, ValueError, KeyError) as exc:
        raise InputFileError(path, f"not a readable XLSX workbook ({exc})") from None
    frame = frame.dropna(how="all")
    frame.columns = [str(c).strip() for c in frame.columns]
    unnamed = [c for c in frame.columns if c.startswith("Unnamed:")]
    frame = frame.drop(columns=[c for c in unnamed if frame[c].isna().all()])
    return RawTable(path, "xlsx", frame.reset_index(drop=True), layer=chosen)
