"""Map layers: vector tiles of records, risk and hillshade PNG tiles, legend, "why this cell".

``/api/tiles/{layers}/{z}/{x}/{y}.pbf`` serves one Mapbox vector tile with a
layer per record kind named in ``layers`` (comma-separated, e.g.
``hazards,finds``), so the page needs few requests per view.
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from minemap.api import geo, tiles
from minemap.api.cache import data_version
from minemap.api.deps import AppState, StateDep, StoreDep
from minemap.errors import NotFoundError, ValidationError
from minemap.records.schema import KINDS, Kind
from minemap.store import Store

router = APIRouter(tags=["maps"])

PNG = "image/png"
MVT = "application/vnd.mapbox-vector-tile"
# Tiles change only when records do; a short cache keeps panning smooth.
TILE_CACHE = {"Cache-Control": "public, max-age=30"}
RASTER_CACHE = {"Cache-Control": "public, max-age=3600"}
_SKIP_IN_TILES = {
    "description",
    "attributes",
    "created_by",
    "updated_by",
    "created_at",
    "updated_at",
}

Zoom = Annotated[int, Path(ge=0, le=22)]
TileXY = Annotated[int, Path(ge=0, le=2**22 - 1)]


def tile_columns(kind: Kind) -> list[str]:
    """What the map styles by or shows on a click: names, vocabularies, dates.

    Every property costs encoding time in every tile; the whole record is one
    click away (``/api/<kind>/<id>``).
    """
    cols = ["id", "ref", "workflow"]
    cols += [
        f.name
        for f in kind.fields
        if not f.personal
        and f.name not in _SKIP_IN_TILES
        and (
            f.choices or f.type == "date" or f.name in ("name", "model", "device_model", "area_m2")
        )
    ]
    return cols


def _spatial_kinds(spec: str) -> list[Kind]:
    names = [s for s in spec.split(",") if s]
    if not names or len(names) > 12:
        raise ValidationError("name one to twelve layers, comma-separated", field="layers")
    kinds = []
    for name in names:
        kind = KINDS.get(name.replace("-", "_"))
        if kind is None or kind.geometry is None or kind.personal_fields:
            msg = f"{name!r} is not a map layer"
            raise ValidationError(msg, field="layers")
        kinds.append(kind)
    return kinds


@router.get(
    "/api/tiles/{layers}/{z}/{x}/{y}.pbf",
    summary="Mapbox vector tile of record layers (e.g. hazards,finds)",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}, 204: {"description": "nothing in this tile"}},
)
async def vector_tile(
    *,
    layers: Annotated[str, Path(max_length=200, pattern=r"^[a-z_,-]+$")],
    z: Zoom,
    x: TileXY,
    y: TileXY,
    store: StoreDep,
    state: StateDep,
) -> Response:
    kinds = _spatial_kinds(layers)
    geo.check_tile(z, x, y)
    key = ("tile", tuple(k.name for k in kinds), z, x, y, data_version(state))
    # a kept tile is answered on the event loop; a new one is made in the thread pool
    data = state.answers.get(key)
    if data is None:
        data = await run_in_threadpool(_make_vector_tile, store, kinds, z, x, y)
        state.answers.put(key, data)
    if not data:
        return Response(status_code=204, headers=TILE_CACHE)
    return Response(data, media_type=MVT, headers=TILE_CACHE)


def _make_vector_tile(store: Store, kinds: list[Kind], z: int, x: int, y: int) -> bytes:
    bounds = geo.tile_bounds(z, x, y)
    pad = (bounds[2] - bounds[0]) * geo.TILE_BUFFER
    padded = (bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad)
    box = geo.bbox_to_crs(padded, geo.WEB_MERCATOR, store.crs)
    frames = {}
    for kind in kinds:
        frame = store.read(kind.name, bbox=box)  # type: ignore[arg-type]
        frames[kind.name] = (frame, tile_columns(kind))
    return geo.vector_tile(frames, store.crs, z, x, y)


# --- the risk map -----------------------------------------------------------------------


def _map_file(state: AppState, name: str) -> FilePath:
    if state.map_dir is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no hazard map: serve with --map DIR")
    path = state.map_dir / name
    if not path.exists():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"the hazard map has no {name}")
    return path


@router.get(
    "/api/risk/tiles/{z}/{x}/{y}.png",
    summary="Risk map tile (calibrated probability, coloured as the legend)",
    response_class=Response,
    responses={200: {"content": {PNG: {}}}, 404: {"description": "no hazard map"}},
)
async def risk_tile(z: Zoom, x: TileXY, y: TileXY, state: StateDep) -> Response:
    geo.check_tile(z, x, y)
    path = _map_file(state, "risk.tif")
    key = ("risk", str(path), path.stat().st_mtime_ns, z, x, y)
    data = state.answers.get(key)
    if data is None:
        data = await run_in_threadpool(tiles.risk_tile, path, z, x, y) or tiles.BLANK_PNG
        state.answers.put(key, data)
    return Response(data, media_type=PNG, headers=RASTER_CACHE)


@router.get("/api/risk/legend", summary="Legend of the risk map colours")
def risk_legend() -> dict[str, Any]:
    stops = []
    low = 0.0
    for high, colour, label in tiles.RISK_STOPS:
        stops.append({"from": low, "to": high, "colour": colour, "label": label})
        low = high
    ramp = [
        {"value": i / 255, "colour": "#{:02x}{:02x}{:02x}".format(*tiles.RISK_COLORMAP[i][:3])}
        for i in range(0, 256, 32)
    ]
    return {"quantity": "probability of contamination (calibrated)", "classes": stops, "ramp": ramp}


@router.get("/api/risk/explain", summary="A cell's risk and why: the top feature contributions")
def explain(
    state: StateDep,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
) -> JSONResponse:
    path = _map_file(state, "risk.tif")
    import rasterio

    with rasterio.open(path) as src:
        crs = src.crs.to_string()
    x, y = geo.transformer(geo.WGS84, crs).transform(lon, lat)
    from minemap.risk.mapfolder import explain_cell

    try:
        result = explain_cell(path.parent, x, y, top=5)
    except NotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    from minemap.features.catalogue import FEATURES

    # name each feature's unit and why it matters, for the reader of the page
    described = {f.name: f for f in FEATURES}
    body = geo.plain(result.as_dict())
    for c in body["contributions"]:
        feature = described.get(c["feature"])
        if feature is not None:
            c["unit"] = feature.unit
            c["rationale"] = feature.rationale
    return JSONResponse({"lon": lon, "lat": lat, **body})


# --- the offline basemap ------------------------------------------------------------------


def _dem_path(state: AppState, store: Any) -> FilePath | None:
    dem = store.raster("dem")
    if dem is not None and FilePath(dem).exists():
        return FilePath(dem)
    if state.map_dir is not None:
        for name in ("dem.tif", "layers/dem.tif"):
            if (state.map_dir / name).exists():
                return state.map_dir / name
    return None


@router.get(
    "/api/basemap/hillshade/{z}/{x}/{y}.png",
    summary="Hillshade basemap tile drawn from the store's DEM (works offline)",
    response_class=Response,
    responses={200: {"content": {PNG: {}}}, 404: {"description": "no DEM"}},
)
def hillshade_tile(z: Zoom, x: TileXY, y: TileXY, state: StateDep, store: StoreDep) -> Response:
    geo.check_tile(z, x, y)
    dem = _dem_path(state, store)
    if dem is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="the store has no DEM raster")
    shade = tiles.hillshade_file(dem, state.cache_dir)
    data = tiles.hillshade_tile(shade, z, x, y)
    return Response(data or tiles.BLANK_PNG, media_type=PNG, headers=RASTER_CACHE)
