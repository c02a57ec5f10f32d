"""The layers a hazard map is built from, read from a store or a scenario folder.

:class:`Layers` holds one frame per record kind (in the kinds' names of
:mod:`minemap.records.schema`, links as ``<x>_ref``) and the paths of the
``dem`` and ``landcover`` rasters. Two sources:

* :func:`load_folder`: a scenario folder's ``observed.gpkg``, ``dem.tif`` and
  ``landcover.tif``. Nothing else in the folder is opened; in particular never
  ``truth.gpkg``, which only evaluation commands read when given it.
* :func:`load_store`: the records of a store (:func:`minemap.store.open_store`)
  and the rasters kept with it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from minemap.errors import InputFileError, NotFoundError
from minemap.grid.region import metric_crs
from minemap.io.readers import read_layer
from minemap.records.schema import KINDS

log = logging.getLogger(__name__)

#: Kinds a hazard map reads.
MAP_KINDS: tuple[str, ...] = (
    "region",
    "districts",
    "front_line",
    "positions",
    "roads",
    "rivers",
    "battle_areas",
    "advance_axes",
    "settlements",
    "hazards",
    "releases",
    "finds",
    "accidents",
    "minefield_records",
    "minefield_legs",
)
#: Columns a hazard map reads of each kind besides ``ref`` and the geometry (None:
#: every column). Hundreds of thousands of finds load in a second when only
#: their points are read.
MAP_COLUMNS: dict[str, tuple[str, ...] | None] = {
    "region": ("name",),
    "districts": ("name",),
    "front_line": (),
    "positions": ("side", "facing_deg"),
    "roads": ("class",),
    "rivers": (),
    "battle_areas": (),
    "advance_axes": (),
    "settlements": ("name", "population", "displaced", "status"),
    "hazards": ("type", "status"),
    "releases": ("method",),
    "finds": (),
    "accidents": (),
}
#: The only files of a scenario folder a build opens.
OBSERVED_FILE = "observed.gpkg"
RASTER_FILES = {"dem": "dem.tif", "landcover": "landcover.tif"}


@dataclass
class Layers:
    """Frames by kind plus raster paths, in one metric CRS."""

    crs: str
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    rasters: dict[str, Path] = field(default_factory=dict)
    source: str = ""

    def get(self, kind: str) -> pd.DataFrame:
        """The frame of ``kind``; an empty one with the kind's columns when absent."""
        frame = self.frames.get(kind)
        if frame is not None:
            return frame
        spec = KINDS[kind]
        columns = ["ref", *(f.file_name for f in spec.fields)]
        if spec.geometry is None:
            return pd.DataFrame(columns=columns)
        return gpd.GeoDataFrame(columns=[*columns, "geometry"], geometry="geometry", crs=self.crs)

    def has(self, kind: str) -> bool:
        frame = self.frames.get(kind)
        return frame is not None and not frame.empty

    def require(self, kind: str) -> pd.DataFrame:
        if not self.has(kind):
            msg = f"{self.source}: the '{kind}' layer is missing or empty"
            raise NotFoundError(msg)
        return self.frames[kind]


def _read_layer(path: Path, layer: str, crs: str | None) -> pd.DataFrame:
    wanted = MAP_COLUMNS.get(layer)
    columns = None
    if wanted is not None:
        present = set(pyogrio.read_info(path, layer=layer)["fields"])
        columns = [c for c in ("ref", *wanted) if c in present]
    frame = read_layer(path, layer, columns=columns, use_arrow=True)
    if (
        isinstance(frame, gpd.GeoDataFrame)
        and crs is not None
        and frame.crs is not None
        and frame.crs.to_string() != crs
    ):
        frame = frame.to_crs(crs)
    return frame


def load_folder(folder: Path, kinds: Iterable[str] = MAP_KINDS) -> Layers:
    """Layers of a scenario folder: ``observed.gpkg`` plus ``dem.tif`` and ``landcover.tif``."""
    folder = Path(folder)
    path = folder / OBSERVED_FILE
    if not path.is_file():
        raise InputFileError(folder, f"no {OBSERVED_FILE} in this folder")
    try:
        available = {str(name) for name, _ in pyogrio.list_layers(path)}
    except pyogrio.errors.DataSourceError as exc:
        raise InputFileError(path, f"not a readable GeoPackage: {exc}") from None
    if "region" not in available:
        raise InputFileError(path, "has no 'region' layer (the polygon to map)")
    region = _read_layer(path, "region", None)
    if not isinstance(region, gpd.GeoDataFrame):
        raise InputFileError(path, "the 'region' layer has no geometry")
    try:
        crs = metric_crs(region.crs, what=f"{path} region layer")
    except ValueError as exc:
        raise InputFileError(path, str(exc)) from None
    layers = Layers(crs=crs, source=str(path))
    for kind in kinds:
        if kind in available:
            layers.frames[kind] = region if kind == "region" else _read_layer(path, kind, crs)
    for name, filename in RASTER_FILES.items():
        raster = folder / filename
        if raster.is_file():
            layers.rasters[name] = raster
    return layers


def load_store(url: str, kinds: Iterable[str] = MAP_KINDS) -> Layers:
    """Layers from the records of the store at ``url`` and the rasters kept with it."""
    from minemap.store import open_store

    with open_store(url) as store:
        crs = metric_crs(store.crs, what=f"store {url}")
        layers = Layers(crs=crs, source=url)
        for kind in kinds:
            frame = store.read(kind, with_refs=True)
            if not frame.empty:
                layers.frames[kind] = frame
        for name in RASTER_FILES:
            path = store.raster(name)
            if path is not None:
                layers.rasters[name] = Path(path)
    return layers
