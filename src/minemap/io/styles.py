"""Map styles shipped with exports: QGIS layer styles (QML) and KML colours.

A GeoPackage export opens in QGIS already styled, because the styles travel
in the ``layer_styles`` table QGIS itself reads and writes (the "QGIS
GeoPackage styling" convention: one row per style with its QML, marked
``useAsDefault``). Hazards are coloured by status, finds by device category,
accidents by outcome, activities by type, releases by method; other kinds
get one plain symbol.

The same colours serve the KML writer (:mod:`minemap.io.kml`), so a layer
looks alike in QGIS and Google Earth.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from minemap.records.schema import KINDS


@dataclass(frozen=True)
class Category:
    value: str
    label: str
    colour: str  # "#rrggbb"


@dataclass(frozen=True)
class LayerStyle:
    """A categorised style: the field it colours by and a colour per value."""

    field: str | None
    categories: tuple[Category, ...]
    default: str = "#7f7f7f"


#: Styles by kind: colours chosen to read on satellite imagery and for colour-blind users.
STYLES: dict[str, LayerStyle] = {
    "hazards": LayerStyle(
        "status",
        (
            Category("open", "Open", "#d7191c"),
            Category("closed", "Closed (released)", "#1a9641"),
            Category("handed_over", "Handed over", "#2b83ba"),
        ),
    ),
    "finds": LayerStyle(
        "category",
        (
            Category("AP", "Anti-personnel mine", "#d7191c"),
            Category("AT", "Anti-tank mine", "#7b3294"),
            Category("UXO", "Unexploded ordnance", "#fdae61"),
            Category("AXO", "Abandoned ordnance", "#a6611a"),
            Category("submunition", "Submunition", "#e66101"),
            Category("IED", "Improvised device", "#000000"),
        ),
    ),
    "accidents": LayerStyle(
        "outcome",
        (
            Category("killed", "Someone killed", "#000000"),
            Category("injured", "Injured only", "#d7191c"),
            Category("none", "No casualty recorded", "#fdae61"),
        ),
    ),
    "activities": LayerStyle(
        "type",
        (
            Category("NTS", "Non-technical survey", "#abd9e9"),
            Category("TS", "Technical survey", "#2c7bb6"),
            Category("clearance", "Clearance", "#1a9641"),
            Category("EOD", "EOD spot task", "#fdae61"),
        ),
    ),
    "releases": LayerStyle(
        "method",
        (
            Category("cancelled", "Cancelled (NTS)", "#a6d96a"),
            Category("reduced", "Reduced (TS)", "#66bd63"),
            Category("cleared", "Cleared", "#1a9850"),
        ),
    ),
}

_PLAIN = LayerStyle(None, (), "#e66101")


def style_of(kind: str) -> LayerStyle:
    return STYLES.get(kind, _PLAIN)


def _rgba(colour: str, alpha: int = 255) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"{r},{g},{b},{alpha}"


def _symbol(geometry: str, colour: str, index: int) -> str:
    if "Polygon" in geometry:
        return (
            f'<symbol type="fill" name="{index}" alpha="1">'
            '<layer class="SimpleFill">'
            f'<prop k="color" v="{_rgba(colour, 90)}"/>'
            f'<prop k="outline_color" v="{_rgba(colour)}"/>'
            '<prop k="outline_width" v="0.5"/>'
            '<prop k="style" v="solid"/>'
            "</layer></symbol>"
        )
    if "Line" in geometry:
        return (
            f'<symbol type="line" name="{index}" alpha="1">'
            '<layer class="SimpleLine">'
            f'<prop k="line_color" v="{_rgba(colour)}"/>'
            '<prop k="line_width" v="0.8"/>'
            "</layer></symbol>"
        )
    return (
        f'<symbol type="marker" name="{index}" alpha="1">'
        '<layer class="SimpleMarker">'
        f'<prop k="color" v="{_rgba(colour)}"/>'
        '<prop k="outline_color" v="35,35,35,255"/>'
        '<prop k="name" v="circle"/>'
        '<prop k="size" v="2.6"/>'
        "</layer></symbol>"
    )


def qml(kind: str) -> str:
    """The QGIS style (QML document) of ``kind``'s layer."""
    geometry = KINDS[kind].geometry or "Point"
    style = style_of(kind)
    if style.field is None:
        renderer = (
            '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0">'
            f"<symbols>{_symbol(geometry, style.default, 0)}</symbols></renderer-v2>"
        )
    else:
        cats = "".join(
            f'<category render="true" symbol="{i}" value={quoteattr(c.value)} '
            f"label={quoteattr(c.label)}/>"
            for i, c in enumerate(style.categories)
        )
        symbols = "".join(_symbol(geometry, c.colour, i) for i, c in enumerate(style.categories))
        renderer = (
            f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(style.field)} '
            'symbollevels="0" enableorderby="0">'
            f"<categories>{cats}</categories><symbols>{symbols}</symbols></renderer-v2>"
        )
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
        '<qgis version="3.28" styleCategories="Symbology|Labeling">'
        f"{renderer}"
        '<labeling type="simple"><settings><text-style fieldName="ref" fontSize="8"/>'
        "</settings></labeling>"
        "</qgis>"
    )


_LAYER_STYLES_DDL = """
CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    f_table_catalog TEXT(256),
    f_table_schema TEXT(256),
    f_table_name TEXT(256),
    f_geometry_column TEXT(256),
    styleName TEXT(30),
    styleQML TEXT,
    styleSLD TEXT,
    useAsDefault BOOLEAN,
    description TEXT,
    owner TEXT(30),
    ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
)
"""


def write_layer_style(gpkg: Path, table: str, kind: str, geometry_column: str = "geom") -> None:
    """Store ``kind``'s QGIS style as the default style of ``table`` in ``gpkg``."""
    with sqlite3.connect(gpkg) as conn:
        conn.execute(_LAYER_STYLES_DDL)
        # registered as an attributes table, so the GeoPackage stays valid for GDAL and QGIS
        conn.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description,"
            " last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', "
            "'QGIS layer styles', strftime('%Y-%m-%dT%H:%M:%fZ','now'))"
        )
        conn.execute("DELETE FROM layer_styles WHERE f_table_name = ?", (table,))
        conn.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner, "
            "ui) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', NULL)",
            (
                table,
                geometry_column,
                f"minemap {kind}",
                qml(kind),
                f"minemap: {KINDS[kind].title} by {style_of(kind).field or 'kind'}",
            ),
        )
