"""Capture curves: how quickly a map leads survey teams to the mines.

Order the cells of the region from highest to lowest score and survey them in
that order; the **capture curve** gives, at each share of the area surveyed,
the share of truly mined cells found. Its headline figures are the capture at
5, 10 and 20% of the area.

:func:`evaluate_map` compares the hazard map (``risk.tif``) with what a
planner would do without it:

* ``front_line``: nearest the 1994-2020 line of contact first;
* ``suspected_areas``: inside the open suspected and confirmed hazardous areas
  first, then by distance to them;
* ``random``: the diagonal (the expected curve of a random order).

Cells with equal scores (all cells inside suspected areas, say) are taken in
random order: the curve is the expectation of that, a straight line across
each run of ties, so no order gains from how ties happen to be broken.

The truth (``truth.gpkg``, layer ``mines``) is read only here, and only when
given. By default mined cells are those holding a mine no activity has found
yet (the ``found`` column): the map is for the mines still in the ground.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from scipy import ndimage

from minemap.errors import InputFileError, NotFoundError
from minemap.grid import rasterize as rz
from minemap.grid.grid import Grid
from minemap.io.readers import read_layer
from minemap.risk import mapfolder as mf

log = logging.getLogger(__name__)

#: Shares of the area at which capture is reported.
CHECKPOINTS: tuple[float, ...] = (0.05, 0.10, 0.20)


@dataclass(frozen=True)
class CaptureCurve:
    """Share of mined cells found (``captured``) against share of area surveyed (``area``)."""

    area: np.ndarray
    captured: np.ndarray

    def at(self, share: float) -> float:
        return float(np.interp(share, self.area, self.captured))

    def area_under(self) -> float:
        """Area under the curve (0.5 for random, 1 for perfect)."""
        return float(np.trapezoid(self.captured, self.area))


def capture_curve(score: np.ndarray, mined: np.ndarray) -> CaptureCurve:
    """The capture curve of cells ordered by ``score`` (highest first).

    ``score`` and ``mined`` (True or a positive weight for mined cells) are one
    value per cell. NaN scores go last. Ties are averaged over (see the
    module docs).
    """
    score = np.asarray(score, dtype=np.float64).ravel()
    weight = np.asarray(mined, dtype=np.float64).ravel()
    n = len(score)
    total = weight.sum()
    if n == 0 or total <= 0:
        msg = "no mined cells to capture in the region"
        raise NotFoundError(msg)
    key = np.where(np.isfinite(score), -score, np.inf)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    sorted_weight = weight[order]
    # the end of each run of equal scores: the curve is linear across a run
    ends = np.flatnonzero(np.r_[sorted_key[1:] != sorted_key[:-1], True]) + 1
    cum = np.r_[0.0, np.cumsum(sorted_weight)[ends - 1]]
    area = np.r_[0.0, ends / n]
    return CaptureCurve(area, cum / total)


def mined_cells(truth: Path, grid: Grid, *, include_found: bool = False) -> tuple[np.ndarray, int]:
    """Per cell the number of truth mines (not yet found, unless ``include_found``)."""
    if not Path(truth).is_file():
        raise InputFileError(truth, "no such truth file")
    mines = read_layer(truth, "mines")
    if not isinstance(mines, gpd.GeoDataFrame):
        raise InputFileError(truth, "the 'mines' layer has no geometry")
    if mines.crs is not None and mines.crs.to_string() != grid.crs:
        mines = mines.to_crs(grid.crs)
    if not include_found and "found" in mines.columns:
        mines = mines[~mines["found"].fillna(False).astype(bool)]
    counts = rz.count_points(grid, list(mines.geometry))
    counts[~grid.mask] = 0
    return counts, len(mines)


def _distance(sources: np.ndarray, cell: float) -> np.ndarray:
    if not sources.any():
        return np.full(sources.shape, np.inf)
    return np.asarray(ndimage.distance_transform_edt(~sources, sampling=cell))


def heuristic_scores(
    map_dir: Path | None, grid: Grid, layers_dir: Path | None = None
) -> dict[str, np.ndarray]:
    """Scores of the single-layer orders a planner would use (higher = surveyed first)."""
    if layers_dir is not None:
        from minemap.features.inputs import open_hazards
        from minemap.grid.layers import load_folder

        layers = load_folder(layers_dir, kinds=("region", "front_line", "hazards"))
        front = rz.burn(grid, list(layers.get("front_line").geometry), all_touched=True)
        hazards = rz.burn(
            grid,
            [*open_hazards(layers, "SHA").geometry, *open_hazards(layers, "CHA").geometry],
            all_touched=True,
        )
    elif map_dir is not None and (map_dir / mf.INPUTS).is_file():
        bands, input_grid = mf.read_input_layers(map_dir, ["front_line", "sha", "cha"])
        if input_grid.shape != grid.shape or input_grid.transform != grid.transform:
            raise InputFileError(map_dir / mf.INPUTS, "does not lie on the grid of risk.tif")
        front = bands["front_line"] > 0
        hazards = (bands["sha"] > 0) | (bands["cha"] > 0)
    else:
        msg = (
            "the heuristics need the front line and suspected areas: give --layers DIR "
            "(a scenario folder) or a risk.tif inside a map folder with inputs.tif"
        )
        raise NotFoundError(msg)
    out: dict[str, np.ndarray] = {}
    if front.any():
        out["front_line"] = -_distance(front, grid.cell_size)
    if hazards.any():
        out["suspected_areas"] = -_distance(hazards, grid.cell_size)
    return out


def evaluate_map(
    risk_path: Path,
    truth: Path,
    out_dir: Path,
    *,
    layers_dir: Path | None = None,
    include_found: bool = False,
) -> dict[str, Any]:
    """Capture of the map against the heuristics and random; writes capture.json and .png."""
    risk, grid = mf.read_band(Path(risk_path))
    counts, n_mines = mined_cells(truth, grid, include_found=include_found)
    inside = grid.mask
    mined = counts[inside] > 0
    if not mined.any():
        msg = f"{truth}: no truth mines lie in the mapped region"
        raise NotFoundError(msg)
    scores = {"hazard_map": risk[inside]}
    for name, score in heuristic_scores(Path(risk_path).parent, grid, layers_dir).items():
        scores[name] = score[inside]
    curves = {name: capture_curve(s, mined) for name, s in scores.items()}
    n = int(inside.sum())
    curves["random"] = CaptureCurve(np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    mine_curve = capture_curve(risk[inside], counts[inside])

    def figures(curve: CaptureCurve) -> dict[str, float]:
        out = {f"capture_at_{round(p * 100)}pct": round(curve.at(p), 4) for p in CHECKPOINTS}
        out["area_under_curve"] = round(curve.area_under(), 4)
        return out

    result: dict[str, Any] = {
        "risk": str(risk_path),
        "truth": str(truth),
        "cells_in_region": n,
        "cell_size_m": grid.cell_size,
        "mined_cells": int(mined.sum()),
        "mines": int(counts[inside].sum()),
        "mines_in_truth_file": n_mines,
        "counted": "all mines" if include_found else "mines not yet found",
        "share_of_area_mined": round(float(mined.mean()), 6),
        "orders": {name: figures(c) for name, c in curves.items()},
        "hazard_map_share_of_mines": figures(mine_curve),
    }
    heuristics = [h for h in ("front_line", "suspected_areas") if h in curves]
    comparison = {}
    for p in CHECKPOINTS:
        key = f"capture_at_{round(p * 100)}pct"
        model = curves["hazard_map"].at(p)
        best_name = max(heuristics, key=lambda h: curves[h].at(p)) if heuristics else "random"
        best = curves[best_name].at(p) if heuristics else p
        comparison[key] = {
            "hazard_map": round(model, 4),
            "best_heuristic": best_name,
            "best_heuristic_capture": round(best, 4),
            "ratio": round(model / best, 3) if best > 0 else None,
            "share_of_heuristic_misses_recovered": (
                round((model - best) / (1 - best), 3) if best < 1 else None
            ),
        }
    result["versus_best_heuristic"] = comparison
    grid_points = np.linspace(0, 1, 201)
    result["curves"] = {
        "area_share": grid_points.round(4).tolist(),
        **{
            name: np.interp(grid_points, c.area, c.captured).round(5).tolist()
            for name, c in curves.items()
        },
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "capture.json").write_text(json.dumps(result, indent=2))
    plot_capture(curves, out_dir / "capture.png", title=_title(result))
    return result


def _title(result: dict[str, Any]) -> str:
    return (
        f"Capture of {result['mined_cells']:,} mined cells ({result['counted']}) "
        f"over {result['cells_in_region']:,} cells of {result['cell_size_m']:g} m"
    )


LABELS = {
    "hazard_map": "hazard map (minemap)",
    "suspected_areas": "inside suspected areas first",
    "front_line": "nearest the front line first",
    "random": "random order",
}
COLOURS = {
    "hazard_map": "#c0392b",
    "suspected_areas": "#2e86c1",
    "front_line": "#7d3c98",
    "random": "#7f8c8d",
}


def plot_capture(curves: dict[str, CaptureCurve], path: Path, *, title: str) -> Path:
    """The capture curves as a PNG, with the 5/10/20% checkpoints marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (full, zoom) = plt.subplots(1, 2, figsize=(12, 5.2), dpi=110)
    for ax, limit in ((full, 1.0), (zoom, 0.3)):
        for name, curve in curves.items():
            style = "--" if name == "random" else "-"
            width = 2.4 if name == "hazard_map" else 1.6
            ax.plot(
                curve.area * 100,
                curve.captured * 100,
                style,
                color=COLOURS.get(name),
                lw=width,
                label=f"{LABELS.get(name, name)} ({curve.at(0.1) * 100:.0f}% at 10%)",
            )
        for p in CHECKPOINTS:
            if p <= limit:
                ax.axvline(p * 100, color="#bbbbbb", lw=0.8, zorder=0)
        ax.set_xlim(0, limit * 100)
        ax.set_ylim(0, 100)
        ax.set_xlabel("share of area surveyed (%)")
        ax.set_ylabel("share of mined cells found (%)")
        ax.grid(alpha=0.3)
    zoom.set_title("first 30% of the area")
    full.set_title("whole region")
    full.legend(loc="lower right", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
