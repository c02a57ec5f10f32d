"""Named country extents and the ``--extent`` option: a lon/lat box records must lie in.

Boxes are the countries' outer bounds widened by about 0.1 degree, so that a
record on the border is not refused; they catch swapped coordinates, wrong
CRSs and typing mistakes, not trespass.
"""

from __future__ import annotations

from minemap.errors import ConfigError
from minemap.store.base import BBox
from minemap.store.sql import check_extent

#: name -> (min lon, min lat, max lon, max lat)
EXTENTS: dict[str, BBox] = {
    "azerbaijan": (44.7, 38.3, 50.9, 42.0),  # with Nakhchivan and the Caspian shore
    "karabakh": (45.9, 38.8, 47.9, 40.6),  # the 2020 conflict area and the districts around it
    "armenia": (43.3, 38.7, 46.7, 41.4),
    "georgia": (39.9, 41.0, 46.8, 43.7),
    "ukraine": (22.0, 44.3, 40.3, 52.5),
    "colombia": (-79.1, -4.3, -66.8, 12.6),
    "cambodia": (102.2, 10.3, 107.7, 14.8),
    "bosnia_and_herzegovina": (15.6, 42.5, 19.7, 45.4),
}

_ALIASES = {
    "az": "azerbaijan",
    "aze": "azerbaijan",
    "am": "armenia",
    "ge": "georgia",
    "ua": "ukraine",
    "co": "colombia",
    "kh": "cambodia",
    "ba": "bosnia_and_herzegovina",
    "bih": "bosnia_and_herzegovina",
}


def parse_extent(text: str) -> BBox:
    """A country name or code (``AZ``, ``azerbaijan``) or ``minlon,minlat,maxlon,maxlat``."""
    key = text.strip().lower().replace(" ", "_").replace("-", "_")
    key = _ALIASES.get(key, key)
    if key in EXTENTS:
        return EXTENTS[key]
    parts = [p for p in text.replace(";", ",").split(",") if p.strip()]
    if len(parts) == 4:
        try:
            values = [float(p) for p in parts]
        except ValueError:
            pass
        else:
            return check_extent(values)
    names = ", ".join(sorted({*EXTENTS, *(a.upper() for a in _ALIASES)}))
    msg = f"unknown extent {text!r}: give minlon,minlat,maxlon,maxlat or one of {names}"
    raise ConfigError(msg)
