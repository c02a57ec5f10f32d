"""Raster tiles: the risk map and the hillshade basemap as XYZ PNG tiles (rio-tiler).

A rasterio dataset belongs to the thread that opened it, so readers are kept
per thread. The hillshade is computed once from the DEM into the
application's cache folder, then tiled like any other raster.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rio_tiler.colormap import cmap
from rio_tiler.errors import TileOutsideBounds
from rio_tiler.io import Reader

from minemap.files import replace_when_done

# Risk classes of the legend: upper bound of calibrated probability, colour, label key.
RISK_STOPS: tuple[tuple[float, str, str], ...] = (
    (0.05, "#fff7bc", "risk_very_low"),
    (0.15, "#fec44f", "risk_low"),
    (0.35, "#fe9929", "risk_medium"),
    (0.60, "#d95f0e", "risk_high"),
    (1.00, "#993404", "risk_very_high"),
)

_local = threading.local()


def _reader(path: Path) -> Reader:
    readers: dict[Path, Reader] = getattr(_local, "readers", None) or {}
    _local.readers = readers
    reader = readers.get(path)
    if reader is None:
        reader = Reader(str(path))
        readers[path] = reader
    return reader


def _risk_colormap() -> dict[int, tuple[int, int, int, int]]:
    """Probability scaled to 0..255 -> colour; transparent where the risk is negligible."""
    base = cmap.get("ylorrd")
    out: dict[int, tuple[int, int, int, int]] = {}
    for i in range(256):
        r, g, b, _ = (int(v) for v in base[i])  # type: ignore[arg-type]
        # near-zero risk stays see-through so the basemap shows; then opaque quickly
        alpha = int(min(235, 40 + i * 3)) if i > 2 else 0
        out[i] = (r, g, b, alpha)
    return out


RISK_COLORMAP = _risk_colormap()


def _blank_png() -> bytes:
    from rio_tiler.models import ImageData

    empty = np.ma.masked_all((1, 256, 256), dtype="uint8")
    return ImageData(empty).render(img_format="PNG", add_mask=True)


BLANK_PNG = _blank_png()


def risk_tile(path: Path, z: int, x: int, y: int) -> bytes | None:
    """A risk tile (PNG) or None outside the map."""
    reader = _reader(path)
    try:
        img = reader.tile(x, y, z, indexes=1, resampling_method="nearest")
    except TileOutsideBounds:
        return None
    band = img.array[0]
    invalid = np.ma.getmaskarray(band) | ~np.isfinite(band.data)
    scaled = np.clip(np.where(invalid, 0.0, band.data), 0.0, 1.0) * 255
    values = np.round(scaled).astype("uint8")
    from rio_tiler.utils import render

    alpha = np.where(invalid, 0, 255).astype("uint8")
    data: bytes = render(values[None], mask=alpha, img_format="PNG", colormap=RISK_COLORMAP)
    return data


def hillshade(
    dem: np.ndarray, cell: float, azimuth: float = 315.0, altitude: float = 45.0
) -> np.ndarray:
    """Hillshade 1..255 of a north-up DEM (0 where the DEM is missing).

    The brightness is the cosine between the surface normal and the direction
    of the sun (``azimuth`` clockwise from north, ``altitude`` above the
    horizon), as in the usual cartographic hillshade.
    """
    z = np.where(np.isfinite(dem), dem, np.nan).astype("float64")
    filled = np.where(np.isnan(z), np.nanmean(z) if np.isfinite(z).any() else 0.0, z)
    d_south, d_east = np.gradient(filled, cell)  # rows run south, columns east
    az, alt = np.deg2rad(azimuth), np.deg2rad(altitude)
    sun = (np.sin(az) * np.cos(alt), np.cos(az) * np.cos(alt), np.sin(alt))  # east, north, up
    # the normal of z(east, north) is (-dz/deast, -dz/dnorth, 1) = (-d_east, d_south, 1)
    lit = (-d_east * sun[0] + d_south * sun[1] + sun[2]) / np.sqrt(d_east**2 + d_south**2 + 1)
    out = np.clip(lit, 0, 1) * 254 + 1
    out[np.isnan(z)] = 0
    return out.astype("uint8")


_hillshade_lock = threading.Lock()


def hillshade_file(dem_path: Path, cache_dir: Path) -> Path:
    """The hillshade GeoTIFF of ``dem_path`` in ``cache_dir``, computed on first use."""
    out = cache_dir / f"hillshade-{dem_path.stem}-{int(dem_path.stat().st_mtime)}.tif"
    with _hillshade_lock:
        if out.exists():
            return out
        with rasterio.open(dem_path) as src:
            dem = src.read(1, masked=True).filled(np.nan).astype("float64")
            profile: dict[str, Any] = dict(src.profile)
            cell = abs(src.transform.a)
        shade = hillshade(dem, cell)
        profile.update(
            driver="GTiff",
            dtype="uint8",
            count=1,
            nodata=0,
            compress="deflate",
            tiled=True,
            blockxsize=256,
            blockysize=256,
        )
        with replace_when_done(out) as tmp, rasterio.open(tmp, "w", **profile) as dst:
            dst.write(shade, 1)
            dst.build_overviews([2, 4, 8, 16], rasterio.enums.Resampling.average)
    return out


def hillshade_tile(path: Path, z: int, x: int, y: int) -> bytes | None:
    """A grey hillshade tile, dark where shaded, transparent where lit, or None outside."""
    return _hillshade_tile(str(path), z, x, y)


@lru_cache(maxsize=4096)
def _hillshade_tile(path_text: str, z: int, x: int, y: int) -> bytes | None:
    # the hillshade file's name carries its DEM's modification time
    reader = _reader(Path(path_text))
    try:
        img = reader.tile(x, y, z, indexes=1, resampling_method="bilinear")
    except TileOutsideBounds:
        return None
    shade = img.array[0].astype("float32")
    mask = np.ma.getmaskarray(img.array[0]) | (shade.filled(0) == 0)
    # Shadows as semi-transparent dark grey over a paper-coloured page.
    alpha = np.clip((200 - shade.filled(200)) * 1.1, 0, 170).astype("uint8")
    alpha[mask] = 0
    rgba = np.zeros((4, *alpha.shape), dtype="uint8")
    rgba[0:3] = 60
    rgba[3] = alpha
    from rio_tiler.utils import render

    data: bytes = render(rgba[0:3], mask=rgba[3], img_format="PNG")
    return data
