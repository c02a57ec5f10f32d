"""Records CRUD under ``/api/<kind>``, the workflow, and a hazard's whole story.

Spatial kinds travel as GeoJSON Features in WGS84; kinds without geometry as
plain objects. Every write names the caller to the store, which validates it
and leaves the audit entry. Changes carry the version the client read
(``If-Match`` header or a ``version`` field): a stale one gets 409.
"""

# No "from __future__ import annotations": FastAPI must see the per-kind body
# models, which are local variables, as real annotations.

import json
from functools import cache
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Body, Depends, Header, HTTPException, Path, Query, Response, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from minemap.api import geo
from minemap.api.cache import data_version
from minemap.api.deps import CallerDep, StateDep, StoreDep, check, require
from minemap.api.models import (
    MAX_INT,
    WorkflowChange,
    change_model_for,
    create_model_for,
    split_feature,
)
from minemap.api.security import Principal
from minemap.errors import ValidationError
from minemap.records.schema import INSERT_ORDER, KINDS, SYSTEM_FIELDS, Kind
from minemap.store import Store

GEOJSON = "application/geo+json"
_SYSTEM = [f.name for f in SYSTEM_FIELDS]


# --- what a caller sees -------------------------------------------------------------------


def columns(kind: Kind, *, personal: bool) -> list[str]:
    """Output columns of ``kind``; personal fields only when ``personal``."""
    names = ["id", "ref"]
    names += [f.name for f in kind.fields if personal or not f.personal]
    names += _SYSTEM
    return names


def may_see_any_personal(kind: Kind, user: Principal) -> bool:
    return bool(kind.personal_fields) and (user.may("personal") or user.organisation_id is not None)


def read_visible(
    store: Store,
    kind: Kind,
    user: Principal,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    where: dict[str, Any] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Records of ``kind`` as this caller may see them, and the columns to show.

    Personal fields are read only for a caller allowed them on some records;
    an editor's view blanks them on other organisations' records.
    """
    personal = may_see_any_personal(kind, user)
    frame = store.read(kind.name, bbox=bbox, where=where, include_personal=personal)
    if personal and not user.may("personal"):
        others = frame["organisation_id"] != user.organisation_id
        for f in kind.personal_fields:
            if f.name in frame.columns:
                frame[f.name] = frame[f.name].astype(object)
                frame.loc[others, f.name] = None
    return frame, columns(kind, personal=personal)


def get_visible(store: Store, kind: Kind, record_id: int, user: Principal) -> dict[str, Any]:
    record = store.get(kind.name, record_id, include_personal=bool(kind.personal_fields))
    if not user.may_see_personal(record.get("organisation_id")):
        for f in kind.personal_fields:
            record.pop(f.name, None)
    return record


def record_body(kind: Kind, record: dict[str, Any], crs: str) -> dict[str, Any]:
    """A record as the API returns it: a Feature for spatial kinds, an object otherwise."""
    cols = [c for c in columns(kind, personal=True) if c in record]
    if kind.geometry is None:
        return {c: geo.plain(record.get(c)) for c in cols}
    return geo.feature(record, cols, crs)


def record_response(
    kind: Kind, record: dict[str, Any], crs: str, status_code: int = 200
) -> JSONResponse:
    return JSONResponse(
        record_body(kind, record, crs),
        status_code=status_code,
        media_type=GEOJSON if kind.geometry else "application/json",
        headers={"ETag": f'"{record.get("version")}"'},
    )


def parse_version(if_match: str | None, body_version: int | None) -> int:
    """The version the client read: the ``version`` field, else ``If-Match``; 428 when neither."""
    if body_version is not None:
        return body_version
    if if_match:
        raw = if_match.strip().removeprefix("W/").strip('"')
        if raw.isdigit() and 1 <= int(raw) <= MAX_INT:
            return int(raw)
        msg = f"If-Match must hold the record's version number, not {if_match!r}"
        raise ValidationError(msg, field="If-Match")
    raise HTTPException(
        status.HTTP_428_PRECONDITION_REQUIRED,
        detail="send the version you read (If-Match header or 'version' field)",
    )


def _check_owner(user: Principal, record: dict[str, Any], action: str) -> None:
    if not user.owns(record.get("organisation_id")):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"{user.name} may {action} only its own organisation's records",
        )


def _values(kind: Kind, geometry: Any, props: dict[str, Any], crs: str) -> dict[str, Any]:
    values = {k: v for k, v in props.items() if v is not None or k in {f.name for f in kind.fields}}
    if geometry is not None:
        values["geometry"] = geo.parse_geometry(geometry, kind, crs)
    return values


def _list_body(
    store: Store,
    kind: Kind,
    user: Principal,
    *,
    box: Any,
    where: dict[str, Any] | None,
    limit: int,
    offset: int,
) -> tuple[int, bytes]:
    """(total, body) of a list: a FeatureCollection for spatial kinds, else items and total."""
    frame, cols = read_visible(store, kind, user, bbox=box, where=where)
    total = len(frame)
    frame = frame.iloc[offset : offset + limit]
    if kind.geometry is not None:
        return total, geo.feature_collection(frame, cols, store.crs).encode()
    items = geo.frame_rows(frame, cols)
    return total, json.dumps({"items": items, "total": total}).encode()


# --- the router ------------------------------------------------------------------------------


def _add_kind(router: APIRouter, kind: Kind) -> None:
    name = kind.name
    title = kind.title
    create_body = create_model_for(name)
    change_body = change_model_for(name)
    spatial = kind.geometry is not None
    tag = "records"
    media = GEOJSON if spatial else "application/json"
    IdPath = Annotated[int, Path(ge=1, le=MAX_INT, description=f"{title} id")]

    @router.get(
        f"/api/{name}",
        summary=f"List {title.lower()} records",
        tags=[tag],
        response_class=Response,
        responses={200: {"content": {media: {}}}},
        operation_id=f"list_{name}",
    )
    async def list_records(
        *,
        store: StoreDep,
        state: StateDep,
        user: CallerDep,
        bbox: Annotated[
            str | None, Query(description="minlon,minlat,maxlon,maxlat (WGS84)")
        ] = None,
        workflow: Annotated[
            str | None, Query(pattern="^(draft|submitted|approved|rejected)$")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
        offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    ) -> Response:
        box = None
        if bbox is not None:
            if not spatial:
                raise ValidationError(f"{name} has no geometry to filter by", field="bbox")
            box = geo.bbox_to_crs(geo.parse_bbox(bbox), geo.WGS84, store.crs)
        where = {"workflow": workflow} if workflow else None
        media_type = GEOJSON if spatial else "application/json"
        # spatial kinds hold no personal data: every caller gets the same answer,
        # kept and answered on the event loop; anything new is read in the thread pool
        key = None
        if spatial and not kind.personal_fields:
            key = ("list", name, box, workflow, limit, offset, data_version(state))
            hit = state.answers.get(key)
            if hit is not None:
                total_text, _, body = hit.partition(b"\n")
                return Response(
                    body, media_type=media_type, headers={"X-Total-Count": total_text.decode()}
                )
        total, body = await run_in_threadpool(
            _list_body, store, kind, user, box=box, where=where, limit=limit, offset=offset
        )
        if key is not None:
            state.answers.put(key, str(total).encode() + b"\n" + body)
        return Response(body, media_type=media_type, headers={"X-Total-Count": str(total)})

    @router.get(
        f"/api/{name}/{{record_id}}",
        summary=f"One {title.lower()} record",
        tags=[tag],
        response_class=JSONResponse,
        responses={200: {"content": {media: {}}}, 404: {"description": "no such record"}},
        operation_id=f"get_{name}",
    )
    def get_record(record_id: IdPath, store: StoreDep, user: CallerDep) -> JSONResponse:
        return record_response(kind, get_visible(store, kind, record_id, user), store.crs)

    @router.post(
        f"/api/{name}",
        summary=f"Record a new {title.lower()}",
        tags=[tag],
        status_code=201,
        response_class=JSONResponse,
        responses={201: {"content": {media: {}}}, 422: {"description": "invalid field"}},
        operation_id=f"create_{name}",
    )
    def create_record(
        body: Annotated[create_body, Body()],  # type: ignore[valid-type]
        store: StoreDep,
        state: StateDep,
        user: Annotated[Principal, Depends(require("write"))],
    ) -> JSONResponse:
        geometry, props, _ = split_feature(body)
        values = _values(kind, geometry, props, store.crs)
        org = values.pop("organisation_id", None)
        if not user.owns(org) and org is not None:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail="an editor records only for its own organisation",
            )
        owner = user.organisation_id if org is None else org
        (new_id,) = store.insert(name, [values], user=str(user.name), organisation_id=owner)
        state.touch()
        return record_response(kind, store.get(name, new_id, include_personal=True), store.crs, 201)

    @router.patch(
        f"/api/{name}/{{record_id}}",
        summary=f"Change a {title.lower()} record",
        tags=[tag],
        response_class=JSONResponse,
        responses={
            200: {"content": {media: {}}},
            409: {"description": "stale version"},
            428: {"description": "no version sent"},
        },
        operation_id=f"change_{name}",
    )
    def change_record(
        *,
        record_id: IdPath,
        body: Annotated[change_body, Body()],  # type: ignore[valid-type]
        store: StoreDep,
        state: StateDep,
        user: Annotated[Principal, Depends(require("write"))],
        if_match: Annotated[str | None, Header()] = None,
    ) -> JSONResponse:
        geometry, props, body_version = split_feature(body)
        version = parse_version(if_match, body_version)
        current = store.get(name, record_id)
        _check_owner(user, current, "change")
        values = _values(kind, geometry, props, store.crs)
        if not values:
            raise ValidationError("nothing to change", kind=name)
        store.update(name, record_id, values, expected_version=version, user=str(user.name))
        state.touch()
        return record_response(kind, get_visible(store, kind, record_id, user), store.crs)

    @router.delete(
        f"/api/{name}/{{record_id}}",
        summary=f"Delete a {title.lower()} record",
        tags=[tag],
        status_code=204,
        response_class=Response,
        responses={409: {"description": "stale version"}, 428: {"description": "no version sent"}},
        operation_id=f"delete_{name}",
    )
    def delete_record(
        *,
        record_id: IdPath,
        store: StoreDep,
        state: StateDep,
        user: Annotated[Principal, Depends(require("write"))],
        if_match: Annotated[str | None, Header()] = None,
        version: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    ) -> Response:
        expected = parse_version(if_match, version)
        current = store.get(name, record_id)
        _check_owner(user, current, "delete")
        store.delete(name, record_id, expected_version=expected, user=str(user.name))
        state.touch()
        return Response(status_code=204)

    @router.post(
        f"/api/{name}/{{record_id}}/workflow",
        summary=f"Submit, approve or reject a {title.lower()} record",
        tags=["workflow"],
        response_class=JSONResponse,
        responses={200: {"content": {media: {}}}, 409: {"description": "stale version"}},
        operation_id=f"workflow_{name}",
    )
    def move_record(
        *,
        record_id: IdPath,
        body: WorkflowChange,
        store: StoreDep,
        state: StateDep,
        user: CallerDep,
        if_match: Annotated[str | None, Header()] = None,
    ) -> JSONResponse:
        action = "approve" if body.state in ("approved", "rejected") else "submit"
        check(user, action)
        version = parse_version(if_match, body.version)
        current = store.get(name, record_id)
        if action == "submit":
            _check_owner(user, current, "submit")
        store.set_workflow(
            name, record_id, body.state, expected_version=version, user=str(user.name)
        )
        state.touch()
        return record_response(kind, get_visible(store, kind, record_id, user), store.crs)


def _add_hazard_story(router: APIRouter) -> None:
    @router.get(
        "/api/hazards/{record_id}/story",
        summary="A hazard with its status history, linked activities, releases and finds",
        tags=["records"],
        operation_id="hazard_story",
    )
    def hazard_story(
        record_id: Annotated[int, Path(ge=1, le=MAX_INT)], store: StoreDep, user: CallerDep
    ) -> JSONResponse:
        hazards = KINDS["hazards"]
        record = get_visible(store, hazards, record_id, user)
        history = store.hazard_history(record_id)
        history = history.drop(columns=["geometry"], errors="ignore")
        activities = store.read("activities", where={"hazard_id": record_id})
        activity_ids = [int(i) for i in activities["id"]] if len(activities) else []
        finds = store.read("finds", where={"hazard_id": record_id})
        if activity_ids:
            more = store.read("finds")
            more = more[more["activity_id"].isin(activity_ids) & ~more["id"].isin(finds["id"])]
            finds = pd.concat([finds, more]) if len(more) else finds
        releases = store.read("releases")
        if len(releases):
            releases = releases[releases["activity_id"].isin(activity_ids)]
        accidents = store.read("accidents", where={"hazard_id": record_id})
        body = {
            "hazard": record_body(hazards, record, store.crs),
            "history": geo.frame_rows(history, list(history.columns)),
            "activities": json.loads(
                geo.feature_collection(
                    activities, columns(KINDS["activities"], personal=False), store.crs
                )
            ),
            "releases": geo.frame_rows(releases, columns(KINDS["releases"], personal=False)),
            "finds": geo.frame_rows(finds, columns(KINDS["finds"], personal=False)),
            "accidents": geo.frame_rows(accidents, columns(KINDS["accidents"], personal=False)),
        }
        return JSONResponse(body)


@cache
def build_router() -> APIRouter:
    """Routes for every record kind, in the schema's order (built once: they hold no state)."""
    router = APIRouter()
    _add_hazard_story(router)
    for name in INSERT_ORDER:
        _add_kind(router, KINDS[name])
    return router
