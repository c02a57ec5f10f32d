"""Charts and maps of the national reports (matplotlib, no pyplot state).

Each function takes tables from :mod:`minemap.report.summary` (never records
of its own) and returns a :class:`matplotlib.figure.Figure`; :func:`to_png`
and :func:`data_uri` turn one into bytes for a PDF or a self-contained HTML
page. Figures are built on ``Figure`` objects directly, so nothing depends on
a display or on pyplot's global state.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

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
    _month_ticks(ax, list(table["month"]))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=7, frameon=False, ncols=2, loc="upper left")
    ax.grid(axis="y", color=COLOURS["grid"], linewidth=0.5)
    ax.set_axisbelow(True)
    return fig


def horizontal_bars(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    colour: str = "#525252",
    unit: str = "",
) -> Figure:
    """One bar per label, largest at the top, each with its value written beside it."""
    fig, ax = _figure(3.4, 0.45 + 0.22 * max(len(labels), 1))
    ax.set_title(title, fontsize=9, loc="left")
    if not len(labels) or not any(v > 0 for v in values):
        _no_data(ax)
        return fig
    y = np.arange(len(labels))[::-1]
    ax.barh(y, values, color=colour, height=0.7)
    ax.set_yticks(y, list(labels))
    ax.tick_params(axis="y", labelsize=7, length=0)
    ax.set_xticks([])
    ax.spines[["bottom", "left"]].set_visible(False)
    top = max(values)
    for yi, v in zip(y, values, strict=True):
        ax.text(v + top * 0.02, yi, f"{v:,.0f}{unit}", va="center", fontsize=7)
    ax.set_xlim(0, top * 1.25)
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
        ax.text(ax.get_xlim()[0], total_m2 / HA, " area to release", fontsize=6, va="bottom")
    ax.set_ylabel("hectares, cumulative", fontsize=7)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    ax.grid(color=COLOURS["grid"], linewidth=0.5)
    return fig


# --- maps ------------------------------------------------------------------------------------


def _scale_bar(ax: Axes, extent: tuple[float, float, float, float]) -> None:
    xmin, xmax, ymin, ymax = extent
    width = xmax - xmin
    nice = [500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000]
    length = max((n for n in nice if n <= width / 4), default=nice[0])
    x0 = xmin + width * 0.04
    y0 = ymin + (ymax - ymin) * 0.05
    ax.plot([x0, x0 + length], [y0, y0], color="black", linewidth=2.5, solid_capstyle="butt")
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length} m"
    ax.text(x0 + length / 2, y0 + (ymax - ymin) * 0.015, label, ha="center", fontsize=6)


def _risk_layer(ax: Axes, risk_path: Path, max_pixels: int = 900) -> bool:
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
        cmap="YlOrRd",
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
    title: str = "",
) -> Figure:
    """The month on a map: hazard map (when given), open hazards, land released in
    the month by method, accidents to date and in the month, settlements."""
    fig = Figure(figsize=(7.2, 4.9), dpi=150, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=9, loc="left")
    layers = [g for g in (districts, hazards, released, accidents_before, settlements) if len(g)]
    if not layers and risk_path is None:
        _no_data(ax, "no mapped records")
        return fig
    has_risk = risk_path is not None and _risk_layer(ax, risk_path)
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
