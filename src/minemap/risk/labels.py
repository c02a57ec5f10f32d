"""Labels of the hazard map: what survey and clearance found, cell by cell.

Each cell of the grid gets one of three labels:

* **1, positive**: a device was found in the cell; or the cell lies in an
  open confirmed hazardous area (CHA) within :attr:`LabelRules.cha_radius_m`
  of the direct evidence that confirmed it (a find or an accident in or near
  it). A CHA is drawn around its evidence with a margin, and land-release
  experience is that most of a CHA's area proves clean (FACTS.md: fewer than
  5% of suspected land holds mines), so only the cells near the evidence are
  taken as mined; the rest of the CHA stays *unknown*.
* **0, negative**: the cell's centre lies in land released by cancellation
  (NTS), reduction (TS) or clearance, and no device was found within
  :attr:`LabelRules.find_margin_m` of it. A cleared polygon in which devices
  were found is negative away from the finds; around them it stays unknown.
* **-1, unknown**: everything else, which is nearly all the land. Unknown is
  never read as negative.

How the model learns from positives and unlabelled cells: the build hands the
model library (:mod:`minemap.risk.model`) the labelled cells and a random
sample of unknown cells marked -1. The library never scores an unknown cell
as a negative; its recipes either learn from labelled cells only or add the
unknown sample as weighted *background* (presence-background learning), and
its inner spatial cross-validation, scored on labelled cells only, decides.
The hazard-map build asks for background recipes by default
(:data:`minemap.risk.build.HAZARD_CANDIDATES`) because the surveyed land is
not a random sample of the region: without background the model never sees
the hinterland nobody surveyed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from minemap.features.inputs import geometries, open_hazards
from minemap.features.kernels import disk_offsets
from minemap.grid import rasterize as rz
from minemap.grid.grid import Grid
from minemap.grid.layers import Layers

POSITIVE, NEGATIVE, UNKNOWN = 1, 0, -1


@dataclass(frozen=True)
class LabelRules:
    """Distances (metres) that turn records into cell labels."""

    #: CHA cells within this distance of a find or accident are positive.
    cha_radius_m: float = 100.0
    #: Released cells within this distance of a find are not negatives.
    find_margin_m: float = 100.0


@dataclass
class Labels:
    """The label grid (int8: 1, 0, -1) and how each label came about."""

    grid: np.ndarray
    counts: dict[str, int]

    @property
    def positives(self) -> int:
        return int((self.grid == POSITIVE).sum())

    @property
    def negatives(self) -> int:
        return int((self.grid == NEGATIVE).sum())


#: Codes of the released-land raster, weakest release first: where releases overlap,
#: the strongest (clearance) holds.
RELEASE_CODES: dict[str, int] = {"cancelled": 1, "reduced": 2, "cleared": 3}


def released_codes(layers: Layers, grid: Grid) -> np.ndarray:
    """Per cell the strongest release of its centre: 0 none, else :data:`RELEASE_CODES`."""
    releases = layers.get("releases")
    if releases.empty or "method" not in releases.columns:
        return np.zeros(grid.shape, dtype=np.uint8)
    codes = releases["method"].astype("string").str.lower().map(RELEASE_CODES)
    known = codes.notna().to_numpy()
    order = np.argsort(codes[known].to_numpy(dtype=np.int64), kind="stable")
    return rz.burn_values(
        grid,
        geometries(releases)[known][order],
        codes[known].to_numpy(dtype=np.int64)[order],
        dtype=np.uint8,
    )


def residual_factors(released: np.ndarray, residual: dict[str, float]) -> np.ndarray:
    """Per cell the share of its modelled risk left after release (1 where not released).

    A released cell whose 8 neighbours are all released lies wholly in released
    land and keeps ``residual[method]`` of its risk; a cell on the edge of
    released land was searched only in part (its centre is inside, some of it
    is not), so it keeps the mean of that and 1.
    """
    factors = np.ones(released.shape, dtype=np.float32)
    if not released.any():
        return factors
    interior = ndimage.binary_erosion(released > 0, structure=np.ones((3, 3), dtype=bool))
    for method, code in RELEASE_CODES.items():
        f = float(residual.get(method, 1.0))
        hit = released == code
        factors[hit & interior] = f
        factors[hit & ~interior] = (1.0 + f) / 2.0
    return factors


def within(sources: np.ndarray, radius_m: float, cell: float) -> np.ndarray:
    """True where a source cell's centre lies within ``radius_m`` of the cell's centre."""
    offsets = disk_offsets(radius_m, cell)
    n = offsets[-1][0]
    disk = np.zeros((2 * n + 1, 2 * n + 1), dtype=bool)
    for dy, half in offsets:
        disk[n + dy, n - half : n + half + 1] = True
    if not sources.any():
        return np.zeros(sources.shape, dtype=bool)
    return np.asarray(ndimage.binary_dilation(sources, structure=disk))


def make_labels(
    layers: Layers,
    grid: Grid,
    *,
    finds: np.ndarray | None = None,
    accidents: np.ndarray | None = None,
    released: np.ndarray | None = None,
    rules: LabelRules | None = None,
) -> Labels:
    """Label every cell of ``grid`` from the records in ``layers``.

    ``finds`` and ``accidents`` are per-cell counts (as rasterised for the
    features) and ``released`` the codes of :func:`released_codes`; each is
    computed from the layers when not given. Cells outside the region are
    unknown.
    """
    rules = rules or LabelRules()
    cell = grid.cell_size
    if finds is None:
        finds = rz.count_points(grid, geometries(layers.get("finds")))
    if accidents is None:
        accidents = rz.count_points(grid, geometries(layers.get("accidents")))
    if released is None:
        released = released_codes(layers, grid)
    has_find = finds > 0
    evidence = has_find | (accidents > 0)

    near_evidence = within(evidence, rules.cha_radius_m, cell)
    near_find = within(has_find, rules.find_margin_m, cell)
    cha = rz.burn(grid, geometries(open_hazards(layers, "CHA")))
    cha_positive = cha & near_evidence & ~has_find

    any_release = released > 0

    out = np.full(grid.shape, UNKNOWN, dtype=np.int8)
    negative = any_release & ~near_find
    out[negative] = NEGATIVE
    out[cha_positive] = POSITIVE
    out[has_find] = POSITIVE
    out[~grid.mask] = UNKNOWN

    inside = grid.mask
    counts = {
        "positive": int((out == POSITIVE).sum()),
        "positive_find_cells": int((has_find & inside).sum()),
        "positive_cha_near_evidence": int((cha_positive & inside).sum()),
        "negative": int((out == NEGATIVE).sum()),
        **{
            f"negative_{m}": int(((released == code) & (out == NEGATIVE)).sum())
            for m, code in RELEASE_CODES.items()
        },
        "released_near_find_unknown": int(
            (any_release & near_find & inside & (out == UNKNOWN)).sum()
        ),
        "cha_unknown": int((cha & inside & (out == UNKNOWN)).sum()),
        "unknown": int(((out == UNKNOWN) & inside).sum()),
        "cells_in_region": int(inside.sum()),
    }
    return Labels(out, counts)
