"""Figures for reports and the demo (matplotlib, no display needed).

:func:`overview_map` draws a region from what an authority holds (a DEM and
the observed layers of a scenario folder or of an export in the same
layout): hillshaded terrain, rivers, roads, the line of contact and
positions, settlements (ruined or inhabited), 2020 battle areas, suspected
and confirmed hazardous areas, released land and accidents, with a scale
bar, north arrow and legend. It never reads the truth.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")  # files only: never ask for a display

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import rasterio
from matplotlib.axes import Axes
from matplotlib.colors import LightSource, LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator
from rasterio.enums import Resampling

from minemap.errors import InputFileError, NotFoundError
from minemap.io.readers import read_layer

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
    return cast(gpd.GeoDataFrame, read_layer(path, name))


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
        top = people.sort_values(ascending=False).index[: min(25, max(6, len(settlements) // 8))]
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


# --- charts and maps of the national reports (Figure objects, no pyplot state) ----------------
#
# Each function below takes tables from minemap.report.summary (never records of its own)
# and returns a matplotlib Figure; to_png and data_uri turn one into bytes for a PDF or a
# self-contained HTML page.

#: Colours shared by every chart and map, so a method or outcome reads the same everywhere.
COLOURS: dict[str, str] = {
    "cancelled": "#a1d99b",
    "reduced": "#41ab5d",
    "cleared": "#005a32",
    "killed": "#a50f15",
    "injured": "#fb6a4a",
    "hazard": "#d94801",
    "sha": "#fdae6b",
    "cha": "#d94801",
    "accident": "#67000d",
    "settlement": "#252525",
    "forecast": "#2171b5",
    "actual": "#252525",
    "eore": "#6a51a3",
    "grid": "#d9d9d9",
}
METHODS = ("cancelled", "reduced", "cleared")
HA = 10_000.0


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(width, height), dpi=150, layout="constrained")
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=7)
    return fig, ax


def to_png(fig: Figure, *, dpi: int = 150) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def data_uri(fig: Figure, *, dpi: int = 150) -> str:
    """The figure as a ``data:`` URI, so an HTML page carries its images inside."""
    return "data:image/png;base64," + base64.b64encode(to_png(fig, dpi=dpi)).decode("ascii")


def _no_data(ax: Axes, text: str = "no records") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", color="#737373", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def release_by_month(table: pd.DataFrame, *, title: str = "Land released per month") -> Figure:
    """Stacked bars of hectares cancelled, reduced and cleared per month."""
    fig, ax = _figure(7.0, 2.6)
    ax.set_title(title, fontsize=9, loc="left")
    if table.empty:
        _no_data(ax)
        return fig
    x = np.arange(len(table))
    bottom = np.zeros(len(table))
    for method in METHODS:
        values = table[method].to_numpy(dtype=float) / HA if method in table else bottom * 0
        ax.bar(x, values, bottom=bottom, color=COLOURS[method], label=method, width=0.8)
        bottom += values
    _month_ticks(ax, list(table["month"]))
    ax.set_ylabel("hectares", fontsize=7)
    ax.legend(fontsize=7, frameon=False, ncols=3, loc="upper left")
    ax.grid(axis="y", color=COLOURS["grid"], linewidth=0.5)
    ax.set_axisbelow(True)
    return fig


def _month_ticks(ax: Axes, months: Sequence[str]) -> None:
    step = max(1, len(months) // 12)
    ax.set_xticks(np.arange(len(months))[::step], list(months[::step]), rotation=45)
    ax.tick_params(axis="x", labelsize=6)


def casualties_by_month(table: pd.DataFrame, *, title: str = "Victims per month") -> Figure:
    """Stacked bars of victims killed and injured per month."""
    fig, ax = _figure(7.0, 2.4)
    ax.set_title(title, fontsize=9, loc="left")
    if table.empty:
        _no_data(ax)
        return fig
    x = np.arange(len(table))
    killed = table["killed"].to_numpy(dtype=float)
    injured = table["injured"].to_numpy(dtype=float)
    ax.bar(x, killed, color=COLOURS["killed"], label="killed", width=0.8)
    ax.bar(x, injured, bottom=killed, color=COLOURS["injured"], label="injured", width=0.8)
    ax.set_ylim(0, max(1.0, float((killed + injured).max()) * 1.15))
    _month_ticks(ax, list(table["month"]))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=7, frameon=False, ncols=2, loc="upper left")
    ax.grid(axis="y", color=COLOURS["grid"], linewidth=0.5)
    ax.set_axisbelow(True)
    return fig


def casualty_trend(table: pd.DataFrame, *, title: str = "Victims per year") -> Figure:
    """Killed and injured per year, stacked."""
    fig, ax = _figure(3.4, 2.2)
    ax.set_title(title, fontsize=9, loc="left")
    if table.empty:
        _no_data(ax)
        return fig
    years = table["year"].astype(int).to_numpy()
    killed = table["killed"].to_numpy(dtype=float)
    injured = table["injured"].to_numpy(dtype=float)
    ax.bar(years, killed, color=COLOURS["killed"], label="killed")
    ax.bar(years, injured, bottom=killed, color=COLOURS["injured"], label="injured")
    ax.set_xticks(years, [str(y) for y in years])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=7, frameon=False)
    return fig


def forecast_progress(
    actual: pd.Series,
    curve: pd.DataFrame | None,
    *,
    total_m2: float | None = None,
    title: str = "Progress against the completion forecast",
) -> Figure:
    """Cumulative area released to date against the forecast's P10–P90 band and P50.

    ``actual`` is cumulative m² indexed by month-end timestamps; ``curve`` has
    ``month`` (timestamps) and ``p10``, ``p50``, ``p90`` cumulative m².
    """
    fig, ax = _figure(7.0, 2.6)
    ax.set_title(title, fontsize=9, loc="left")
    if actual.empty and (curve is None or curve.empty):
        _no_data(ax)
        return fig
    if curve is not None and not curve.empty:
        ax.fill_between(
            curve["month"],
            curve["p10"] / HA,
            curve["p90"] / HA,
            color=COLOURS["forecast"],
            alpha=0.2,
            linewidth=0,
            label="forecast P10–P90",
        )
        ax.plot(curve["month"], curve["p50"] / HA, color=COLOURS["forecast"], label="forecast P50")
    if not actual.empty:
        ax.plot(actual.index, actual.to_numpy() / HA, color=COLOURS["actual"], label="released")
    if total_m2:
        ax.axhline(total_m2 / HA, color="#969696", linestyle="--", linewidth=0.8)
        ax.text(
            ax.get_xlim()[1], total_m2 / HA, "all the land to release ", fontsize=6,
            va="bottom", ha="right", color="#636363",
        )  # fmt: skip
    ax.set_ylabel("hectares, cumulative", fontsize=7)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    ax.grid(color=COLOURS["grid"], linewidth=0.5)
    return fig


# --- maps ------------------------------------------------------------------------------------


#: The hazard map over terrain: clear where the probability is low, so the ground shows.
RISK_COLOURS = LinearSegmentedColormap.from_list(
    "minemap_risk",
    [(0.0, (1.0, 1.0, 0.8, 0.0)), (0.15, (0.996, 0.85, 0.46, 0.45)),
     (0.5, (0.99, 0.55, 0.24, 0.8)), (1.0, (0.74, 0.0, 0.15, 0.92))],
)  # fmt: skip


def _risk_layer(
    ax: Axes, risk_path: Path, max_pixels: int = 900, over_terrain: bool = False
) -> bool:
    """Draw the hazard map's probability raster, decimated to at most ``max_pixels`` wide."""
    import rasterio
    from rasterio.enums import Resampling

    with rasterio.open(risk_path) as src:
        scale = max(1, int(np.ceil(max(src.width, src.height) / max_pixels)))
        shape = (max(1, src.height // scale), max(1, src.width // scale))
        data = src.read(1, out_shape=shape, resampling=Resampling.average, masked=True)
        bounds = src.bounds
    if data.count() == 0:
        return False
    image = ax.imshow(
        data,
        extent=(bounds.left, bounds.right, bounds.bottom, bounds.top),
        cmap=RISK_COLOURS if over_terrain else "YlOrRd",
        vmin=0.0,
        vmax=max(float(np.nanpercentile(data.compressed(), 99.5)), 1e-6),
        interpolation="nearest",
        zorder=1,
    )
    colorbar = ax.figure.colorbar(image, ax=ax, shrink=0.6, pad=0.01)
    colorbar.set_label("probability of contamination (cell)", fontsize=6)
    colorbar.ax.tick_params(labelsize=6)
    return True


def situation_map(
    *,
    districts: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame,
    released: gpd.GeoDataFrame,
    accidents_before: gpd.GeoDataFrame,
    accidents_now: gpd.GeoDataFrame,
    settlements: gpd.GeoDataFrame,
    risk_path: Path | None = None,
    dem_path: Path | None = None,
    title: str = "",
) -> Figure:
    """The month on a map: terrain (when a DEM is given), the hazard map (when
    given), open hazards, land released in the month by method, accidents to
    date and in the month, settlements."""
    fig = Figure(figsize=(7.2, 4.3), dpi=150, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=9, loc="left")
    layers = [g for g in (districts, hazards, released, accidents_before, settlements) if len(g)]
    if not layers and risk_path is None:
        _no_data(ax, "no mapped records")
        return fig
    if dem_path is not None:
        dem, dem_extent, dem_cell = _read_dem(dem_path, 900)
        finite = dem[np.isfinite(dem)]
        if finite.size:
            ax.imshow(
                hillshade(dem, dem_cell, float(finite.min()), float(finite.max())),
                extent=dem_extent,
                interpolation="bilinear",
                zorder=0,
            )
    has_risk = risk_path is not None and _risk_layer(
        ax, risk_path, over_terrain=dem_path is not None
    )
    handles: list[Line2D | Patch] = []
    if len(districts):
        districts.boundary.plot(ax=ax, color="#737373", linewidth=0.6, zorder=2)
        for _, row in districts.iterrows():
            point = row.geometry.representative_point()
            ax.text(point.x, point.y, str(row["name"]), fontsize=6, color="#525252", zorder=6,
                    ha="center", alpha=0.8)  # fmt: skip
    if len(hazards):
        for kind in ("SHA", "CHA"):
            part = hazards[hazards["type"] == kind]
            if len(part):
                colour = COLOURS[kind.lower()]
                part.plot(ax=ax, facecolor="none" if has_risk else colour, edgecolor=colour,
                          linewidth=0.5, alpha=0.9, zorder=3)  # fmt: skip
                handles.append(Patch(facecolor="none" if has_risk else colour, edgecolor=colour,
                                     label=f"open {kind}"))  # fmt: skip
    for method in METHODS:
        part = released[released["method"] == method] if len(released) else released
        if len(part):
            # released polygons are small at national scale: draw an outline too
            part.plot(ax=ax, facecolor=COLOURS[method], edgecolor=COLOURS[method], linewidth=1.2,
                      zorder=4)  # fmt: skip
            handles.append(Patch(color=COLOURS[method], label=f"{method} this month"))
    if len(settlements):
        ax.scatter(settlements.geometry.x, settlements.geometry.y, s=4, c=COLOURS["settlement"],
                   marker="s", zorder=5, linewidths=0)  # fmt: skip
        handles.append(Line2D([], [], marker="s", linestyle="", color=COLOURS["settlement"],
                              markersize=3, label="settlement"))  # fmt: skip
    if len(accidents_before):
        ax.scatter(accidents_before.geometry.x, accidents_before.geometry.y, s=7, marker="x",
                   c=COLOURS["accident"], linewidths=0.7, zorder=6, alpha=0.7)  # fmt: skip
        handles.append(Line2D([], [], marker="x", linestyle="", color=COLOURS["accident"],
                              markersize=4, label="accident before"))  # fmt: skip
    if len(accidents_now):
        ax.scatter(accidents_now.geometry.x, accidents_now.geometry.y, s=60, marker="*",
                   c="#ffff33", edgecolors="black", linewidths=0.6, zorder=7)  # fmt: skip
        handles.append(Line2D([], [], marker="*", linestyle="", markerfacecolor="#ffff33",
                              markeredgecolor="black", markersize=8,
                              label="accident this month"))  # fmt: skip
    ax.set_aspect("equal")
    extent = _extent(layers) if layers else None
    if extent is not None:
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        _scale_bar(ax, extent)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    if handles:
        ax.legend(handles=handles, fontsize=6, loc="upper right", framealpha=0.85)
    return fig


def _extent(layers: Sequence[gpd.GeoDataFrame]) -> tuple[float, float, float, float]:
    bounds = np.array([layer.total_bounds for layer in layers])
    xmin, ymin = np.nanmin(bounds[:, 0]), np.nanmin(bounds[:, 1])
    xmax, ymax = np.nanmax(bounds[:, 2]), np.nanmax(bounds[:, 3])
    pad = 0.03 * max(xmax - xmin, ymax - ymin, 1_000.0)
    return (xmin - pad, xmax + pad, ymin - pad, ymax + pad)
