"""Field mapping: which foreign column is which minemap field, and what its values mean.

A mapping file (``--map FILE.toml``) is written once per source system (an
IMSMA export, a partner's spreadsheet with Azerbaijani or Russian headers) and
reused for every file from it::

    kind = "hazards"                 # optional: refuse to be used for another kind
    encoding = "cp1251"              # optional: the text encoding of CSV files
    date_formats = ["%d.%m.%Y"]      # optional: tried before the built-in formats

    [columns]                        # foreign column -> minemap field (file name)
    "Hazard ID" = "ref"
    "Növ" = "type"
    "Tarix" = "recorded_on"
    "Notes" = "attributes"           # kept in the attributes JSON (the default anyway)

    [values.type]                    # foreign value -> minemap value, per field
    "Suspected Hazardous Area" = "SHA"

    [geometry]                       # where the geometry is, when not in the format itself
    lat = "Широта"
    lon = "Долгота"
    crs = "EPSG:4326"

    [set]                            # defaults for empty cells (like --set)
    status = "open"

Column names match ignoring case, accents-composition, spaces and dashes;
values match ignoring case and surrounding spaces. Shipped examples are in
``minemap/data/mappings/`` (:func:`shipped_mappings`).

This module also owns the shapefile short names (:func:`shapefile_names`):
the dBASE format allows 10 characters per field name, so exports abbreviate
deliberately and imports recognise the abbreviations.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from minemap.errors import ConfigError
from minemap.io.coords import GeometrySpec, column_key
from minemap.records.schema import Kind, get_kind

#: Columns every kind accepts besides its fields: identity, workflow, owner, kept extras.
EXTRA_TARGETS: tuple[str, ...] = ("ref", "workflow", "organisation_ref", "attributes")

#: Hand-made abbreviations for the schema's long names (dBASE allows 10 characters).
SHORT_NAMES: dict[str, str] = {
    "accident_ref": "accid_ref",
    "activity_ref": "activ_ref",
    "area_cancelled_m2": "a_cancel",
    "area_cleared_m2": "a_clear",
    "area_reduced_m2": "a_reduce",
    "attributes": "attribs",
    "base_settlement_ref": "bsettl_ref",
    "bearing_deg": "bearing",
    "bearing_type": "bear_type",
    "commissioned_on": "commission",
    "contamination": "contam",
    "declination_deg": "declin_deg",
    "description": "descript",
    "device_category": "dev_cat",
    "device_model": "dev_model",
    "district_ref": "distr_ref",
    "materials_type": "mat_type",
    "occurred_on": "occurred",
    "organisation_ref": "org_ref",
    "planned_return_year": "return_yr",
    "productivity_m2_day": "prod_m2day",
    "received_on": "received",
    "recorded_on": "recorded",
    "released_on": "released",
    "settlement_ref": "settl_ref",
    "staff_female": "staff_fem",
}

SHAPEFILE_NAME_LENGTH = 10

#: Columns an export adds for reading convenience, by kind; an import recognises and drops them.
DERIVED: dict[str, tuple[str, ...]] = {"accidents": ("killed", "injured", "outcome")}


def kind_targets(kind: Kind) -> list[str]:
    """Every column name a file of ``kind`` may carry (links under their ``_ref`` names)."""
    return [*EXTRA_TARGETS[:1], *(f.file_name for f in kind.fields), *EXTRA_TARGETS[1:]]


def shapefile_names(columns: list[str]) -> dict[str, str]:
    """Short (<= 10 character) unique field names for ``columns``, in order.

    Schema names use :data:`SHORT_NAMES`; any other long name is truncated and,
    when that collides, numbered (``name_ab_1``).
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    for col in columns:
        short = SHORT_NAMES.get(col, col)[:SHAPEFILE_NAME_LENGTH]
        n = 1
        while short.lower() in used:
            suffix = f"_{n}"
            short = SHORT_NAMES.get(col, col)[: SHAPEFILE_NAME_LENGTH - len(suffix)] + suffix
            n += 1
        used.add(short.lower())
        out[col] = short
    return out


@dataclass
class FieldMapping:
    """A parsed mapping file (or the empty mapping)."""

    source: str | None = None
    kind: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # column_key(foreign) -> target
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # target -> folded -> value
    defaults: dict[str, str] = field(default_factory=dict)
    geometry: GeometrySpec | None = None
    date_formats: tuple[str, ...] = ()
    encoding: str | None = None

    def where(self, key: str) -> str:
        return f"{self.source}: {key}" if self.source else key

    def check_for(self, kind: Kind) -> None:
        """Refuse a mapping written for another kind or naming fields ``kind`` lacks."""
        if self.kind is not None and get_kind(self.kind).name != kind.name:
            msg = f"{self.where('kind')}: this mapping is for {self.kind}, not {kind.name}"
            raise ConfigError(msg)
        allowed = set(kind_targets(kind))
        for foreign, target in self.columns.items():
            if target not in allowed:
                msg = (
                    f"{self.where('columns')}: {foreign!r} maps to {target!r}, which is not a "
                    f"field of {kind.name} (fields: {', '.join(kind_targets(kind))})"
                )
                raise ConfigError(msg)
        for target in [*self.values, *self.defaults]:
            if target not in allowed:
                msg = f"{self.where('values/set')}: {target!r} is not a field of {kind.name}"
                raise ConfigError(msg)


def _str_table(data: Any, where: str) -> dict[str, str]:
    if not isinstance(data, dict):
        msg = f"{where} must be a table of names to names"
        raise ConfigError(msg)
    out: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(value, str | int | float | bool):
            msg = f"{where}.{key} must be a text, number or true/false, not {type(value).__name__}"
            raise ConfigError(msg)
        out[str(key)] = str(value)
    return out


def load_mapping(path: str | Path) -> FieldMapping:
    """Parse a mapping file; :class:`ConfigError` names the file and the key at fault."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"{path}: cannot read the mapping file ({exc.strerror or exc})"
        raise ConfigError(msg) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path}: not a valid TOML mapping file ({exc})"
        raise ConfigError(msg) from None
    known = {"kind", "encoding", "date_formats", "columns", "values", "geometry", "set"}
    unknown = sorted(set(data) - known)
    if unknown:
        msg = f"{path}: unknown key(s) {unknown}; a mapping file has {sorted(known)}"
        raise ConfigError(msg)
    mapping = FieldMapping(source=str(path))
    if "kind" in data:
        mapping.kind = get_kind(str(data["kind"])).name
    if "encoding" in data:
        mapping.encoding = str(data["encoding"])
    formats = data.get("date_formats", [])
    if not isinstance(formats, list) or not all(isinstance(f, str) for f in formats):
        msg = f"{path}: date_formats must be a list of strptime formats such as '%d.%m.%Y'"
        raise ConfigError(msg)
    mapping.date_formats = tuple(formats)
    columns = _str_table(data.get("columns", {}), f"{path}: columns")
    mapping.columns = {column_key(k): v for k, v in columns.items()}
    values = data.get("values", {})
    if not isinstance(values, dict):
        msg = f"{path}: values must hold one table per field, e.g. [values.type]"
        raise ConfigError(msg)
    mapping.values = {
        target: {fold_value(k): v for k, v in _str_table(table, f"{path}: values.{target}").items()}
        for target, table in values.items()
    }
    mapping.defaults = _str_table(data.get("set", {}), f"{path}: set")
    if "geometry" in data:
        geo = _str_table(data["geometry"], f"{path}: geometry")
        allowed = {"wkt", "lat", "lon", "mgrs", "odk", "x", "y", "crs"}
        bad = sorted(set(geo) - allowed)
        if bad:
            msg = f"{path}: geometry has unknown key(s) {bad}; use {sorted(allowed)}"
            raise ConfigError(msg)
        mapping.geometry = GeometrySpec(**geo)
    return mapping


def fold_value(value: object) -> str:
    """A cell value folded for matching vocabularies and value maps."""
    return " ".join(str(value).split()).casefold()


def parse_set_options(items: tuple[str, ...] | list[str], kind: Kind) -> dict[str, str]:
    """``--set FIELD=VALUE`` options as a dict; :class:`ConfigError` on a bad one."""
    out: dict[str, str] = {}
    allowed = kind_targets(kind)
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            msg = f"--set {item!r}: write FIELD=VALUE, e.g. --set type=SHA"
            raise ConfigError(msg)
        if name not in allowed:
            msg = f"--set {name}: {kind.name} has no field {name!r} (fields: {', '.join(allowed)})"
            raise ConfigError(msg)
        out[name] = value.strip()
    return out


def shipped_mappings() -> dict[str, Path]:
    """The example mapping files shipped with minemap, by name."""
    folder = resources.files("minemap") / "data" / "mappings"
    out: dict[str, Path] = {}
    if folder.is_dir():
        for item in folder.iterdir():
            if item.name.endswith(".toml"):
                out[item.name.removesuffix(".toml")] = Path(str(item))
    return out
