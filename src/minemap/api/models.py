"""Request bodies of the API, generated from the record schema.

One model per record kind and purpose (create, change), so the OpenAPI
document names every field with its type, vocabulary and range, and a bad
value is answered with a 422 naming the field before it reaches the store.
The store still validates everything (geometry, links, dates in order).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from minemap.records.schema import KINDS, WORKFLOW, Kind
from minemap.records.schema import Field as SchemaField

# Text without NUL characters (PostgreSQL refuses them) and of a sane length.
Text = Annotated[str, StringConstraints(max_length=10_000, pattern=r"^[^\x00]*$")]
Ref = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00]*$")]
# Integers the stores' INTEGER columns (ids, links, counts) hold on both engines.
MAX_INT = 2**31 - 1
RecordId = Annotated[int, Field(ge=1, le=MAX_INT)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _annotation(f: SchemaField) -> Any:
    if f.choices:
        return Literal[f.choices]
    bounds: dict[str, float] = {}
    if f.minimum is not None:
        bounds["ge"] = f.minimum
    if f.maximum is not None:
        bounds["le"] = f.maximum
    match f.type:
        case "text":
            return Text
        case "int":
            bounds.setdefault("ge", -MAX_INT - 1)
            bounds.setdefault("le", MAX_INT)
            return Annotated[int, Field(**bounds)]  # type: ignore[call-overload]
        case "float":
            return Annotated[float, Field(allow_inf_nan=False, **bounds)]  # type: ignore[call-overload]
        case "date":
            return dt.date
        case "datetime":
            return dt.datetime
        case "bool":
            return bool
        case "json":
            return dict[str, Any]
        case "link":
            return RecordId
    msg = f"no API type for field type {f.type!r}"
    raise TypeError(msg)


def _fields(kind: Kind, *, create: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for f in kind.fields:
        ann = _annotation(f)
        description = f.doc or None
        if create and f.required and f.type != "link":
            fields[f.name] = (ann, Field(description=description))
        else:
            fields[f.name] = (ann | None, Field(default=None, description=description))
        if f.type == "link":
            # a link may also be given by the other record's reference
            fields[f.file_name] = (
                Ref | None,
                Field(default=None, description=f"{f.link} reference instead of the id"),
            )
    fields["ref"] = (Ref | None, Field(default=None, description="reference; made when missing"))
    fields["attributes"] = (dict[str, Any] | None, Field(default=None))
    if create:
        fields["organisation_id"] = (
            RecordId | None,
            Field(
                default=None, description="owner; an editor's records belong to its organisation"
            ),
        )
    return fields


def _camel(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("_"))


class Geometry(StrictModel):
    """A GeoJSON geometry in WGS84 longitude/latitude."""

    type: Literal["Point", "LineString", "MultiLineString", "Polygon", "MultiPolygon"]
    coordinates: list[Any]


def _model(name: str, fields: dict[str, Any]) -> type[BaseModel]:
    model: type[BaseModel] = create_model(name, __base__=StrictModel, **fields)
    return model


@cache
def create_model_for(kind_name: str) -> type[BaseModel]:
    """The body of ``POST /api/<kind>``: a GeoJSON Feature or a plain object."""
    kind = KINDS[kind_name]
    props = _model(f"{_camel(kind.name)}New", _fields(kind, create=True))
    if kind.geometry is None:
        return props
    feature: dict[str, Any] = {
        "type": (Literal["Feature"], Field(default="Feature")),
        "geometry": (Geometry, ...),
        "properties": (props, ...),
    }
    return _model(f"{_camel(kind.name)}NewFeature", feature)


@cache
def change_model_for(kind_name: str) -> type[BaseModel]:
    """The body of ``PATCH /api/<kind>/<id>``: the fields to change, and the version read."""
    kind = KINDS[kind_name]
    version: Any = (
        int | None,
        Field(default=None, ge=1, le=MAX_INT, description="version read; or send If-Match"),
    )
    props = _model(
        f"{_camel(kind.name)}Change", {"version": version, **_fields(kind, create=False)}
    )
    if kind.geometry is None:
        return props
    feature: dict[str, Any] = {
        "type": (Literal["Feature"], Field(default="Feature")),
        "geometry": (Geometry | None, None),
        "properties": (props | None, None),
        "version": version,
    }
    return _model(f"{_camel(kind.name)}ChangeFeature", feature)


class WorkflowChange(StrictModel):
    """Move a record along draft -> submitted -> approved | rejected."""

    state: Literal[WORKFLOW]  # type: ignore[valid-type]
    version: int | None = Field(default=None, ge=1, le=MAX_INT)


class NewUser(StrictModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\w.@-]+$")]
    role: Literal["viewer", "editor", "analyst", "approver", "admin"]
    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)]
    organisation_id: RecordId | None = None


def split_feature(body: BaseModel) -> tuple[dict[str, Any] | None, dict[str, Any], int | None]:
    """(geometry, field values given, version) out of a create or change body."""
    data = body.model_dump(exclude_unset=True)
    version = data.pop("version", None)
    if "properties" in data or "geometry" in data:
        props = data.get("properties") or {}
        version = props.pop("version", None) or version
        return data.get("geometry"), props, version
    return None, data, version
