"""Figures for reports and the demo (matplotlib, no display needed).

:func:`overview_map` draws a region from what an authority holds (a DEM and
the observed layers of a scenario folder or of an export in the same
layout): hillshaded terrain, rivers, roads, the line of contact and
positions, settlements (ruined or inhabited), 2020 battle areas, suspected
and confirmed hazardous areas, released land and accidents, with a scale
bar, north arrow and legend. It never reads the truth.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")  # files only: never ask for a display

import matplotlib.pyplot as plt
import numpy as np
import pyogrio
import rasterio
from matplotlib.axes import Axes
from matplotlib.colors import LightSource, LinearSegmentedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from rasterio.enums import Resampling

from minemap.errors import InputFileError, NotFoundError

#: lowland green to foothill tan, mountain brown and high grey
TERRAIN = LinearSegmentedColormap.from_list(
    "minemap_terrain",
    [
        (0.0, "#c8d9a8"),
        (0.12, "#dfe3b0"),
        (0.3, "#e8d5a0"),
        (0.55, "#c9a877"),
        (0.8, "#a48a6e"),
        (1.0, "#eeeeee"),
    ],
)
_STATUS_STYLE = {
    "inhabited": {"facecolor": "#222222", "edgecolor": "white"},
    "partly_ruined": {"facecolor": "#bbbbbb", "edgecolor": "#222222"},
    "ruined": {"facecolor": "none", "edgecolor": "#555555"},
}


def hillshade(dem: np.ndarray, cell: float, vmin: float, vmax: float) -> np.ndarray:
    """RGB terrain: hypsometric tint blended with a north-west lit hillshade."""
    light = LightSource(azdeg=315, altdeg=40)
    return light.shade(
        dem,
        cmap=TERRAIN,
        blend_mode="soft",
        vert_exag=1.5,
        dx=cell,
        dy=cell,
        vmin=vmin,
        vmax=vmax,
    )


def _read_dem(
    path: Path, max_pixels: int
) -> tuple[np.ndarray, tuple[float, float, float, float], float]:
    try:
        with rasterio.open(path) as src:
            step = max(1, int(np.ceil(max(src.width, src.height) / max_pixels)))
            shape = (max(1, src.height // step), max(1, src.width // step))
            dem = src.read(1, out_shape=shape, resampling=Resampling.average).astype(float)
            b = src.bounds
            cell = (b.right - b.left) / shape[1]
    except rasterio.errors.RasterioIOError as exc:
        raise InputFileError(path, f"cannot read the DEM ({exc})") from None
    return dem, (b.left, b.right, b.bottom, b.top), cell


def _layer(path: Path, name: str) -> gpd.GeoDataFrame:
    try:
        return pyogrio.read_dataframe(path, layer=name)
    except Exception as exc:  # pyogrio's own error types; the message says which
        raise InputFileError(path, f"cannot read layer {name!r}: {exc}") from None


def _nice_length(span_m: float) -> float:
    target = span_m / 5.0
    for step in (1_000, 2_000, 5_000, 10_000, 20_000, 25_000, 50_000):
        if step >= target:
            return float(step)
    return 100_000.0


def _scale_bar(ax: Axes, extent: tuple[float, float, float, float]) -> None:
    x0, x1, y0, y1 = extent
    length = _nice_length(x1 - x0)
    bx = x0 + 0.04 * (x1 - x0)
    by = y0 + 0.05 * (y1 - y0)
    h = 0.012 * (y1 - y0)
    for k in range(2):
        ax.add_patch(
            Rectangle(
                (bx + k * length / 2, by),
                length / 2,
                h,
                facecolor="black" if k == 0 else "white",
                edgecolor="black",
                linewidth=0.8,
                zorder=20,
            )
        )
    for frac, label in ((0.0, "0"), (0.5, f"{length / 2000:g}"), (1.0, f"{length / 1000:g} km")):
        ax.text(
            bx + frac * length, by + 1.8 * h, label, ha="center", va="bottom", fontsize=8, zorder=20
        )
    # north arrow: grid north (UTM); true north differs by about a degree here
    nx = x1 - 0.04 * (x1 - x0)
    ny = y0 + 0.06 * (y1 - y0)
    ax.annotate(
        "N",
        xy=(nx, ny + 0.07 * (y1 - y0)),
        xytext=(nx, ny),
        ha="center",
        va="top",
        fontsize=11,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5},
        zorder=20,
    )


def overview_map(
    folder: str | Path,
    out: str | Path,
    *,
    title: str | None = None,
    max_pixels: int = 1_400,
    dpi: int = 150,
) -> Path:
    """Draw the overview map of a scenario folder (``dem.tif`` + ``observed.gpkg``) to a PNG."""
    root = Path(folder)
    dem_path, gpkg = root / "dem.tif", root / "observed.gpkg"
    for p in (dem_path, gpkg):
        if not p.is_file():
            msg = f"{root}: {p.name} is missing (is it a scenario folder?)"
            raise NotFoundError(msg)
    dem, extent, cell = _read_dem(dem_path, max_pixels)
    x0, x1, y0, y1 = extent
    width_in = 13.0
    height_in = width_in * (y1 - y0) / (x1 - x0)
    fig, ax = plt.subplots(figsize=(width_in, height_in), dpi=dpi)
    lo, hi = np.percentile(dem, [1, 99.8])
    ax.imshow(
        hillshade(dem, cell, vmin=float(lo) - 50.0, vmax=float(hi) + 50.0),
        extent=extent,
        origin="upper",
        interpolation="bilinear",
        zorder=0,
    )
    handles: list[Line2D | Patch] = []

    districts = _layer(gpkg, "districts")
    if len(districts):
        districts.boundary.plot(
            ax=ax, color="#666666", linewidth=0.7, linestyle=(0, (6, 3, 1, 3)), zorder=2
        )
        handles.append(Line2D([], [], color="#666666", lw=0.7, ls="-.", label="district boundary"))

    releases = _layer(gpkg, "releases")
    if len(releases):
        releases.plot(ax=ax, color="#4daf4a", alpha=0.45, linewidth=0, zorder=3)
        handles.append(Patch(facecolor="#4daf4a", alpha=0.45, label="land released 2021-2026"))
    hazards = _layer(gpkg, "hazards")
    open_h = hazards[hazards["status"] == "open"] if len(hazards) else hazards
    for htype, colour, label in (
        ("SHA", "#ff9f1c", "suspected hazardous area (open)"),
        ("CHA", "#d62828", "confirmed hazardous area (open)"),
    ):
        part = open_h[open_h["type"] == htype] if len(open_h) else open_h
        if len(part):
            part.plot(
                ax=ax, facecolor=colour, edgecolor=colour, alpha=0.45, linewidth=0.4, zorder=4
            )
            handles.append(Patch(facecolor=colour, alpha=0.45, label=label))

    battles = _layer(gpkg, "battle_areas")
    if len(battles):
        battles.plot(
            ax=ax, facecolor="none", edgecolor="#7b2cbf", hatch="///", linewidth=0.8, zorder=5
        )
        handles.append(
            Patch(facecolor="none", edgecolor="#7b2cbf", hatch="///", label="2020 battle area")
        )

    rivers = _layer(gpkg, "rivers")
    if len(rivers):
        for order, grp in rivers.groupby("order"):
            grp.plot(ax=ax, color="#2b6cb0", linewidth=0.4 + 0.55 * float(order), zorder=6)
        handles.append(Line2D([], [], color="#2b6cb0", lw=1.5, label="river"))
    roads = _layer(gpkg, "roads")
    road_style = {
        "main": ("#7a1f1f", 2.0, "-", "main road"),
        "secondary": ("#444444", 1.0, "-", "secondary road"),
        "track": ("#555555", 0.5, (0, (3, 2)), "track"),
    }
    for cls in ("track", "secondary", "main"):
        part = roads[roads["class"] == cls] if len(roads) else roads
        if len(part):
            colour, lw, ls, label = road_style[cls]
            part.plot(ax=ax, color=colour, linewidth=lw, linestyle=ls, zorder=7)
            handles.append(Line2D([], [], color=colour, lw=lw, ls=ls, label=label))

    front = _layer(gpkg, "front_line")
    if len(front):
        front.plot(ax=ax, color="#c1121f", linewidth=2.4, linestyle=(0, (7, 3)), zorder=8)
        handles.append(
            Line2D([], [], color="#c1121f", lw=2.4, ls="--", label="line of contact 1994-2020")
        )
    positions = _layer(gpkg, "positions")
    for side, colour, label in (
        ("west", "#6a040f", "position, west side"),
        ("east", "#023e8a", "position, east side"),
    ):
        part = positions[positions["side"] == side] if len(positions) else positions
        if len(part):
            ax.scatter(
                part.geometry.x,
                part.geometry.y,
                marker="^",
                s=10,
                color=colour,
                linewidths=0,
                zorder=9,
            )
            handles.append(
                Line2D([], [], marker="^", ls="", color=colour, markersize=5, label=label)
            )

    settlements = _layer(gpkg, "settlements")
    if len(settlements):
        people = settlements["population"].fillna(0) + settlements["displaced"].fillna(0)
        size = 8.0 + 55.0 * np.sqrt(people.to_numpy(dtype=float) / max(float(people.max()), 1.0))
        for status, style in _STATUS_STYLE.items():
            sel = (settlements["status"] == status).to_numpy()
            if sel.any():
                ax.scatter(
                    settlements.geometry.x[sel],
                    settlements.geometry.y[sel],
                    s=size[sel],
                    facecolors=style["facecolor"],
                    edgecolors=style["edgecolor"],
                    linewidths=1.0,
                    zorder=10,
                )
                handles.append(
                    Line2D(
                        [],
                        [],
                        marker="o",
                        ls="",
                        markersize=7,
                        markeredgewidth=1.0,
                        markerfacecolor=style["facecolor"],
                        markeredgecolor=style["edgecolor"],
                        label=f"settlement, {status.replace('_', ' ')}",
                    )
                )
        # name the larger places only, so labels stay readable
        top = people.sort_values(ascending=False).index[: max(6, len(settlements) // 8)]
        for i in top:
            g = settlements.geometry[i]
            ax.annotate(
                settlements["name"][i],
                (g.x, g.y),
                xytext=(4, 4),
                textcoords="offset points",
                fontsize=7,
                zorder=11,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7},
            )

    accidents = _layer(gpkg, "accidents")
    if len(accidents):
        ax.scatter(
            accidents.geometry.x,
            accidents.geometry.y,
            marker="X",
            s=36,
            color="black",
            edgecolors="white",
            linewidths=0.6,
            zorder=12,
        )
        handles.append(
            Line2D(
                [],
                [],
                marker="X",
                ls="",
                color="black",
                markeredgecolor="white",
                markersize=7,
                label="mine/ERW accident",
            )
        )

    _scale_bar(ax, extent)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ticks = ax.get_xticks()
    ax.set_xticks(ticks[(ticks >= x0) & (ticks <= x1)])
    ax.set_xticklabels([f"{t / 1000:.0f}" for t in ax.get_xticks()], fontsize=7)
    ticks = ax.get_yticks()
    ax.set_yticks(ticks[(ticks >= y0) & (ticks <= y1)])
    ax.set_yticklabels([f"{t / 1000:.0f}" for t in ax.get_yticks()], fontsize=7)
    ax.set_xlabel("easting, km (UTM zone 38N, EPSG:32638)", fontsize=8)
    ax.set_ylabel("northing, km", fontsize=8)
    ax.set_title(title or f"Overview: {root.name}", fontsize=13, loc="left")
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        frameon=False,
        borderaxespad=0.0,
    )
    ax.annotate(
        "Synthetic scenario: terrain, places and records are generated; only the position and "
        "scale are real. Hazards, releases and accidents as the authority records them.",
        xy=(0.0, -0.07),
        xycoords="axes fraction",
        fontsize=7,
        color="#444444",
        va="top",
    )
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, bbox_inches="tight", metadata={"Software": "minemap"})
    plt.close(fig)
    return target
