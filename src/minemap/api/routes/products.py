"""What the hazard map and the planner wrote, and the national figures, as JSON.

The map folder (``--map``) holds ``risk.tif``, ``zones.gpkg``,
``districts.csv`` and ``metrics.json``; the plan folder (``--plan``) holds
what ``minemap plan ...`` wrote (priorities, ``schedule.csv``, a GeoPackage of
hazards with planned dates, ``forecast.json``, ``whatif.json``...). Both are
served read-only, by name, never by a path the client makes up.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path as FilePath
from typing import Annotated, Any

import geopandas as gpd
import pandas as pd
from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from fastapi.responses import FileResponse, JSONResponse

from minemap.api import dashboard, geo
from minemap.api.deps import AppState, StateDep, StoreDep

router = APIRouter(tags=["products"])

FileName = Annotated[str, Path(max_length=120, pattern=r"^[A-Za-z0-9_.-]+$")]
_SERVED = {".json", ".csv", ".gpkg", ".png", ".geojson"}


def _folder(state: AppState, which: str) -> FilePath:
    folder = state.map_dir if which == "map" else state.plan_dir
    if folder is None:
        flag = "--map" if which == "map" else "--plan"
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"no {which} folder: serve with {flag} DIR"
        )
    return folder


def _file(state: AppState, which: str, name: str) -> FilePath:
    folder = _folder(state, which)
    path = (folder / name).resolve()
    if path.parent != folder.resolve() or path.suffix.lower() not in _SERVED or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"the {which} folder has no {name}")
    return path


def _listing(folder: FilePath) -> list[dict[str, Any]]:
    return [
        {"name": p.name, "bytes": p.stat().st_size}
        for p in sorted(folder.iterdir())
        if p.is_file() and p.suffix.lower() in _SERVED
    ]


def _as_json(path: FilePath, crs_hint: str) -> Response:
    suffix = path.suffix.lower()
    if suffix == ".json":
        return Response(path.read_bytes(), media_type="application/json")
    if suffix == ".csv":
        frame = pd.read_csv(path)
        return JSONResponse({"rows": geo.frame_rows(frame, list(frame.columns))})
    if suffix in (".gpkg", ".geojson"):
        frame = gpd.read_file(path)
        crs = frame.crs.to_string() if frame.crs is not None else crs_hint
        cols = [c for c in frame.columns if c != "geometry"]
        return Response(geo.feature_collection(frame, cols, crs), media_type="application/geo+json")
    return FileResponse(path)


@router.get("/api/map", summary="Files of the hazard map folder")
def map_files(state: StateDep) -> dict[str, Any]:
    folder = _folder(state, "map")
    return {"files": _listing(folder)}


@router.get(
    "/api/map/{name}", summary="One file of the hazard map (JSON, CSV as rows, GPKG as GeoJSON)"
)
def map_file(name: FileName, state: StateDep, store: StoreDep) -> Response:
    return _as_json(_file(state, "map", name), store.crs)


@router.get("/api/plan", summary="Files of the plan folder")
def plan_files(state: StateDep) -> dict[str, Any]:
    folder = _folder(state, "plan")
    return {"files": _listing(folder)}


@router.get("/api/plan/{name}", summary="One file of the plan (JSON, CSV as rows, GPKG as GeoJSON)")
def plan_file(name: FileName, state: StateDep, store: StoreDep) -> Response:
    return _as_json(_file(state, "plan", name), store.crs)


@router.get("/api/plan-layer", summary="Hazards with their priority and planned dates, as GeoJSON")
def plan_layer(state: StateDep, store: StoreDep) -> Response:
    folder = _folder(state, "plan")
    path = dashboard.plan_layer_file(folder)
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="the plan folder has no hazard layer")
    return _as_json(path, store.crs)


# --- national figures ---------------------------------------------------------------------


@router.get("/api/summary", summary="National figures (the same as 'minemap summary')")
def summary(
    store: StoreDep,
    state: StateDep,
    start: Annotated[dt.date | None, Query(alias="from")] = None,
    end: Annotated[dt.date | None, Query(alias="to")] = None,
) -> JSONResponse:
    if start is not None and end is not None and start > end:
        from minemap.errors import ValidationError

        raise ValidationError("'from' is after 'to'", field="from")
    return JSONResponse(dashboard.summary(state, store, start, end))


@router.get("/api/dashboard", summary="Series for the dashboard charts")
def dashboard_series(store: StoreDep, state: StateDep) -> JSONResponse:
    return JSONResponse(dashboard.series(state, store))
