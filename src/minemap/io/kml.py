"""KML for Google Earth and field GPS units.

GDAL writes KML, but without styles and with descriptions no one reads on a
handheld, so minemap writes it here with :mod:`xml.etree`: one ``Style`` per
category (colours from :mod:`minemap.io.styles`), one ``Placemark`` per
record named by its ``ref`` with a short human description, and every field as
``ExtendedData`` so that the file can be imported back. Coordinates are WGS84
longitude/latitude as KML requires. A ``.kmz`` output is the same document
zipped as ``doc.kml``.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from minemap.io.styles import style_of
from minemap.records.schema import KINDS

KML_NS = "http://www.opengis.net/kml/2.2"

#: Fields put first in a placemark's description, per kind (the rest follow in ExtendedData).
SUMMARY_FIELDS: dict[str, tuple[str, ...]] = {
    "hazards": ("type", "contamination", "status", "recorded_on"),
    "finds": ("category", "model", "found_on"),
    "accidents": ("occurred_on", "activity", "device_category", "outcome"),
    "activities": ("type", "status", "start_date", "end_date"),
    "releases": ("method", "released_on", "area_m2"),
    "minefield_records": ("landmark", "mine_types", "mine_count", "laid_on"),
}


def _kml_colour(colour: str, alpha: int) -> str:
    r, g, b = colour[1:3], colour[3:5], colour[5:7]
    return f"{alpha:02x}{b}{g}{r}"  # KML is aabbggrr


def _text(value: Any) -> str | None:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isoformat"):
        return str(value.isoformat())[:10] if not hasattr(value, "hour") else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _coords(coords: Any) -> str:
    return " ".join(f"{x:.8f},{y:.8f}" for x, y, *_ in coords)


def _geometry(parent: ET.Element, geom: BaseGeometry) -> None:
    gtype = geom.geom_type
    if gtype.startswith("Multi") or gtype == "GeometryCollection":
        multi = ET.SubElement(parent, "MultiGeometry")
        for part in geom.geoms:  # type: ignore[attr-defined]
            _geometry(multi, part)
        return
    if gtype == "Point":
        ET.SubElement(ET.SubElement(parent, "Point"), "coordinates").text = _coords(geom.coords)
    elif gtype == "LineString":
        ET.SubElement(ET.SubElement(parent, "LineString"), "coordinates").text = _coords(
            geom.coords
        )
    elif gtype == "Polygon":
        poly = ET.SubElement(parent, "Polygon")
        outer = ET.SubElement(ET.SubElement(poly, "outerBoundaryIs"), "LinearRing")
        ET.SubElement(outer, "coordinates").text = _coords(geom.exterior.coords)  # type: ignore[attr-defined]
        for ring in geom.interiors:  # type: ignore[attr-defined]
            inner = ET.SubElement(ET.SubElement(poly, "innerBoundaryIs"), "LinearRing")
            ET.SubElement(inner, "coordinates").text = _coords(ring.coords)


def kml_document(frame: gpd.GeoDataFrame, kind: str, *, name: str | None = None) -> bytes:
    """The KML document of ``frame`` (any CRS; written in WGS84)."""
    wgs = frame.to_crs("EPSG:4326") if frame.crs is not None else frame
    ET.register_namespace("", KML_NS)
    root = ET.Element("kml", xmlns=KML_NS)
    doc = ET.SubElement(root, "Document")
    ET.SubElement(doc, "name").text = name or KINDS[kind].title
    style = style_of(kind)
    colours = {c.value: c.colour for c in style.categories}
    style_ids: dict[str, str] = {}
    for value, colour in [*colours.items(), ("default", style.default)]:
        sid = f"{kind}-{value}"
        style_ids[value] = sid
        st = ET.SubElement(doc, "Style", id=sid)
        icon = ET.SubElement(st, "IconStyle")
        ET.SubElement(icon, "color").text = _kml_colour(colour, 255)
        ET.SubElement(icon, "scale").text = "0.9"
        line = ET.SubElement(st, "LineStyle")
        ET.SubElement(line, "color").text = _kml_colour(colour, 255)
        ET.SubElement(line, "width").text = "2"
        poly = ET.SubElement(st, "PolyStyle")
        ET.SubElement(poly, "color").text = _kml_colour(colour, 90)
    folder = ET.SubElement(doc, "Folder")
    ET.SubElement(folder, "name").text = kind
    fields = [c for c in wgs.columns if c != wgs.geometry.name]
    summary = [f for f in SUMMARY_FIELDS.get(kind, ()) if f in fields]
    for _, rec in wgs.iterrows():
        pm = ET.SubElement(folder, "Placemark")
        ET.SubElement(pm, "name").text = _text(rec.get("ref")) or ""
        parts = [f"{f.replace('_', ' ')}: {_text(rec[f])}" for f in summary if _text(rec[f])]
        # the summary is the Snippet (under the name in Google Earth's list); <description>
        # is the record's own description, which KML readers take as a field of that name
        ET.SubElement(pm, "Snippet").text = "; ".join(parts)
        own = _text(rec.get("description")) if "description" in fields else None
        if own:
            ET.SubElement(pm, "description").text = own
        category = _text(rec.get(style.field)) if style.field else None
        sid = style_ids.get(category or "default", style_ids["default"])
        ET.SubElement(pm, "styleUrl").text = "#" + sid
        data = ET.SubElement(pm, "ExtendedData")
        for f in fields:
            text = _text(rec[f])
            if text is None or f == "description":
                continue
            d = ET.SubElement(data, "Data", name=str(f))
            ET.SubElement(d, "value").text = text
        geom = rec[wgs.geometry.name]
        if geom is not None and not shapely.is_empty(geom):
            _geometry(pm, geom)
    ET.indent(root)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def write_kml(frame: gpd.GeoDataFrame, kind: str, out: Path) -> Path:
    """Write ``frame`` as KML (or KMZ when ``out`` ends with ``.kmz``)."""
    body = kml_document(frame, kind, name=out.stem)
    if out.suffix.lower() == ".kmz":
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as kmz:
            kmz.writestr("doc.kml", body)
    else:
        out.write_bytes(body)
    return out
