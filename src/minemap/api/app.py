"""The FastAPI application: :func:`create_app` wires the store, the routers and the page.

Errors keep one shape so the page and scripts read them alike: a JSON body
with ``detail`` (FastAPI's list of ``{loc, msg, type}`` for validation, a
string otherwise) and ``message`` (one line naming the field). minemap's
error tree maps onto HTTP: a :class:`~minemap.errors.ValidationError` is
422, :class:`~minemap.errors.NotFoundError` 404,
:class:`~minemap.errors.ConflictError` 409 (a stale version),
:class:`~minemap.errors.PermissionDeniedError` 403.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from minemap import __version__
from minemap.api.deps import AppState
from minemap.errors import (
    ConfigError,
    ConflictError,
    MinemapError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)

logger = logging.getLogger(__name__)

STATIC_DIR = Path(str(resources.files("minemap") / "api" / "static"))


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.limit:
                    await self._refuse(send, declared)
                    return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    # raised inside the handler's body read: FastAPI passes HTTPException on
                    raise HTTPException(
                        413, detail=f"request body too large: at most {self.limit} bytes"
                    )
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, send: Send, size: int) -> None:
        response = JSONResponse(
            {
                "detail": f"request body too large: at most {self.limit} bytes",
                "message": f"request body too large ({size} bytes; the limit is {self.limit})",
            },
            status_code=413,
        )
        await response(
            {"type": "http", "method": "POST", "path": "/", "headers": []},
            _no_receive,
            send,
        )


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def _error(status: int, message: str, detail: Any = None) -> JSONResponse:
    return JSONResponse(
        {"detail": detail if detail is not None else message, "message": message}, status
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ValidationError)
    async def validation(_: Request, exc: ValidationError) -> JSONResponse:
        loc = ["body", exc.field] if exc.field else ["body"]
        detail = [{"loc": loc, "msg": exc.reason, "type": "value_error", "field": exc.field}]
        return _error(422, str(exc), detail)

    @app.exception_handler(RequestValidationError)
    async def request_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = []
        lines = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            # the field is the last named part of the location (not a list index or a type tag)
            named = [p for p in loc if p not in ("body", "query", "path", "header", "properties")]
            field = next((p for p in reversed(named) if not p.isdigit()), None)
            msg = str(err.get("msg", "invalid"))
            detail.append({"loc": loc, "msg": msg, "type": err.get("type"), "field": field})
            lines.append(f"field '{field}': {msg}" if field else msg)
        return _error(422, "; ".join(lines[:5]), detail)

    @app.exception_handler(StarletteHTTPException)
    async def http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = _error(exc.status_code, str(exc.detail))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(NotFoundError)
    async def not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return _error(404, str(exc))

    @app.exception_handler(ConflictError)
    async def conflict(_: Request, exc: ConflictError) -> JSONResponse:
        return _error(409, str(exc))

    @app.exception_handler(PermissionDeniedError)
    async def denied(_: Request, exc: PermissionDeniedError) -> JSONResponse:
        return _error(403, str(exc))

    @app.exception_handler(ConfigError)
    async def config(_: Request, exc: ConfigError) -> JSONResponse:
        return _error(422, str(exc))

    @app.exception_handler(MinemapError)
    async def other(_: Request, exc: MinemapError) -> JSONResponse:
        return _error(400, str(exc))


def create_app(
    db_url: str,
    map_dir: Path | str | None = None,
    *,
    plan_dir: Path | str | None = None,
    basemap_pmtiles: Path | str | None = None,
    secret: str | None = None,
    token_hours: float = 8.0,
    max_body_bytes: int = 5 * 1024 * 1024,
    warm: bool = False,
) -> FastAPI:
    """The minemap web application over the store at ``db_url``.

    ``map_dir`` is a folder written by ``minemap hazard-map build``;
    ``plan_dir`` one written by ``minemap plan ...``; ``basemap_pmtiles`` an
    optional PMTiles basemap drawn under the project's own layers. Tokens are
    signed with ``secret`` (default: ``MINEMAP_SECRET`` from the environment,
    else a random one, so tokens end with the process). ``warm``: compute the
    dashboard in the background at start-up, so its first visitor does not wait
    for every record to be read (``minemap serve`` does).
    """
    from minemap.api.routes import audit, auth, downloads, maps, products, records, web

    state = AppState(
        db_url=db_url,
        map_dir=Path(map_dir) if map_dir else None,
        plan_dir=Path(plan_dir) if plan_dir else None,
        basemap_pmtiles=Path(basemap_pmtiles) if basemap_pmtiles else None,
        token_ttl=dt.timedelta(hours=token_hours),
        max_body_bytes=max_body_bytes,
    )
    secret = secret or os.environ.get("MINEMAP_SECRET")
    if secret:
        state.secret = secret
    # Open once now, so a wrong URL fails at start-up rather than on the first request.
    state.store()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        warming = (
            asyncio.get_running_loop().run_in_executor(None, _warm_dashboard, state)
            if warm
            else None
        )
        yield
        if warming is not None:
            await warming
        state.close()

    app = FastAPI(
        title="minemap",
        version=__version__,
        description=(
            "National mine action records, hazard maps, plans and dashboards. "
            "Spatial records travel as GeoJSON in WGS84; writes need a bearer token "
            "from /api/auth/token."
        ),
        lifespan=lifespan,
        # the reference pages of FastAPI load their scripts from a CDN; /docs is served
        # from the package instead (routes/web.py), and ReDoc is left out
        docs_url=None,
        redoc_url=None,
    )
    app.state.minemap = state
    _install_error_handlers(app)
    app.include_router(audit.router)
    app.include_router(auth.router)
    app.include_router(maps.router)
    app.include_router(products.router)
    app.include_router(downloads.router)
    app.include_router(records.build_router())
    app.include_router(web.router)
    web.mount_static(app)
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    return app


def _warm_dashboard(state: AppState) -> None:
    from minemap.api import dashboard

    try:
        dashboard.series(state, state.store())
    except Exception:  # the first visitor will see the error; start-up goes on
        logger.exception("could not prepare the dashboard at start-up")


def app_from_env() -> FastAPI:
    """The application configured by ``MINEMAP_SERVE_*`` (for uvicorn's worker processes)."""
    return create_app(
        os.environ["MINEMAP_SERVE_DB"],
        os.environ.get("MINEMAP_SERVE_MAP") or None,
        plan_dir=os.environ.get("MINEMAP_SERVE_PLAN") or None,
        basemap_pmtiles=os.environ.get("MINEMAP_SERVE_BASEMAP") or None,
        warm=True,
    )
