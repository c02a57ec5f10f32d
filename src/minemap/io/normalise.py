"""From a raw table to records of one kind: names, types, vocabularies, geometry, CRS.

:func:`normalise` takes what a file said (:class:`~minemap.io.readers.RawTable`)
and a record kind and returns a :class:`Batch`: one row per file row, columns
named as in files (``ref``, the kind's fields with links as ``<x>_ref``,
``workflow``, ``organisation_ref``, ``attributes``) holding Python values of the
field's type (``datetime.date`` for dates), and the geometry in the store's
CRS, made into the kind's geometry type. Rows that cannot be read are not
dropped: they are listed in :attr:`Batch.refused` with the field and reason,
so that every row read is either imported or accounted for.

Columns that map to no field go to the row's ``attributes`` dict under their
own names; nothing the file said is lost.

What this module does *not* judge is whether a well-read record is acceptable
(vocabularies, ranges, dates in order, geometry validity and repair, extent,
reprojection to the store CRS): that is :mod:`minemap.records.validate`,
shared with every other write.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from minemap.errors import InputFileError
from minemap.io.coords import (
    BBox,
    find_geometry_columns,
    geometry_from_columns,
    infer_crs,
    kobo_key,
    swapped_rows,
)
from minemap.io.coords import column_key as _key
from minemap.io.mapping import (
    DERIVED,
    SHORT_NAMES,
    FieldMapping,
    fold_value,
    kind_targets,
)
from minemap.io.readers import RawTable
from minemap.records.schema import KINDS, SYSTEM_FIELDS, WORKFLOW, Field, Kind
from minemap.records.validate import json_safe

#: Date formats tried after the mapping's own, in order (day-first, as in the region).
DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%d/%m/%Y",
    "%Y/%m/%d",
    "%d-%m-%Y",
    "%Y%m%d",
    "%d.%m.%y",
)

#: Columns from our own exports that the store manages: read back as nothing, never as extras.
_STORE_MANAGED = ("id", "version", "created_at", "created_by", "updated_at", "updated_by")

_TRUE = {"true", "yes", "1", "y", "да", "bəli", "si", "sí"}
_FALSE = {"false", "no", "0", "n", "нет", "xeyr"}


@dataclass
class Batch:
    """Rows of one kind read from one file, ready for validation and the store."""

    kind: str
    source: Path
    frame: pd.DataFrame  # a GeoDataFrame (store CRS) when the kind has geometry
    raw: pd.DataFrame  # the file's rows as read, for the rejects file
    refused: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    column_map: dict[str, str] = field(default_factory=dict)  # file column -> target

    @property
    def rows_read(self) -> int:
        return len(self.raw)

    def refuse(self, row: int, reason: str) -> None:
        """Mark ``row`` refused; the first reason given for a row is kept first."""
        if row in self.refused:
            if reason not in self.refused[row]:
                self.refused[row] += f"; {reason}"
        else:
            self.refused[row] = reason

    @property
    def good(self) -> pd.DataFrame:
        """The rows not refused."""
        return self.frame.loc[~self.frame.index.isin(list(self.refused))]


# --- values ----------------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def parse_date(value: Any, formats: tuple[str, ...] = ()) -> dt.date:
    """A date from an ISO text, a day-first text, a spreadsheet date or a timestamp."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    text = str(value).strip()
    # timestamps such as 2021-03-04T10:00:00Z or "2021-03-04 00:00:00" keep their date
    match = re.match(r"^(\d{4}-\d{2}-\d{2})[T ]", text)
    if match:
        text = match.group(1)
    for fmt in (*formats, *DATE_FORMATS):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    msg = f"{value!r} is not a date (write YYYY-MM-DD)"
    raise ValueError(msg)


def _parse_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    text = str(value).strip().replace("\u2212", "-").replace("\u00a0", "").replace(" ", "")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    return float(text)


def parse_value(f: Field, value: Any, date_formats: tuple[str, ...] = ()) -> Any:
    """``value`` as the Python value of field ``f``; ValueError says why not."""
    match f.type:
        case "text" | "link":
            if isinstance(value, float) and value.is_integer():
                return str(int(value))  # a spreadsheet turned "12" into 12.0
            if isinstance(value, dt.datetime | dt.date):
                return value.isoformat()
            return str(value).strip()
        case "int":
            try:
                number = _parse_float(value)
            except ValueError:
                msg = f"{value!r} is not a whole number"
                raise ValueError(msg) from None
            if not number.is_integer():
                msg = f"{value!r} is not a whole number"
                raise ValueError(msg)
            return int(number)
        case "float":
            try:
                number = _parse_float(value)
            except ValueError:
                msg = f"{value!r} is not a number"
                raise ValueError(msg) from None
            if not math.isfinite(number):
                msg = f"{value!r} is not a finite number"
                raise ValueError(msg)
            return number
        case "date":
            return parse_date(value, date_formats)
        case "datetime":
            if isinstance(value, dt.datetime):
                return value
            try:
                return dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
            except ValueError:
                msg = f"{value!r} is not a date and time (write YYYY-MM-DDTHH:MM:SS)"
                raise ValueError(msg) from None
        case "bool":
            folded = fold_value(value)
            if folded in _TRUE:
                return True
            if folded in _FALSE:
                return False
            msg = f"{value!r} is not yes/no"
            raise ValueError(msg)
        case "json":
            if isinstance(value, dict | list):
                return value
            try:
                return json.loads(str(value))
            except json.JSONDecodeError:
                msg = f"{value!r} is not JSON"
                raise ValueError(msg) from None
    msg = f"unknown field type {f.type!r}"
    raise ValueError(msg)


def match_choice(f: Field, value: str, value_map: dict[str, str]) -> str:
    """A vocabulary value from a foreign spelling: the mapping's value map, then case/spaces."""
    folded = fold_value(value)
    if folded in value_map:
        return value_map[folded]
    if f.choices:
        for choice in f.choices:
            if folded in (choice.casefold(), choice.replace("_", " ").casefold()):
                return choice
    return value


def _parse_cell(f: Field, target: str, value: Any, mapping: FieldMapping) -> Any:
    """One cell as field ``f``'s value, through the mapping's value map and vocabulary."""
    parsed = parse_value(f, value, mapping.date_formats)
    if f.type == "text" and (f.choices or target in mapping.values):
        return match_choice(f, parsed, mapping.values.get(target, {}))
    if target in mapping.values:
        mapped_value = mapping.values[target].get(fold_value(value))
        if mapped_value is not None:
            return parse_value(f, mapped_value, mapping.date_formats)
    return parsed


# --- columns -----------------------------------------------------------------------------------


def resolve_columns(
    columns: list[str], kind: Kind, mapping: FieldMapping, geometry_columns: list[str]
) -> dict[str, str]:
    """File column -> target name (a field's file name, ``ref``..., or ``attributes:<name>``)."""
    targets = kind_targets(kind)
    by_key = {_key(t): t for t in targets}
    short = {_key(SHORT_NAMES[t]): t for t in targets if t in SHORT_NAMES}
    out: dict[str, str] = {}
    taken: dict[str, str] = {}
    derived = {_key(d) for d in DERIVED.get(kind.name, ())}
    for col in columns:
        if col in geometry_columns or col == "geometry":
            continue
        key = _key(col)
        if key in derived and key not in mapping.columns:
            out[col] = "-"
            continue
        target = mapping.columns.get(key)
        if target is None:
            target = mapping.columns.get(kobo_key(col))
        if target is None:
            target = by_key.get(key) or short.get(key)
        if target is None and key not in _STORE_MANAGED:
            target = by_key.get(kobo_key(col))  # ODK/Kobo "group/question" columns
        if target is None:
            out[col] = "-" if key in _STORE_MANAGED else f"attributes:{col}"
            continue
        if target == "attributes" and key != "attributes":
            out[col] = f"attributes:{col}"  # mapped on purpose to the kept extras
            continue
        if target in taken and target != "attributes":
            msg = f"columns {taken[target]!r} and {col!r} both map to field {target!r}"
            raise InputFileError("", msg)
        taken[target] = col
        out[col] = target
    return out


def guess_kind(columns: list[str]) -> str | None:
    """The kind whose field names the columns match best, if any clearly."""
    keys = {_key(c) for c in columns} | {kobo_key(c) for c in columns}
    scores: dict[str, int] = {}
    for name, kind in KINDS.items():
        if kind.context:
            continue
        own = {_key(f.file_name) for f in kind.fields} | {_key(f.name) for f in kind.fields}
        scores[name] = len(keys & own)
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] >= 2 else None


# --- the whole table ------------------------------------------------------------------------------


def normalise(
    table: RawTable,
    kind: Kind,
    *,
    store_crs: str,
    area: BBox | None = None,
    mapping: FieldMapping | None = None,
    defaults: dict[str, str] | None = None,
    crs: str | None = None,
) -> Batch:
    """Read ``table``'s rows as records of ``kind`` (see the module docstring).

    ``area`` is the lon/lat box records should fall in (the store's extent,
    or its CRS's area of use), used to detect swapped coordinates. ``crs``
    overrides the CRS of the file (or of its coordinate columns).

    Raises :class:`InputFileError` for faults of the whole file: no column for
    a required field (a file of another kind), coordinates swapped in every
    row, no CRS and no way to infer one.
    """
    mapping = mapping or FieldMapping()
    mapping.check_for(kind)
    defaults = {**mapping.defaults, **(defaults or {})}
    path = table.path
    raw = table.frame
    notes = list(table.notes)

    # geometry source ---------------------------------------------------------------------------
    geom_columns: list[str] = []
    file_geoms: pd.Series | None = None
    geom_crs: str | None = None
    col_errors: dict[int, str] = {}
    if kind.geometry is not None:
        if table.has_geometry and any(g is not None for g in raw.geometry):
            file_geoms = pd.Series(list(raw.geometry), index=raw.index, dtype=object)
            geom_crs = table.crs
        else:
            spec = find_geometry_columns(raw, mapping.geometry)
            if spec.columns:
                built = geometry_from_columns(raw, spec)
                file_geoms, geom_crs, col_errors = built.geometry, built.crs, built.errors
                geom_columns = spec.columns
                notes.append(f"geometry from {spec.describe()}")
            elif table.has_geometry:
                file_geoms = pd.Series([None] * len(raw), index=raw.index, dtype=object)
                geom_crs = table.crs
            else:
                msg = (
                    f"no geometry: {kind.name} need a {kind.geometry}, and the file has neither a "
                    "geometry nor WKT, latitude/longitude, MGRS or ODK geopoint columns"
                )
                raise InputFileError(path, msg)
    if mapping.geometry is not None and mapping.geometry.crs:
        geom_crs = mapping.geometry.crs
    if crs is not None:
        geom_crs = crs

    # columns -----------------------------------------------------------------------------------
    data_columns = [str(c) for c in raw.columns if c != "geometry"]
    try:
        column_map = resolve_columns(data_columns, kind, mapping, geom_columns)
    except InputFileError as exc:
        raise InputFileError(path, exc.reason) from None
    mapped = set(column_map.values())
    missing = [
        f.file_name
        for f in kind.fields
        if f.required and f.file_name not in mapped and f.file_name not in defaults
    ]
    if missing:
        hint = ""
        guess = guess_kind(data_columns)
        if guess is not None and guess != kind.name:
            hint = f"; its columns look like {guess}, not {kind.name}"
        msg = (
            f"no column for required field(s) {', '.join(missing)} of {kind.name} "
            f"(give them with --set or map them with --map){hint}"
        )
        raise InputFileError(path, msg)

    batch = Batch(kind.name, path, raw.iloc[0:0], raw.copy(), notes=notes, column_map=column_map)
    for row, reason in col_errors.items():
        batch.refuse(row, reason)

    # values ------------------------------------------------------------------------------------
    fields = {f.file_name: f for f in (*kind.fields, *SYSTEM_FIELDS)}
    fields["ref"] = Field("ref", "text")
    out_columns = list(kind_targets(kind))
    records: list[dict[str, Any]] = []
    # values repeat down a column (a category, a date): parse each distinct one once
    cache: dict[tuple[str, Any], Any] = {}
    plain = pd.DataFrame(raw).drop(columns=["geometry"], errors="ignore")
    for idx, values in zip(plain.index, plain.to_dict("records"), strict=True):
        rownum = cast(int, idx)
        rec: dict[str, Any] = dict.fromkeys(out_columns)
        extras: dict[str, Any] = {}
        for col, target in column_map.items():
            value = values[col]
            if target == "-":
                continue
            if target.startswith("attributes:"):
                if not _blank(value):
                    extras[target.removeprefix("attributes:")] = json_safe(value)
                continue
            if _blank(value):
                continue
            f = fields[target]
            try:
                if target == "attributes":
                    parsed = value if isinstance(value, dict) else json.loads(str(value))
                    if not isinstance(parsed, dict):
                        raise ValueError(f"{value!r} is not a JSON object")
                    extras = {**parsed, **extras}
                    continue
                key = (target, value) if isinstance(value, str | int | float) else None
                if key is not None and key in cache:
                    parsed = cache[key]
                else:
                    parsed = _parse_cell(f, target, value, mapping)
                    if key is not None:
                        cache[key] = parsed
            except (ValueError, json.JSONDecodeError) as exc:
                batch.refuse(rownum, f"{col}: {exc}")
                continue
            rec[target] = parsed
        for target, default in defaults.items():
            if rec.get(target) is None:
                f = fields[target]
                try:
                    value = parse_value(f, default, mapping.date_formats)
                    if f.type == "text" and (f.choices or target in mapping.values):
                        value = match_choice(f, value, mapping.values.get(target, {}))
                except ValueError as exc:
                    msg = f"--set {target}: {exc}"
                    raise InputFileError(path, msg) from None
                rec[target] = value
        if rec.get("workflow") is not None and rec["workflow"] not in WORKFLOW:
            batch.refuse(rownum, f"workflow: {rec['workflow']!r} is not one of {WORKFLOW}")
        rec["attributes"] = extras or None
        records.append(rec)
    frame = pd.DataFrame.from_records(records, index=raw.index, columns=out_columns)

    # geometry ----------------------------------------------------------------------------------
    if kind.geometry is None:
        batch.frame = frame
        return batch
    assert file_geoms is not None
    if geom_crs is None:
        geom_crs, why = infer_crs(file_geoms, store_crs)
        if geom_crs is None:
            msg = f"{why}; give the CRS with --crs (e.g. --crs EPSG:32638)"
            raise InputFileError(path, msg)
        notes.append(why)
    try:
        CRS.from_user_input(geom_crs)
    except Exception:
        raise InputFileError(path, f"unknown CRS {geom_crs!r}") from None
    swapped = swapped_rows(file_geoms, geom_crs, area)
    present = [r for r, g in file_geoms.items() if g is not None and not g.is_empty]
    if swapped and len(swapped) == len(present) and len(present) > 1:
        where = f"columns {geom_columns[0]!r}/{geom_columns[1]!r}" if len(geom_columns) == 2 else ""
        msg = (
            f"latitude and longitude are swapped in every row {where}".rstrip()
            + " (the points fall in the area only with x and y exchanged); swap them"
            + (" in the mapping" if geom_columns else "")
        )
        raise InputFileError(path, msg)
    for row in swapped:
        batch.refuse(
            row,
            f"{_geometry_label(geom_columns)}: latitude and longitude swapped "
            "(the position is in the area only with them exchanged)",
        )
    # geometry checks, repair and reprojection to the store CRS are the validator's
    geoms = gpd.GeoSeries(list(file_geoms), index=file_geoms.index, crs=geom_crs)
    batch.frame = gpd.GeoDataFrame(frame, geometry=geoms, crs=geom_crs)
    return batch


def _geometry_label(columns: list[str]) -> str:
    return "/".join(columns) if columns else "geometry"
