"""Exporting records to the formats partners use: GeoPackage, GeoJSON, KML, CSV, XLSX, Shapefile.

:func:`export_records` reads a kind from the store and writes it with
:func:`write_records`, which works on any frame shaped like a store read.
What every format shares:

* one row per record: ``ref``, the kind's fields with links as ``<x>_ref``
  (the linked record's ref, never a store id), ``workflow``,
  ``organisation_ref`` and ``attributes`` (JSON text), then the geometry; so
  that an export imports back into the same records;
* personal fields (victims' names and contacts) only when the caller is
  allowed to see them (``include_personal``), never by default;
* derived columns that help reading a layer (an accident's ``killed``,
  ``injured`` and ``outcome`` from its victims), which an import recognises
  and does not keep;
* written to a temporary file beside the target and moved into place, so a
  failed export leaves no half-written file.

Per format: GeoPackage keeps the store CRS and carries the QGIS style of the
layer (:mod:`minemap.io.styles`); GeoJSON (RFC 7946), KML and the WKT of CSV
and XLSX are WGS84 longitude/latitude; a Shapefile gets deliberate 10-character
field names (:func:`minemap.io.mapping.shapefile_names`) and a ``.fields.toml``
mapping beside it that imports it back with ``--map``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from minemap.errors import ConfigError
from minemap.io.kml import write_kml
from minemap.io.mapping import DERIVED, shapefile_names
from minemap.io.styles import write_layer_style
from minemap.records.schema import KINDS, get_kind
from minemap.store.base import Store

EXPORT_FORMATS: tuple[str, ...] = ("gpkg", "geojson", "kml", "csv", "xlsx", "shp")

WGS84 = "EPSG:4326"
SHAPEFILE_TEXT_LIMIT = 254

#: Decides per record whether personal fields are shown (given the owner organisation id).
PersonalPolicy = Callable[[int | None], bool]


@dataclass
class ExportReport:
    kind: str
    format: str
    path: Path
    records: int
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"  note: {n}" for n in self.notes]
        out.append(f"{self.kind}: {self.records} records written to {self.path} ({self.format})")
        return out


def _blank(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _json_text(value: Any) -> str | None:
    if _blank(value) if not isinstance(value, dict | list) else False:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict) and not value:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def export_columns(kind: str, *, personal: bool) -> list[str]:
    """The columns of an export of ``kind``, in order (geometry not included)."""
    k = get_kind(kind)
    fields = [f.file_name for f in k.fields if personal or not f.personal]
    return ["ref", *fields, "workflow", "organisation_ref", "attributes", *DERIVED.get(k.name, ())]


def export_frame(
    kind: str,
    records: pd.DataFrame,
    *,
    personal: PersonalPolicy | bool = False,
    victims: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Shape a store read (``with_refs=True``) into the rows of an export.

    ``personal`` says whether personal fields are kept: ``True``/``False`` for
    all rows, or a function of the record's owner organisation id. ``victims``
    (a store read of victims) feeds the accidents' derived columns.
    """
    k = get_kind(kind)
    show_any = bool(personal) if isinstance(personal, bool) else True
    columns = export_columns(k.name, personal=show_any)
    out = pd.DataFrame(index=records.index)
    for col in columns:
        if col in DERIVED.get(k.name, ()):
            continue
        if col in records.columns:
            out[col] = records[col]
        else:
            out[col] = None
    out["attributes"] = [_json_text(v) for v in out["attributes"]]
    if callable(personal):
        owners = records.get("organisation_id", pd.Series([None] * len(records)))
        hide = [not personal(None if _blank(o) else int(o)) for o in owners]
        for f in k.personal_fields:
            out.loc[hide, f.file_name] = None
    if k.name == "accidents":
        out = _accident_outcomes(out, records, victims)
    for f in k.fields:
        if f.type == "date" and f.file_name in out.columns:
            out[f.file_name] = pd.to_datetime(out[f.file_name], errors="coerce").dt.date
            out[f.file_name] = out[f.file_name].astype(object).where(out[f.file_name].notna(), None)
    if k.geometry is not None and isinstance(records, gpd.GeoDataFrame):
        return gpd.GeoDataFrame(out, geometry=records.geometry.values, crs=records.crs)
    return out


def _accident_outcomes(
    out: pd.DataFrame, records: pd.DataFrame, victims: pd.DataFrame | None
) -> pd.DataFrame:
    killed = pd.Series(0, index=out.index)
    injured = pd.Series(0, index=out.index)
    if victims is not None and len(victims) and "id" in records.columns:
        counts = victims.groupby(["accident_id", "outcome"]).size().unstack(fill_value=0)
        ids = records["id"]
        if "killed" in counts.columns:
            killed = ids.map(counts["killed"]).fillna(0).astype(int)
        if "injured" in counts.columns:
            injured = ids.map(counts["injured"]).fillna(0).astype(int)
    out["killed"] = killed.to_numpy()
    out["injured"] = injured.to_numpy()
    out["outcome"] = [
        "killed" if k > 0 else "injured" if i > 0 else "none"
        for k, i in zip(out["killed"], out["injured"], strict=True)
    ]
    return out


# --- writers -------------------------------------------------------------------------------------


def _dates_as(frame: pd.DataFrame, kind: str, how: str) -> pd.DataFrame:
    """Date fields as ISO text (``"text"``) or pandas timestamps (``"datetime"``)."""
    frame = frame.copy()
    for f in KINDS[kind].fields:
        if f.type != "date" or f.file_name not in frame.columns:
            continue
        col = pd.to_datetime(frame[f.file_name], errors="coerce")
        if how == "text":
            frame[f.file_name] = [None if pd.isna(v) else v.date().isoformat() for v in col]
        else:
            frame[f.file_name] = col.astype("datetime64[ms]")
    return frame


def _with_wkt(frame: pd.DataFrame) -> pd.DataFrame:
    """Geometry as a ``wkt`` column in WGS84 (what spreadsheets and CSV tools expect)."""
    if not isinstance(frame, gpd.GeoDataFrame):
        return pd.DataFrame(frame)
    wgs = frame.to_crs(WGS84) if frame.crs is not None else frame
    table = pd.DataFrame(wgs.drop(columns=wgs.geometry.name))
    table["wkt"] = [
        None if g is None else shapely.to_wkt(g, rounding_precision=-1) for g in wgs.geometry
    ]
    return table


def _write_vector(frame: pd.DataFrame, path: Path, driver: str, layer: str, **kw: Any) -> None:
    import pyogrio

    if isinstance(frame, gpd.GeoDataFrame):
        pyogrio.write_dataframe(frame, path, layer=layer, driver=driver, **kw)
    else:
        pyogrio.write_dataframe(frame, path, layer=layer, driver=driver, **kw)


def _write_gpkg(frame: pd.DataFrame, kind: str, path: Path, notes: list[str]) -> None:
    frame = _dates_as(frame, kind, "datetime")
    if isinstance(frame, gpd.GeoDataFrame):
        geometry_type = KINDS[kind].geometry or "Unknown"
        _write_vector(frame, path, "GPKG", kind, geometry_type=geometry_type, promote_to_multi=None)
        write_layer_style(path, kind, kind)
        notes.append("QGIS layer style stored in the layer_styles table")
    else:
        _write_vector(frame, path, "GPKG", kind)


def _write_geojson(frame: pd.DataFrame, kind: str, path: Path, notes: list[str]) -> None:
    frame = _dates_as(frame, kind, "text")
    if isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None:
        frame = frame.to_crs(WGS84)
    _write_vector(frame, path, "GeoJSON", kind, layer_options={"RFC7946": "YES"})


def _write_csv(frame: pd.DataFrame, kind: str, path: Path, notes: list[str]) -> None:
    table = _with_wkt(_dates_as(frame, kind, "text"))
    # a byte-order mark makes Excel open Cyrillic and Azerbaijani text correctly
    table.to_csv(path, index=False, encoding="utf-8-sig")


def _write_xlsx(frame: pd.DataFrame, kind: str, path: Path, notes: list[str]) -> None:
    table = _with_wkt(frame)
    with pd.ExcelWriter(path, engine="openpyxl") as book:
        table.to_excel(book, sheet_name=kind[:31], index=False)


def _write_kml(frame: pd.DataFrame, kind: str, path: Path, notes: list[str]) -> None:
    if not isinstance(frame, gpd.GeoDataFrame):
        msg = f"{kind} have no geometry; KML needs places (use csv or xlsx)"
        raise ConfigError(msg)
    write_kml(frame, kind, path)


def _write_shp(frame: pd.DataFrame, kind: str, path: Path, notes: list[str]) -> None:
    if not isinstance(frame, gpd.GeoDataFrame):
        msg = f"{kind} have no geometry; a shapefile needs one (use csv or xlsx)"
        raise ConfigError(msg)
    # dBASE dates go through GDAL as timestamps it cannot store: ISO text reads back exactly
    frame = _dates_as(frame, kind, "text")
    names = shapefile_names([str(c) for c in frame.columns if c != frame.geometry.name])
    long_text = [
        str(r)
        for r, text in zip(frame["ref"], frame["attributes"], strict=True)
        if isinstance(text, str) and len(text.encode("utf-8")) > SHAPEFILE_TEXT_LIMIT
    ]
    if long_text:
        # dBASE text stops at 254 bytes: the full attributes go beside it, not lost
        side = path.with_name(path.stem.removesuffix(".shp") + ".attributes.csv")
        pd.DataFrame({"ref": frame["ref"], "attributes": frame["attributes"]}).to_csv(
            side, index=False, encoding="utf-8"
        )
        frame = frame.copy()
        frame["attributes"] = [
            None
            if not isinstance(t, str)
            else t[: SHAPEFILE_TEXT_LIMIT // 4] + "..."
            if len(t.encode("utf-8")) > SHAPEFILE_TEXT_LIMIT
            else t
            for t in frame["attributes"]
        ]
        notes.append(
            f"{len(long_text)} records' attributes exceed the 254-byte dBASE limit: "
            f"full text in {side.name}"
        )
    renamed = frame.rename(columns=names)
    stem = path.name.removesuffix(".zip").removesuffix(".shp")
    if path.suffix.lower() == ".zip":
        with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
            shp = Path(tmp) / f"{stem}.shp"
            _write_vector(renamed, shp, "ESRI Shapefile", stem, encoding="UTF-8")
            _write_field_map(Path(tmp) / f"{stem}.fields.toml", kind, names)
            with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for part in sorted(Path(tmp).iterdir()):
                    archive.write(part, part.name)
    else:
        _write_vector(renamed, path, "ESRI Shapefile", stem, encoding="UTF-8")
        _write_field_map(path.with_name(f"{stem}.fields.toml"), kind, names)
    shortened = {k: v for k, v in names.items() if k != v}
    if shortened:
        notes.append(
            "shapefile field names shortened to 10 characters: "
            + ", ".join(f"{k}->{v}" for k, v in shortened.items())
            + f" (mapping in {stem}.fields.toml)"
        )


def _write_field_map(path: Path, kind: str, names: dict[str, str]) -> None:
    lines = [
        "# Shapefile field names written by minemap export, mapped back to minemap's.",
        "# Import with: minemap import KIND FILE.shp --map " + path.name,
        f'kind = "{kind}"',
        "",
        "[columns]",
    ]
    lines += [
        f'"{short}" = "{full}"'
        for full, short in names.items()
        if full not in DERIVED.get(kind, ())
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


_WRITERS: dict[str, Callable[[pd.DataFrame, str, Path, list[str]], None]] = {
    "gpkg": _write_gpkg,
    "geojson": _write_geojson,
    "kml": _write_kml,
    "csv": _write_csv,
    "xlsx": _write_xlsx,
    "shp": _write_shp,
}

_SUFFIX = {"gpkg": ".gpkg", "geojson": ".geojson", "kml": ".kml", "csv": ".csv", "xlsx": ".xlsx"}


def write_records(frame: pd.DataFrame, kind: str, fmt: str, out: str | Path) -> ExportReport:
    """Write an export frame (:func:`export_frame`) as ``fmt`` to ``out``, atomically."""
    if fmt not in _WRITERS:
        msg = f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}"
        raise ConfigError(msg)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix=".export-", dir=out.parent) as tmp:
        staged = Path(tmp) / out.name
        _WRITERS[fmt](frame, kind, staged, notes)
        # a shapefile is several files: move every one of them
        for part in sorted(Path(tmp).iterdir()):
            target = out.parent / part.name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(part, target)
    return ExportReport(kind, fmt, out, len(frame), notes)


def export_records(
    store: Store,
    kind: str,
    fmt: str,
    out: str | Path,
    *,
    personal: PersonalPolicy | bool = False,
) -> ExportReport:
    """Export every record of ``kind`` in ``store`` (see the module docstring)."""
    k = get_kind(kind)
    if fmt not in EXPORT_FORMATS:
        msg = f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}"
        raise ConfigError(msg)
    want_personal = personal if isinstance(personal, bool) else True
    records = store.read(k.name, with_refs=True, include_personal=want_personal)
    if "organisation_ref" not in records.columns and "organisation_id" in records.columns:
        orgs = store.read("organisations")
        refs = dict(zip(orgs["id"], orgs["ref"], strict=True)) if len(orgs) else {}
        records["organisation_ref"] = [
            None if _blank(i) else refs.get(int(i)) for i in records["organisation_id"]
        ]
    victims = store.read("victims") if k.name == "accidents" else None
    frame = export_frame(k.name, records, personal=personal, victims=victims)
    report = write_records(frame, k.name, fmt, out)
    if k.personal_fields and not want_personal:
        names = ", ".join(f.name for f in k.personal_fields)
        report.notes.append(f"personal fields left out ({names})")
    return report
