"""Analysts' feature tables: reading them as they are, finding columns, parsing labels.

An analyst's table of cells (CSV, Excel, Parquet or a GeoPackage/GeoJSON/
Shapefile layer) arrives the way it was saved: headers with accents, commas and
trailing spaces, a legacy code page, a broken letter in a place name (the
Antioquia table spells NARIÑO as ``NARI¥O``: an Ñ saved in the DOS code page
and read back as Latin-1). minemap reads it without asking anyone to clean it:

* the bytes are decoded by :func:`minemap.io.text.decode_bytes` (UTF-8 first,
  then the legacy code page whose text reads most like a language); a value
  that is merely spelled oddly stays as it is, because it still names its
  group consistently;
* the delimiter is sniffed by :func:`minemap.io.text.sniff_delimiter` (comma,
  semicolon, tab, pipe), as for records imports, and a decimal comma is
  accepted with a semicolon delimiter;
* columns keep their names exactly (outputs repeat the input's columns), and
  a name asked for on the command line is matched after Unicode (NFKC) and
  whitespace normalisation, then case, then accents and punctuation, so
  ``--group municipio`` finds ``Municipio`` and ``--label "SIN INFORMACION"``
  finds ``SIN INFORMACION ``.

Labels are parsed into ``1`` (positive), ``0`` (negative) and ``-1``
(unknown: neither found nor released). Unknown is never a negative.

Records imports have their own reader (:mod:`minemap.io.readers`), which keeps
every value as text for field mapping and strips header names; a feature
table needs typed columns, headers kept exactly, Parquet, and speed on
millions of rows, so it is parsed by pandas here (after the same decoding).
"""

from __future__ import annotations

import difflib
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from minemap.errors import ConfigError, InputFileError, MissingDependencyError

#: Label codes used everywhere in :mod:`minemap.risk`.
POSITIVE = 1
NEGATIVE = 0
UNKNOWN = -1

_TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".tab"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb", ".gml", ".kml"}

# Words that name the positive/negative class in text label columns (lower case, no accents).
_POSITIVE_WORDS = {"1", "true", "t", "yes", "y", "si", "positive", "pos", "mined", "mine", "found"}
_NEGATIVE_WORDS = {"0", "false", "f", "no", "n", "negative", "neg", "clear", "cleared", "free"}


def read_table(path: str | Path, *, layer: str | None = None) -> pd.DataFrame:
    """Read a feature table from ``path``; the format follows the file's suffix.

    CSV/TSV/TXT (any encoding, sniffed delimiter), XLSX (first sheet, or
    ``layer`` as the sheet name), Parquet, or a vector layer (GeoPackage,
    GeoJSON, Shapefile...; the geometry is kept as WKT text in ``geometry``).
    Column names are kept exactly as written. Raises :class:`InputFileError`
    naming the file when it cannot be read.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "no such file")
    if path.is_dir():
        raise InputFileError(path, "is a folder, not a table")
    suffix = path.suffix.lower()
    try:
        if suffix in _EXCEL_SUFFIXES:
            frame = _read_excel(path, layer)
        elif suffix in _PARQUET_SUFFIXES:
            frame = _read_parquet(path)
        elif suffix in _VECTOR_SUFFIXES:
            frame = _read_vector(path, layer)
        else:
            # anything else is treated as delimited text: analysts' exports carry odd suffixes
            frame = _read_text(path)
    except InputFileError:
        raise
    except (ValueError, OSError, KeyError) as exc:
        raise InputFileError(path, f"cannot read the table ({_one_line(exc)})") from None
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise InputFileError(path, "the table has no rows or no columns")
    frame.columns = [str(c) for c in frame.columns]
    duplicates = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
    if duplicates:
        raise InputFileError(path, f"column names appear twice: {', '.join(duplicates)}")
    return frame.reset_index(drop=True)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _read_text(path: Path) -> pd.DataFrame:
    from minemap.io.text import read_text, sniff_delimiter

    text = read_text(path).text
    if not text.strip():
        raise InputFileError(path, "the file is empty")
    delimiter = sniff_delimiter(text)
    decimal = "," if delimiter == ";" and _uses_decimal_comma(text) else "."
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            decimal=decimal,
            # Empty cells are missing values; "NA" is a country code in some tables, so only
            # the unambiguous spellings of "missing" are read as such.
            keep_default_na=False,
            na_values=["", "NaN", "nan", "NULL", "null", "#N/A", "N/A", "NA"],
            low_memory=False,
        )
    except pd.errors.ParserError as exc:
        row = _parser_error_row(str(exc))
        raise InputFileError(path, f"not a regular table ({_one_line(exc)})", row=row) from None
    except pd.errors.EmptyDataError:
        raise InputFileError(path, "the file is empty") from None
    return frame


def _uses_decimal_comma(text: str) -> bool:
    sample = text[:65536]
    return re.search(r"(^|;)\s*-?\d+,\d+\s*(;|$)", sample, flags=re.MULTILINE) is not None


def _parser_error_row(message: str) -> int | None:
    """The record named by a pandas parser error (its "line" counts the header; rows do not)."""
    match = re.search(r"line (\d+)", message)
    return max(int(match.group(1)) - 1, 1) if match else None


def _read_excel(path: Path, sheet: str | None) -> pd.DataFrame:
    try:
        return pd.read_excel(path, sheet_name=sheet if sheet is not None else 0)
    except ImportError as exc:
        msg = f"reading {path.suffix} files needs {exc.name or 'openpyxl'}: pip install openpyxl"
        raise MissingDependencyError(msg) from None
    except (ValueError, KeyError) as exc:
        raise InputFileError(path, f"not a readable workbook ({_one_line(exc)})") from None
    except Exception as exc:  # openpyxl raises its own zip/xml errors for damaged workbooks
        if type(exc).__module__.startswith(("zipfile", "openpyxl", "xml")):
            raise InputFileError(path, f"not a readable workbook ({_one_line(exc)})") from None
        raise


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        import pyarrow
    except ImportError:
        msg = "reading Parquet files needs pyarrow: pip install pyarrow"
        raise MissingDependencyError(msg) from None
    import pyarrow.lib

    try:
        return pd.read_parquet(path)
    except pyarrow.lib.ArrowException as exc:
        raise InputFileError(path, f"not a readable Parquet file ({_one_line(exc)})") from None


def _read_vector(path: Path, layer: str | None) -> pd.DataFrame:
    from minemap.io.readers import read_layer

    frame = read_layer(path, layer)
    if "geometry" in frame.columns:
        geometry = frame.geometry
        frame = pd.DataFrame(frame.drop(columns="geometry"))
        frame["geometry"] = geometry.to_wkt()
    return pd.DataFrame(frame)


# --- column names --------------------------------------------------------------


def normalise_name(name: str) -> str:
    """``name`` in NFKC with runs of whitespace collapsed and ends stripped."""
    return " ".join(unicodedata.normalize("NFKC", str(name)).split())


def _fold(name: str) -> str:
    """Case, accents, punctuation and whitespace removed: the loosest match."""
    decomposed = unicodedata.normalize("NFKD", normalise_name(name).casefold())
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\W_]+", "", letters)


def find_column(
    columns: Iterable[str], name: str, *, path: str | Path, role: str = "column"
) -> str:
    """The column of ``columns`` that ``name`` means, matched ever more loosely.

    Exact, then after Unicode/whitespace normalisation, then ignoring case,
    then ignoring accents and punctuation. Raises :class:`InputFileError`
    naming the file, the role (``"label"``, ``"group"``...) and the closest
    column names when nothing (or more than one column) matches.
    """
    columns = list(columns)
    if name in columns:
        return name
    keys = (normalise_name, lambda s: normalise_name(s).casefold(), _fold)
    for key in keys:
        wanted = key(name)
        if not wanted:
            continue
        hits = [c for c in columns if key(c) == wanted]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            listed = ", ".join(repr(h) for h in hits)
            msg = f"{role} column {name!r} is ambiguous: it could be {listed}"
            raise InputFileError(path, msg)
    folded = {_fold(c): c for c in columns}
    close = difflib.get_close_matches(_fold(name), list(folded), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(folded[c]) for c in close)}?" if close else ""
    msg = f"no {role} column {name!r}{hint} (the table has {len(columns)} columns)"
    raise InputFileError(path, msg)


# --- labels --------------------------------------------------------------------


def _plain(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", normalise_name(value).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _as_number(text: str) -> float | None:
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


def parse_labels(
    values: pd.Series,
    *,
    unknown: str | float | None = None,
    path: str | Path = "<table>",
    column: str | None = None,
) -> np.ndarray:
    """Labels as an ``int8`` array of ``1`` positive, ``0`` negative, ``-1`` unknown.

    ``unknown`` is the value that means "no information" (e.g. ``-1``); empty
    cells are unknown too. What remains must be exactly two classes: ``0/1``,
    booleans, or words such as yes/no, true/false, positive/negative. Raises
    :class:`ConfigError` when ``unknown`` cannot be a value of this column (a
    word for a numeric column) and :class:`InputFileError` naming the column
    when the labels are not two classes.
    """
    column = column if column is not None else str(values.name)
    where = f"label column {column!r}"
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    codes = np.full(len(values), UNKNOWN, dtype=np.int8)
    missing = values.isna().to_numpy()

    if numeric:
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        unknown_mask = missing.copy()
        if unknown is not None:
            target = unknown if isinstance(unknown, float | int) else _as_number(str(unknown))
            if target is None or (isinstance(target, float) and math.isnan(target)):
                msg = (
                    f"--unknown {unknown!r} is not a number, but {where} holds numbers "
                    f"(for example {_examples(values)})"
                )
                raise ConfigError(msg)
            unknown_mask |= numbers == float(target)
        known = numbers[~unknown_mask]
        classes = np.unique(known)
        if not set(classes.tolist()) <= {0.0, 1.0}:
            _raise_classes(path, where, [_fmt(c) for c in classes], unknown)
        codes[~unknown_mask] = known.astype(np.int8)
    else:
        text = values.astype("string").fillna("")
        plain = text.map(_plain).to_numpy(dtype=object)
        unknown_mask = missing | (plain == "")
        if unknown is not None:
            wanted = _plain(str(unknown))
            if isinstance(unknown, float | int) and float(unknown).is_integer():
                wanted = _plain(str(int(unknown)))
            unknown_mask |= plain == wanted
        known_values = sorted(set(plain[~unknown_mask].tolist()))
        positive = [v for v in known_values if v in _POSITIVE_WORDS]
        negative = [v for v in known_values if v in _NEGATIVE_WORDS]
        # several spellings of one class are fine ("Sí", "yes"); a third class is not
        if len(positive) + len(negative) != len(known_values):
            shown = sorted(set(text[~unknown_mask].tolist()))
            _raise_classes(path, where, shown, unknown)
        for i, value in enumerate(plain):
            if not unknown_mask[i]:
                codes[i] = POSITIVE if value in _POSITIVE_WORDS else NEGATIVE

    n_pos = int((codes == POSITIVE).sum())
    n_neg = int((codes == NEGATIVE).sum())
    if n_pos == 0 or n_neg == 0:
        present = "positive" if n_pos else "negative"
        if n_pos == 0 and n_neg == 0:
            msg = f"{where} has no labelled rows (every value is unknown or empty)"
        else:
            msg = (
                f"{where} has only one class ({n_pos + n_neg} {present} rows): a model needs "
                "both positive and negative rows"
            )
        raise InputFileError(path, msg)
    return codes


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _examples(values: pd.Series) -> str:
    shown = pd.unique(values.dropna())[:4]
    return ", ".join(_fmt(v) if isinstance(v, float | int) else str(v) for v in shown)


def _raise_classes(path: str | Path, where: str, classes: Sequence[str], unknown: object) -> None:
    listed = ", ".join(str(c) for c in list(classes)[:8])
    more = "..." if len(classes) > 8 else ""
    hint = (
        "; give --unknown for the value that means 'no information'"
        if unknown is None
        else f" besides the unknown value {unknown!r}"
    )
    msg = f"{where} must hold two classes (1/0, yes/no, true/false), found {listed}{more}{hint}"
    raise InputFileError(path, msg)


# --- identifier-like columns ---------------------------------------------------

_COORDINATE_NAMES = {
    "x",
    "y",
    "z",
    "lat",
    "lon",
    "lng",
    "long",
    "latitude",
    "longitude",
    "latitud",
    "longitud",
    "latitudy",
    "longitudx",
    "easting",
    "northing",
    "este",
    "norte",
    "coordx",
    "coordy",
    "xcoord",
    "ycoord",
    "centroidx",
    "centroidy",
    "row",
    "col",
    "column",
}
_GEOMETRY_NAMES = {"geometry", "geom", "wkt", "the_geom", "shape", "wkb", "geojson"}
_ID_NAMES = {"id", "fid", "ogcfid", "objectid", "uuid", "gid", "ref", "index", "cellid", "unnamed0"}
_WKT_PATTERN = re.compile(
    r"^\s*(SRID=\d+;\s*)?(POINT|LINESTRING|POLYGON|MULTIPOINT|MULTILINESTRING|MULTIPOLYGON"
    r"|GEOMETRYCOLLECTION)\b",
    re.IGNORECASE,
)


def identifier_reason(name: str, values: pd.Series) -> str | None:
    """Why column ``name`` is identifier-like (not a feature by default), or None.

    Coordinates, geometry (by name or WKT content), id/ref columns, and text
    columns whose every value is different.
    """
    folded = _fold(name)
    if folded in _COORDINATE_NAMES:
        return "coordinates"
    if folded in _GEOMETRY_NAMES or normalise_name(name).casefold() in _GEOMETRY_NAMES:
        return "geometry"
    if folded in _ID_NAMES or re.fullmatch(
        r"(.*_)?(id|ref|uuid|fid)", normalise_name(name).lower()
    ):
        return "identifier"
    if not pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        sample = values.dropna().astype(str).head(50)
        if len(sample) and sample.map(lambda s: bool(_WKT_PATTERN.match(s))).all():
            return "geometry"
        non_missing = values.dropna()
        if len(non_missing) > 20 and non_missing.nunique() == len(non_missing):
            return "identifier (every value differs)"
    return None


def coordinate_columns(columns: Iterable[str]) -> tuple[str, str] | None:
    """A likely (x, y) pair among ``columns``: x/y, lon/lat, LONGITUD_X/LATITUD_Y..."""
    columns = list(columns)
    pairs = (
        (
            {"x", "xcoord", "coordx", "centroidx", "easting", "este"},
            {"y", "ycoord", "coordy", "centroidy", "northing", "norte"},
        ),
        (
            {"lon", "lng", "long", "longitude", "longitud", "longitudx"},
            {"lat", "latitude", "latitud", "latitudy"},
        ),
    )
    for xs, ys in pairs:
        x = [c for c in columns if _fold(c) in xs]
        y = [c for c in columns if _fold(c) in ys]
        if len(x) == 1 and len(y) == 1:
            return x[0], y[0]
    return None


def metric_coordinates(
    x: pd.Series | np.ndarray,
    y: pd.Series | np.ndarray,
    *,
    crs: str | None = None,
    target: str | None = None,
) -> tuple[np.ndarray, str, str | None]:
    """``(n, 2)`` coordinates in metres, the CRS they are now in, and the CRS they came in.

    ``crs`` names the CRS of ``x``/``y`` (e.g. ``EPSG:4326``); without it,
    values that all fit in longitude/latitude ranges are taken as WGS84
    degrees, anything else as metres in an unstated CRS (returned as they
    are, source None). Degrees are projected to ``target`` or, by default,
    to the UTM zone of their centre, so block sizes and distances are metres.
    """
    from pyproj import CRS, Transformer

    xs = pd.to_numeric(pd.Series(np.asarray(x)), errors="coerce").to_numpy(dtype=float)
    ys = pd.to_numeric(pd.Series(np.asarray(y)), errors="coerce").to_numpy(dtype=float)
    valid = np.isfinite(xs) & np.isfinite(ys)
    if not valid.any():
        msg = "the coordinate columns hold no numbers"
        raise ConfigError(msg)
    try:
        if crs is None:
            degrees = bool((np.abs(xs[valid]) <= 180).all() and (np.abs(ys[valid]) <= 90).all())
            source = CRS.from_epsg(4326) if degrees else None
        else:
            source = CRS.from_user_input(crs)
        goal = None if target is None else CRS.from_user_input(target)
    except Exception as exc:  # pyproj raises its own CRSError
        msg = f"unknown CRS ({_one_line(exc)})"
        raise ConfigError(msg) from None
    if source is None:
        return np.column_stack([xs, ys]), UNSTATED_METRES, None
    source_name = _crs_name(source)
    if goal is None:
        if source.is_projected:
            return np.column_stack([xs, ys]), source_name, source_name
        lon0, lat0 = float(np.median(xs[valid])), float(np.median(ys[valid]))
        zone = min(max(int((lon0 + 180) // 6) + 1, 1), 60)
        goal = CRS.from_epsg((32600 if lat0 >= 0 else 32700) + zone)
    transformer = Transformer.from_crs(source, goal, always_xy=True)
    ex, ny = transformer.transform(xs, ys)
    out = np.column_stack([ex, ny])
    out[~valid] = np.nan
    return out, _crs_name(goal), source_name


#: The CRS name of coordinates taken as metres without a stated CRS.
UNSTATED_METRES = "metres (CRS not stated)"


def _crs_name(crs: object) -> str:
    epsg = crs.to_epsg()  # type: ignore[attr-defined]
    return f"EPSG:{epsg}" if epsg else str(crs.to_string())  # type: ignore[attr-defined]


# --- a table made ready for the model ------------------------------------------


@dataclass
class PreparedTable:
    """A feature table split into what the model needs.

    ``features`` the feature columns of ``frame`` (names as written);
    ``labels`` 1/0/-1 or None (a table to predict); ``groups`` the group of
    each row or None; ``xy`` metric coordinates or None, with ``crs`` (theirs), ``source_crs``
    (the table's) and the
    ``coordinates`` columns they came from; ``excluded`` the columns left
    out and why.
    """

    frame: pd.DataFrame
    features: list[str]
    labels: np.ndarray | None = None
    label_column: str | None = None
    groups: np.ndarray | None = None
    group_column: str | None = None
    xy: np.ndarray | None = None
    crs: str | None = None
    source_crs: str | None = None
    coordinates: tuple[str, str] | None = None
    excluded: dict[str, str] = field(default_factory=dict)

    def feature_frame(self) -> pd.DataFrame:
        return self.frame[self.features]


def prepare_table(
    frame: pd.DataFrame,
    *,
    path: str | Path,
    label: str | None = None,
    unknown: str | float | None = None,
    group: str | None = None,
    features: Sequence[str] | None = None,
    use_coordinates: bool = False,
    x: str | None = None,
    y: str | None = None,
    crs: str | None = None,
) -> PreparedTable:
    """Find the label, group, coordinate and feature columns of ``frame`` (read from ``path``).

    Features are every column except the label, the group and
    identifier-like columns (coordinates, geometry, ids: see
    :func:`identifier_reason`), unless ``features`` names them explicitly;
    ``use_coordinates`` keeps the coordinate columns as features.
    Coordinates (``x``/``y``, or a pair found by name) are returned in metres
    for spatial evidence and square blocks.
    """
    columns = list(frame.columns)
    label_column = find_column(columns, label, path=path, role="label") if label else None
    group_column = find_column(columns, group, path=path, role="group") if group else None
    labels = None
    if label_column is not None:
        labels = parse_labels(frame[label_column], unknown=unknown, path=path, column=label_column)
    groups = None
    if group_column is not None:
        values = frame[group_column]
        if values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0]) + 2
            msg = f"group column {group_column!r} is empty (every row needs a group)"
            raise InputFileError(path, msg, row=row)
        groups = values.astype(str).to_numpy(dtype=object)

    coordinates: tuple[str, str] | None = None
    if x is not None or y is not None:
        if x is None or y is None:
            msg = "give both --x and --y (the coordinate columns), or neither"
            raise ConfigError(msg)
        coordinates = (
            find_column(columns, x, path=path, role="x coordinate"),
            find_column(columns, y, path=path, role="y coordinate"),
        )
    else:
        coordinates = coordinate_columns(columns)
    xy = None
    stated_crs = source_crs = None
    if coordinates is not None:
        try:
            xy, stated_crs, source_crs = metric_coordinates(
                frame[coordinates[0]], frame[coordinates[1]], crs=crs
            )
        except ConfigError as exc:
            raise InputFileError(path, f"coordinates {coordinates}: {exc}") from None

    reserved = {c for c in (label_column, group_column) if c is not None}
    excluded: dict[str, str] = {}
    if features:
        chosen = [find_column(columns, f, path=path, role="feature") for f in features]
        clash = [c for c in chosen if c in reserved]
        if clash:
            msg = f"feature column {clash[0]!r} is also the label or the group column"
            raise InputFileError(path, msg)
        chosen = list(dict.fromkeys(chosen))
        excluded = {
            c: "not in --features" for c in columns if c not in chosen and c not in reserved
        }
    else:
        chosen = []
        for column in columns:
            if column in reserved:
                continue
            reason = identifier_reason(column, frame[column])
            if reason == "coordinates" and use_coordinates:
                reason = None
            if reason is not None:
                excluded[column] = reason
            else:
                chosen.append(column)
    if use_coordinates and coordinates is not None:
        for column in coordinates:
            if column not in chosen:
                chosen.append(column)
                excluded.pop(column, None)
    if not chosen:
        raise InputFileError(path, "no feature columns left (only labels, groups and identifiers)")
    return PreparedTable(
        frame=frame,
        features=chosen,
        labels=labels,
        label_column=label_column,
        groups=groups,
        group_column=group_column,
        xy=xy,
        crs=stated_crs,
        source_crs=source_crs,
        coordinates=coordinates,
        excluded=excluded,
    )
