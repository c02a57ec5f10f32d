"""Loading a generated scenario's observations into a store.

A scenario folder (``minemap scenario generate``) holds ``observed.gpkg``
(one layer per record kind, named and shaped as in
:mod:`minemap.records.schema`, links as ``<x>_ref``), the rasters ``dem.tif``
and ``landcover.tif``, ``scenario.json``, and ``truth.gpkg``: the hidden truth,
which is never opened here, so that nothing observed can leak from it.

Layers are read through the same normalisation as any import and inserted in
:data:`~minemap.records.schema.INSERT_ORDER` inside one transaction: the
scenario is imported whole, linked, or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from minemap.errors import InputFileError, ValidationError
from minemap.io.coords import crs_area
from minemap.io.importer import ImportRefusedError
from minemap.io.normalise import normalise
from minemap.io.readers import list_layers, read_table
from minemap.progress import track
from minemap.records.schema import INSERT_ORDER, get_kind
from minemap.store.base import Store

OBSERVED = "observed.gpkg"
RASTERS: tuple[str, ...] = ("dem", "landcover")


@dataclass
class ScenarioImport:
    """Records inserted per kind and rasters stored."""

    folder: Path
    counts: dict[str, int] = field(default_factory=dict)
    rasters: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{kind}: {n}" for kind, n in self.counts.items()]
        if self.rasters:
            out.append(f"rasters: {', '.join(self.rasters)}")
        total = sum(self.counts.values())
        out.append(f"{self.folder}: {total} records in {len(self.counts)} layers imported")
        return out


def import_scenario(store: Store, folder: str | Path, *, user: str) -> ScenarioImport:
    """Insert every observed layer of the scenario at ``folder`` and its rasters."""
    folder = Path(folder)
    observed = folder / OBSERVED
    if not folder.is_dir():
        raise InputFileError(folder, "not a scenario folder (no such folder)")
    if not observed.is_file():
        raise InputFileError(folder, f"not a scenario folder (no {OBSERVED})")
    layers = set(list_layers(observed))
    kinds = [k for k in INSERT_ORDER if k in layers]
    if not kinds:
        raise InputFileError(observed, "holds no layer named after a record kind")
    result = ScenarioImport(folder)
    area = store.extent or crs_area(store.crs)
    with store.transaction():
        for name in track(kinds, "importing scenario layers"):
            kind = get_kind(name)
            try:
                table = read_table(observed, layer=name)
            except InputFileError as exc:
                if "no records" in exc.reason:
                    result.counts[name] = 0
                    continue
                raise
            batch = normalise(table, kind, store_crs=store.crs, area=area)
            if batch.refused:
                raise ImportRefusedError(
                    f"{observed} (layer {name})", batch.refused, len(table.frame)
                )
            frame = batch.frame
            empty_links = [c for c in frame.columns if c.endswith("_ref") and frame[c].isna().all()]
            try:
                ids = store.insert(name, frame.drop(columns=empty_links), user=user)
            except ValidationError as exc:
                where = f"{observed} (layer {name})"
                field = f"{exc.field}: " if exc.field else ""
                row = exc.row if isinstance(exc.row, int) else None
                raise InputFileError(where, f"{field}{exc.reason}", row=row) from None
            result.counts[name] = len(ids)
        for raster in RASTERS:
            path = folder / f"{raster}.tif"
            if path.is_file():
                store.put_raster(raster, path)
                result.rasters.append(raster)
    return result
