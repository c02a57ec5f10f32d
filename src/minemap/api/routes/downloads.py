"""Downloads of records as GeoPackage, GeoJSON, CSV, XLSX or KML, via the io exporters.

Logged-in users only. Personal fields (victims' names and contacts) go into
a download only for roles allowed to see them, never for the others.
"""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response
from starlette.background import BackgroundTask

from minemap.api.deps import StoreDep, require
from minemap.api.security import Principal
from minemap.records.schema import get_kind

router = APIRouter(tags=["downloads"])

FORMATS = {
    "gpkg": "application/geopackage+sqlite3",
    "geojson": "application/geo+json",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "kml": "application/vnd.google-earth.kml+xml",
}


@router.get(
    "/api/export/{kind}.{fmt}",
    summary="Download every record of a kind (gpkg, geojson, csv, xlsx, kml)",
    response_class=Response,
    responses={200: {"content": {m: {} for m in FORMATS.values()}}},
)
def export(
    kind: Annotated[str, Path(pattern=r"^[a-z_-]{1,40}$")],
    fmt: Annotated[str, Path(pattern="^(gpkg|geojson|csv|xlsx|kml)$")],
    store: StoreDep,
    user: Annotated[Principal, Depends(require("download"))],
) -> Response:
    from minemap.io.export import export_records

    spec = get_kind(kind)
    # personal fields row by row: an editor keeps them on its own organisation's records
    personal = user.may("personal") or (
        user.may_see_personal if bool(spec.personal_fields) and user.organisation_id else False
    )
    folder = FilePath(tempfile.mkdtemp(prefix="minemap-export-"))
    out = folder / f"{spec.name}.{fmt}"
    export_records(store, spec.name, fmt, out, personal=personal)
    data = out.read_bytes()
    return Response(
        data,
        media_type=FORMATS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{spec.name}.{fmt}"'},
        background=BackgroundTask(_remove, folder),
    )


def _remove(folder: FilePath) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
