"""Spatial evidence from labelled neighbours: what survey found near a cell, elsewhere.

A survey team entering a new district does not start blind: the districts
next to it have been surveyed, and mined land clusters across district
borders. These features carry that knowledge into the model without using
coordinates as features (which would only let the model memorise places):
for every cell, kernel-weighted counts of positive and of negative labelled
cells nearby, at a few bandwidths, and the distance to the nearest of each.

The evidence for a cell always comes from **other groups only**: a training
cell never sees labels of its own group, and a held-out group sees only the
training groups. This mirrors the situation the model is judged in (a group
that was never surveyed) so that training and prediction see features with
the same distribution, and no label ever leaks into its own group's
features. Bandwidths are multiples of the cell spacing (measured from the
data), so the same recipe fits a 1 km Antioquia grid and a 50 m hazard grid.

Coordinates are metric (metres); see :func:`minemap.risk.table.metric_coordinates`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

#: Bandwidths as multiples of the cell spacing.
DEFAULT_BANDWIDTHS: tuple[float, ...] = (2.0, 5.0, 10.0)
#: How many neighbours are looked at per cell; beyond them the kernels are negligible.
_NEIGHBOURS = 1024
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

    @property
    def names(self) -> list[str]:
        """Feature names, in the column order of :meth:`features`."""
        names: list[str] = []
        for b in self.bandwidths:
            metres = round(b * self.spacing)
            names += [f"evidence_positive_{metres}m", f"evidence_negative_{metres}m"]
        return [*names, "evidence_nearest_positive_m", "evidence_nearest_negative_m"]

    def features(self, xy: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
        """Evidence features for cells at ``xy``, ignoring points of the cell's own group.

        Rows without coordinates (NaN) get NaN features. ``groups`` of None
        means the cells belong to no known group: every point is used.
        """
        xy = np.asarray(xy, dtype=float)
        out = np.full((len(xy), len(self.names)), np.nan)
        valid = np.isfinite(xy).all(axis=1)
        if len(xy) == 0:
            return out
        cell_groups = (
            np.full(len(xy), None, dtype=object)
            if groups is None
            else np.asarray(groups).astype(str).astype(object)
        )
        for group in pd.unique(cell_groups[valid]):
            rows = np.flatnonzero(valid & (cell_groups == group))
            others = np.ones(len(self.xy), dtype=bool) if group is None else self.groups != group
            out[rows] = self._features_from(self.xy[others], self.labels[others], xy[rows])
        return out

    def _features_from(self, points: np.ndarray, labels: np.ndarray, xy: np.ndarray) -> np.ndarray:
        bw = np.asarray(self.bandwidths) * self.spacing
        reach = 4.0 * bw.max()
        far = 50.0 * bw.max()
        result = np.zeros((len(xy), len(self.names)))
        result[:, -2:] = far
        if len(points) == 0:
            return result
        tree = cKDTree(points)
        k = min(_NEIGHBOURS, len(points))
        for start in range(0, len(xy), _CHUNK):
            stop = min(start + _CHUNK, len(xy))
            dist, idx = tree.query(xy[start:stop], k=k, distance_upper_bound=reach)
            dist = dist.reshape(stop - start, k)
            idx = idx.reshape(stop - start, k)
            found = idx < len(points)
            safe = np.where(found, idx, 0)
            positive = found & (labels[safe] == 1)
            negative = found & (labels[safe] == 0)
            columns = []
            for b in bw:
                weight = np.exp(-0.5 * (np.where(found, dist, np.inf) / b) ** 2)
                columns += [(weight * positive).sum(axis=1), (weight * negative).sum(axis=1)]
            result[start:stop, : len(columns)] = np.column_stack(columns)
        for column, label in ((-2, 1), (-1, 0)):
            chosen = points[labels == label]
            if len(chosen):
                result[:, column] = np.minimum(cKDTree(chosen).query(xy)[0], far)
        return result


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
    )
