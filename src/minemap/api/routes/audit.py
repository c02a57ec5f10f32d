"""Health and the audit trail (who changed what, when, from what to what)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from minemap import __version__
from minemap.api import geo
from minemap.api.deps import StateDep, StoreDep, require
from minemap.api.models import MAX_INT
from minemap.api.security import Principal
from minemap.records.schema import KINDS, get_kind

router = APIRouter()


@router.get("/api/health", tags=["health"], summary="Is the service up, and what does it serve")
def health(state: StateDep, store: StoreDep) -> dict[str, Any]:
    hazards = store.count("hazards")
    return {
        "status": "ok",
        "version": __version__,
        "store": "postgis" if state.db_url.startswith("postgres") else "gpkg",
        "crs": store.crs,
        "hazards": hazards,
        "map": state.map_dir is not None and (state.map_dir / "risk.tif").exists(),
        "plan": state.plan_dir is not None,
    }


def _clean(kind: str, value: Any, *, personal: bool) -> Any:
    """An audit snapshot without secrets, and without personal fields unless allowed."""
    data = value
    if isinstance(value, str):
        try:
            data = json.loads(value)
        except ValueError:
            return value
    if not isinstance(data, dict):
        return value
    hidden = {"password_hash"}
    if not personal and kind in KINDS:
        hidden |= {f.name for f in KINDS[kind].personal_fields}
    return {k: v for k, v in data.items() if k not in hidden}


@router.get(
    "/api/audit",
    tags=["audit"],
    summary="Audit entries, filtered by kind, record, user and time",
)
def audit(
    *,
    store: StoreDep,
    user: Annotated[Principal, Depends(require("audit"))],
    kind: Annotated[str | None, Query(pattern=r"^[a-z_-]{1,40}$")] = None,
    record_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    by: Annotated[str | None, Query(max_length=64, description="user name")] = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> JSONResponse:
    kind_name = get_kind(kind).name if kind else None
    frame = store.audit(kind=kind_name, record_id=record_id, user=by, since=since, until=until)
    rows = geo.frame_rows(frame, list(frame.columns))
    personal = user.may("personal")
    for row in rows:
        for key in ("before", "after"):
            if key in row:
                row[key] = _clean(str(row.get("kind")), row[key], personal=personal)
    rows = rows[-limit:][::-1]
    return JSONResponse({"entries": rows, "total": len(frame)})
