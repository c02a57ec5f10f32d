"""The page: ``/`` and its static files, its configuration, and its three languages.

Every script and style the page loads is served from the package
(``api/static``, with MapLibre GL, Chart.js, PMTiles and Swagger UI in
``vendor/`` put there by ``make web-assets``): no CDN, so the page and the API
reference at ``/docs`` work with no internet at all.
"""

from __future__ import annotations

import json
import logging
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, HTTPException, status
from fastapi import Path as PathParam
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from minemap.api import geo
from minemap.api.deps import StateDep, StoreDep
from minemap.records.schema import KINDS

router = APIRouter()
log = logging.getLogger(__name__)

STATIC_DIR = Path(str(resources.files("minemap") / "api" / "static"))
I18N_DIR = Path(str(resources.files("minemap") / "api" / "i18n"))
LANGUAGES = ("en", "az", "ru")
#: The page's icon (a warning triangle), inline so that nothing is fetched for it.
FAVICON = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E"
    "%3Cpath d='M8 1 15 14H1z' fill='%23c2410c'/%3E%3C/svg%3E"
)


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    """The OpenAPI reference in Swagger UI, from the package's own copy."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="minemap API",
        swagger_js_url="/static/vendor/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui.css",
        swagger_favicon_url=FAVICON,
        # no badge from the public validator service
        swagger_ui_parameters={"validatorUrl": None},
    )


@cache
def messages(lang: str) -> dict[str, str]:
    """The interface text in ``lang``; keys missing there fall back to English."""
    english: dict[str, str] = json.loads((I18N_DIR / "en.json").read_text(encoding="utf-8"))
    if lang == "en":
        return english
    local: dict[str, str] = json.loads((I18N_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    return {**english, **local}


@router.get(
    "/api/i18n/{lang}", tags=["web"], summary="Interface text in English, Azerbaijani or Russian"
)
def i18n(lang: Annotated[str, PathParam(pattern="^(en|az|ru)$")]) -> dict[str, str]:
    return messages(lang)


def _bounds(store: Any) -> list[float] | None:
    """The data's extent in WGS84 (the region, else the hazards), for the first view."""
    for kind in ("region", "districts", "hazards"):
        try:
            frame = store.read(kind)
        except Exception as exc:  # the first view falls back to the next kind, said in the log
            log.warning("cannot read %s for the first view: %s", kind, exc)
            continue
        if len(frame):
            minx, miny, maxx, maxy = frame.total_bounds
            box = geo.bbox_to_crs((minx, miny, maxx, maxy), store.crs, geo.WGS84)
            return [round(float(v), 6) for v in box]
    return None


@router.get("/api/config", tags=["web"], summary="What the page can show: layers, extent, basemap")
def config(state: StateDep, store: StoreDep) -> JSONResponse:
    has_risk = state.map_dir is not None and (state.map_dir / "risk.tif").exists()
    dem = store.raster("dem")
    forms = {
        name: [
            {
                "name": f.name,
                "type": f.type,
                "required": f.required,
                "choices": list(f.choices) if f.choices else None,
                "link": f.link,
                "min": f.minimum,
                "max": f.maximum,
                "personal": f.personal,
            }
            for f in KINDS[name].fields
        ]
        for name in ("hazards", "activities", "accidents", "victims", "eore_sessions")
    }
    return JSONResponse(
        {
            "languages": list(LANGUAGES),
            "bounds": _bounds(store),
            "risk": has_risk,
            "hillshade": dem is not None
            or (state.map_dir is not None and (state.map_dir / "dem.tif").exists()),
            "plan": state.plan_dir is not None,
            "basemap_pmtiles": "/basemap.pmtiles" if state.basemap_pmtiles else None,
            "fields": forms,
        }
    )


@router.get("/basemap.pmtiles", include_in_schema=False)
def basemap(state: StateDep) -> FileResponse:
    if state.basemap_pmtiles is None or not state.basemap_pmtiles.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no PMTiles basemap configured")
    return FileResponse(state.basemap_pmtiles, media_type="application/octet-stream")
