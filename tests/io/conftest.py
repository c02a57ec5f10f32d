"""Small stores and files for the import/export tests, made fresh in each test's folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from minemap.store import open_store
from minemap.store.base import Store

#: Karabakh-like lon/lat: inside UTM zone 38N's area of use.
LON, LAT = 46.80, 39.80


def square(lon: float, lat: float, size: float = 0.002) -> shapely.Polygon:
    return shapely.box(lon, lat, lon + size, lat + size)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A fresh store on each engine (GeoPackage, PostGIS) holding one organisation."""
    s = open_store(store_url)
    s.insert(
        "organisations",
        [{"ref": "ORG-1", "name": "ANAMA", "type": "national_authority"}],
        user="test",
    )
    yield s
    s.close()


@pytest.fixture
def hazards_wgs84() -> gpd.GeoDataFrame:
    """Three hazards as a partner would send them, in WGS84."""
    return gpd.GeoDataFrame(
        {
            "ref": ["HA-1", "HA-2", "HA-3"],
            "type": ["SHA", "CHA", "SHA"],
            "contamination": ["AP", "AT", "mixed"],
            "status": ["open", "open", "closed"],
            "recorded_on": ["2021-03-12", "2022-05-01", "2023-07-30"],
            "name": ["Ağdam şimal", "Füzuli", "Шуша"],
            "organisation_ref": ["ORG-1", "ORG-1", None],
        },
        geometry=[square(LON, LAT), square(LON + 0.01, LAT), square(LON + 0.02, LAT + 0.01)],
        crs="EPSG:4326",
    )


def write_csv(
    path: Path, rows: list[list[str]], *, encoding: str = "utf-8", sep: str = ","
) -> Path:
    text = "\n".join(sep.join(r) for r in rows) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


def finds_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ref": ["FD-1", "FD-2"],
            "category": ["AP", "AT"],
            "found_on": ["2022-01-01", "2022-01-02"],
            "lat": [LAT + 0.0005, LAT + 0.0007],
            "lon": [LON + 0.0005, LON + 0.0009],
        }
    )
