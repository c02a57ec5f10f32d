"""Spatial evidence from labelled neighbours: what survey found near a cell, elsewhere.

A survey team entering a new district does not start blind: the districts
next to it have been surveyed, and mined land clusters across district
borders. These features carry that knowledge into the model without using
coordinates as features (which would only let the model memorise places):
for every cell, Gaussian-kernel-weighted counts of positive and of negative
labelled cells nearby at a few bandwidths, the share of positives among them
(shrunk towards the overall share where there are few: a local prevalence,
which shallow trees cannot easily form from two counts), and the distance to
the nearest of each.

The evidence for a cell always comes from **other groups only**: a training
cell never sees labels of its own group, and a held-out group sees only the
training groups. This mirrors the situation the model is judged in (a group
that was never surveyed) so that training and prediction see features with
the same distribution, and no label ever leaks into its own group's
features. Bandwidths are multiples of the cell spacing (measured from the
data), so the same recipe fits a 1 km Antioquia grid and a 50 m hazard grid.

The kernel sums are whole-array operations: labelled points are counted on
a raster of half the cell spacing and blurred with
:func:`scipy.ndimage.gaussian_filter`; because blurring is linear, the sum
over *other* groups is the blur of all points minus the blur of the cell's own
group. Points far apart (a raster too large) fall back to nearest-neighbour
sums from a k-d tree.

Coordinates are metric (metres); see :func:`minemap.risk.table.metric_coordinates`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.spatial import cKDTree

#: Bandwidths as multiples of the cell spacing.
DEFAULT_BANDWIDTHS: tuple[float, ...] = (2.0, 5.0, 10.0)
#: Kernels reach this many bandwidths (the Gaussian is below 0.0004 beyond).
_TRUNCATE = 4.0
#: Largest evidence raster (pixels) before falling back to the k-d tree.
_MAX_RASTER = 40_000_000
#: Neighbours looked at per cell in the k-d tree fallback, and cells per query chunk.
_NEIGHBOURS = 512
_CHUNK = 4096


@dataclass(frozen=True)
class Evidence:
    """Labelled points that later cells draw evidence from.

    ``xy`` is ``(n, 2)`` metres, ``labels`` 0/1, ``groups`` the group of each
    point (as strings), ``spacing`` the cell spacing in metres.
    """

    xy: np.ndarray
    labels: np.ndarray
    groups: np.ndarray
    spacing: float
    bandwidths: tuple[float, ...] = DEFAULT_BANDWIDTHS
    #: also give the smoothed share of positives nearby at each bandwidth
    shares: bool = True

    @property
    def names(self) -> list[str]:
        """Feature names, in the column order of :meth:`features`."""
        names: list[str] = []
        for b in self.bandwidths:
            metres = round(b * self.spacing)
            names += [f"evidence_positive_{metres}m", f"evidence_negative_{metres}m"]
        if self.shares:
            names += [f"evidence_share_{round(b * self.spacing)}m" for b in self.bandwidths]
        return [*names, "evidence_nearest_positive_m", "evidence_nearest_negative_m"]

    @property
    def monotone(self) -> list[int]:
        """The known sign of each feature's effect on risk (LightGBM monotone constraints).

        More positives nearby never lower the risk, more negatives never raise
        it, a higher share of positives never lowers it, a nearer positive
        never lowers it and a nearer negative never raises it.
        """
        signs = [1, -1] * len(self.bandwidths)
        if self.shares:
            signs += [1] * len(self.bandwidths)
        return [*signs, -1, 1]

    @property
    def far(self) -> float:
        """The distance reported when no point of a class is anywhere near (metres)."""
        return 50.0 * max(self.bandwidths) * self.spacing

    def features(self, xy: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
        """Evidence features for cells at ``xy``, ignoring points of the cell's own group.

        Rows without coordinates (NaN) get NaN features. ``groups`` of None
        means the cells belong to no known group: every point is used.
        """
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        out = np.full((len(xy), len(self.names)), np.nan)
        valid = np.isfinite(xy).all(axis=1)
        if not valid.any():
            return out
        cell_groups = (
            np.full(len(xy), "", dtype=object)
            if groups is None
            else np.asarray(groups).astype(str).astype(object)
        )
        sums = self._kernel_sums(xy[valid], cell_groups[valid])
        columns = [sums]
        if self.shares:
            # a local prevalence, shrunk towards the overall share where evidence is thin
            prior = float((self.labels == 1).mean()) if len(self.labels) else 0.0
            positive, negative = sums[:, 0::2], sums[:, 1::2]
            columns.append((positive + prior) / (positive + negative + 1.0))
        columns.append(self._nearest(xy[valid], cell_groups[valid]))
        out[valid] = np.hstack(columns)
        return out

    # --- kernel sums ------------------------------------------------------------

    def _kernel_sums(self, xy: np.ndarray, cell_groups: np.ndarray) -> np.ndarray:
        result = np.zeros((len(xy), 2 * len(self.bandwidths)))
        if len(self.xy) == 0:
            return result
        pixel = self.spacing
        halo = _TRUNCATE * max(self.bandwidths) * self.spacing + 2 * pixel
        both = np.vstack([self.xy, xy])
        low = both.min(axis=0) - halo
        high = both.max(axis=0) + halo
        shape = (
            int(np.ceil((high[0] - low[0]) / pixel)) + 2,
            int(np.ceil((high[1] - low[1]) / pixel)) + 2,
        )
        if shape[0] * shape[1] > _MAX_RASTER:
            return self._kernel_sums_tree(xy, cell_groups)
        points = _Bilinear((self.xy - low) / pixel)
        cells = _Bilinear((xy - low) / pixel)
        reach = int(np.ceil(halo / pixel))
        known = set(self.groups.tolist())
        own_groups = [g for g in pd.unique(cell_groups) if g in known]
        column = 0
        for b in self.bandwidths:
            sigma = b * self.spacing / pixel
            # gaussian_filter normalises its kernel; this factor turns means back into sums
            offsets = np.arange(-int(_TRUNCATE * sigma + 0.5), int(_TRUNCATE * sigma + 0.5) + 1)
            scale = float(np.exp(-0.5 * (offsets / sigma) ** 2).sum()) ** 2
            for label in (1, 0):
                mask = self.labels == label
                raster = points.splat(mask, shape, (0, 0))
                values = cells.sample(_blur(raster, sigma) * scale, np.ones(len(xy), bool), (0, 0))
                for group in own_groups:
                    own = mask & (self.groups == group)
                    if not own.any():
                        continue
                    rows = cell_groups == group
                    # the own group's blur only matters near its points: a window with a halo
                    i0 = max(min(points.i[own].min(), cells.i[rows].min()) - reach, 0)
                    j0 = max(min(points.j[own].min(), cells.j[rows].min()) - reach, 0)
                    i1 = max(points.i[own].max(), cells.i[rows].max()) + reach + 2
                    j1 = max(points.j[own].max(), cells.j[rows].max()) + reach + 2
                    window = points.splat(own, (i1 - i0, j1 - j0), (i0, j0))
                    own_blur = _blur(window, sigma) * scale
                    values[rows] -= cells.sample(own_blur, rows, (i0, j0))
                result[:, column] = np.maximum(values, 0.0)
                column += 1
        return result

    def _kernel_sums_tree(self, xy: np.ndarray, cell_groups: np.ndarray) -> np.ndarray:
        """Kernel sums over each cell's nearest points of other groups (a k-d tree per group)."""
        result = np.zeros((len(xy), 2 * len(self.bandwidths)))
        bw = np.asarray(self.bandwidths) * self.spacing
        reach = _TRUNCATE * bw.max()
        for group in pd.unique(cell_groups):
            rows = np.flatnonzero(cell_groups == group)
            others = self.groups != group
            points, labels = self.xy[others], self.labels[others]
            if len(points) == 0:
                continue
            tree = cKDTree(points)
            k = min(_NEIGHBOURS, len(points))
            for start in range(0, len(rows), _CHUNK):
                chunk = rows[start : start + _CHUNK]
                dist, idx = tree.query(xy[chunk], k=k, distance_upper_bound=reach)
                dist = dist.reshape(len(chunk), k)
                idx = idx.reshape(len(chunk), k)
                found = idx < len(points)
                chosen = labels[np.where(found, idx, 0)]
                column = 0
                for b in bw:
                    weight = np.exp(-0.5 * (np.where(found, dist, np.inf) / b) ** 2)
                    for label in (1, 0):
                        result[chunk, column] = (weight * (chosen == label)).sum(axis=1)
                        column += 1
        return result

    # --- nearest points ---------------------------------------------------------

    def _nearest(self, xy: np.ndarray, cell_groups: np.ndarray) -> np.ndarray:
        """Distances to the nearest positive and negative point of another group, capped."""
        result = np.full((len(xy), 2), self.far)
        for column, label in enumerate((1, 0)):
            mask = self.labels == label
            if not mask.any():
                continue
            tree = cKDTree(self.xy[mask])
            groups_of_points = self.groups[mask]
            for group in pd.unique(cell_groups):
                rows = np.flatnonzero(cell_groups == group)
                if group not in set(groups_of_points.tolist()):
                    result[rows, column] = np.minimum(tree.query(xy[rows])[0], self.far)
                    continue
                others = groups_of_points != group
                if others.any():
                    subtree = cKDTree(self.xy[mask][others])
                    result[rows, column] = np.minimum(subtree.query(xy[rows])[0], self.far)
        return result


class _Bilinear:
    """Fractional raster positions, spread over (and read from) their four pixels.

    Splatting a point bilinearly and reading a blurred raster bilinearly keeps
    kernel sums accurate to second order in pixel size, so the raster can be as
    coarse as the cell spacing.
    """

    def __init__(self, position: np.ndarray) -> None:
        floor = np.floor(position)
        self.i = floor[:, 0].astype(np.int64)
        self.j = floor[:, 1].astype(np.int64)
        self.fi = position[:, 0] - floor[:, 0]
        self.fj = position[:, 1] - floor[:, 1]

    def _corners(self, rows: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        i, j, fi, fj = self.i[rows], self.j[rows], self.fi[rows], self.fj[rows]
        return [
            (i, j, (1 - fi) * (1 - fj)),
            (i + 1, j, fi * (1 - fj)),
            (i, j + 1, (1 - fi) * fj),
            (i + 1, j + 1, fi * fj),
        ]

    def splat(
        self, rows: np.ndarray, shape: tuple[int, int], origin: tuple[int, int]
    ) -> np.ndarray:
        raster = np.zeros(shape)
        for i, j, weight in self._corners(rows):
            np.add.at(raster, (i - origin[0], j - origin[1]), weight)
        return raster

    def sample(self, raster: np.ndarray, rows: np.ndarray, origin: tuple[int, int]) -> np.ndarray:
        total = np.zeros(int(np.count_nonzero(rows)))
        for i, j, weight in self._corners(rows):
            total += weight * raster[i - origin[0], j - origin[1]]
        return total


def _blur(counts: np.ndarray, sigma: float) -> np.ndarray:
    return np.asarray(ndimage.gaussian_filter(counts, sigma, mode="constant", truncate=_TRUNCATE))


def cell_spacing(xy: np.ndarray) -> float:
    """The typical distance between neighbouring cells (median nearest-neighbour distance)."""
    xy = np.asarray(xy, dtype=float)
    xy = xy[np.isfinite(xy).all(axis=1)]
    if len(xy) < 2:
        return 1.0
    sample = xy if len(xy) <= 20_000 else xy[:: max(1, len(xy) // 20_000)]
    dist = cKDTree(xy).query(sample, k=2)[0][:, 1]
    dist = dist[dist > 0]
    return float(np.median(dist)) if len(dist) else 1.0


def build_evidence(
    xy: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    *,
    spacing: float | None = None,
    bandwidths: tuple[float, ...] = DEFAULT_BANDWIDTHS,
    shares: bool = True,
) -> Evidence:
    """Evidence from the labelled rows (``labels`` 0/1; -1 rows are left out)."""
    xy = np.asarray(xy, dtype=float)
    labels = np.asarray(labels)
    keep = (labels >= 0) & np.isfinite(xy).all(axis=1)
    return Evidence(
        xy=xy[keep],
        labels=labels[keep].astype(np.int8),
        groups=np.asarray(groups).astype(str)[keep],
        spacing=float(spacing) if spacing is not None else cell_spacing(xy),
        bandwidths=tuple(float(b) for b in bandwidths),
        shares=shares,
    )
