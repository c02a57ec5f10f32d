"""Who may do what: every role against every endpoint, organisations, personal data."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import MultiPolygon, Polygon

from minemap.api.geo import tile_bounds
from minemap.records.schema import KINDS
from minemap.store import open_store
from tests.api.conftest import LAT, LON, VICTIM_CONTACT, VICTIM_NAME, World, square_wgs84, to_store

Headers = dict[str | None, dict[str, str]]
CALLERS: tuple[str | None, ...] = (None, "viewer", "editor", "analyst", "approver", "admin")
ALL = dict.fromkeys(CALLERS, 200)


def only(allowed: tuple[str, ...], ok: int = 200) -> dict[str | None, int]:
    """``ok`` for the allowed roles, 401 without a token, 403 for the other roles."""
    return {c: ok if c in allowed else (401 if c is None else 403) for c in CALLERS}


@dataclass
class Case:
    method: str
    path: str  # the route's template, as in the OpenAPI document
    expect: dict[str | None, int]
    # makes the concrete URL and JSON body for one attempt (fresh records where a write needs one)
    make: Callable[[World], tuple[str, Any]]


def _fresh_hazard(world: World, workflow: str | None = None) -> int:
    with open_store(world.url) as store:
        poly = Polygon(square_wgs84(LON + 0.2, LAT)["coordinates"][0])
        (rid,) = store.insert(
            "hazards",
            [
                {
                    "type": "SHA",
                    "contamination": "UXO",
                    "status": "open",
                    "recorded_on": dt.date(2022, 1, 1),
                    "geometry": to_store(MultiPolygon([poly])),
                }
            ],
            user="setup",
            organisation_id=world.orgs["ANAMA"],
        )
        if workflow == "submitted":
            store.set_workflow("hazards", rid, "submitted", expected_version=1, user="setup")
    return rid


def _new_hazard_body() -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": square_wgs84(LON + 0.3, LAT),
        "properties": {
            "type": "SHA",
            "contamination": "AP",
            "status": "open",
            "recorded_on": "2024-01-02",
        },
    }


def _user_body() -> dict[str, Any]:
    _user_body.n += 1  # type: ignore[attr-defined]
    return {"name": f"new{_user_body.n}", "role": "viewer", "password": "long-enough-2"}  # type: ignore[attr-defined]


_user_body.n = 0  # type: ignore[attr-defined]


def _get(path: str) -> Callable[[World], tuple[str, Any]]:
    return lambda w: (path.format(**w.ids), None)


CASES: list[Case] = [
    Case("GET", "/api/health", ALL, _get("/api/health")),
    Case("GET", "/api/auth/me", ALL, _get("/api/auth/me")),
    Case("GET", "/api/config", ALL, _get("/api/config")),
    Case("GET", "/api/i18n/{lang}", ALL, _get("/api/i18n/az")),
    Case("GET", "/api/hazards", ALL, _get("/api/hazards")),
    Case("GET", "/api/hazards/{record_id}", ALL, _get("/api/hazards/{hazard_ANAMA}")),
    Case("GET", "/api/hazards/{record_id}/story", ALL, _get("/api/hazards/{hazard_ANAMA}/story")),
    Case("GET", "/api/victims", ALL, _get("/api/victims")),
    Case(
        "GET",
        "/api/tiles/{layers}/{z}/{x}/{y}.pbf",
        dict.fromkeys(CALLERS, 200),
        _get("/api/tiles/hazards/0/0/0.pbf"),
    ),
    Case("GET", "/api/risk/legend", ALL, _get("/api/risk/legend")),
    Case("GET", "/api/summary", ALL, _get("/api/summary")),
    Case("GET", "/api/dashboard", ALL, _get("/api/dashboard")),
    Case("GET", "/api/audit", only(("analyst", "approver", "admin")), _get("/api/audit")),
    Case(
        "GET",
        "/api/export/{kind}.{fmt}",
        only(("viewer", "editor", "analyst", "approver", "admin")),
        _get("/api/export/hazards.csv"),
    ),
    Case(
        "POST",
        "/api/hazards",
        only(("editor", "admin"), 201),
        lambda w: ("/api/hazards", _new_hazard_body()),
    ),
    Case(
        "PATCH",
        "/api/hazards/{record_id}",
        only(("editor", "admin")),
        lambda w: (
            f"/api/hazards/{_fresh_hazard(w)}",
            {"properties": {"name": "renamed"}, "version": 1},
        ),
    ),
    Case(
        "DELETE",
        "/api/hazards/{record_id}",
        only(("editor", "admin"), 204),
        lambda w: (f"/api/hazards/{_fresh_hazard(w)}?version=1", None),
    ),
    Case(
        "POST",
        "/api/hazards/{record_id}/workflow",
        only(("editor", "admin")),
        lambda w: (
            f"/api/hazards/{_fresh_hazard(w)}/workflow",
            {"state": "submitted", "version": 1},
        ),
    ),
    Case(
        "POST",
        "/api/hazards/{record_id}/workflow#approve",
        only(("approver", "admin")),
        lambda w: (
            f"/api/hazards/{_fresh_hazard(w, 'submitted')}/workflow",
            {"state": "approved", "version": 2},
        ),
    ),
    Case("POST", "/api/users", only(("admin",), 201), lambda w: ("/api/users", _user_body())),
]


def test_authorisation_matrix(client: TestClient, headers: Headers, world: World) -> None:
    failures = []
    for case in CASES:
        for caller in CALLERS:
            url, body = case.make(world)
            r = client.request(case.method, url, json=body, headers=headers[caller])
            want = case.expect[caller]
            got = r.status_code if r.status_code != 204 or want == 204 else 200
            if got != want:
                failures.append(
                    f"{case.method} {url} as {caller}: {r.status_code} (want {want}) {r.text[:120]}"
                )
            if r.status_code in (401, 403):
                assert r.json()["message"], r.text
            if r.status_code == 401:
                assert r.headers.get("WWW-Authenticate") == "Bearer"
    assert not failures, "\n".join(failures)


def test_every_kind_is_readable_by_all_and_writable_only_by_writers(
    client: TestClient, headers: Headers
) -> None:
    for name, kind in KINDS.items():
        for caller in CALLERS:
            assert client.get(f"/api/{name}?limit=5", headers=headers[caller]).status_code == 200
        body: dict[str, Any] = (
            {} if kind.geometry is None else {"type": "Feature", "geometry": None, "properties": {}}
        )
        assert client.post(f"/api/{name}", json=body).status_code in (401, 422)
        assert client.post(f"/api/{name}", json=body, headers=headers["viewer"]).status_code in (
            403,
            422,
        )
        assert client.patch(f"/api/{name}/1", json={}, headers=headers["analyst"]).status_code in (
            403,
            422,
        )
        assert (
            client.delete(f"/api/{name}/1?version=1", headers=headers["approver"]).status_code
            == 403
        )


def _template(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_matrix_covers_every_endpoint(client: TestClient) -> None:
    """Every operation of the API is either in the matrix or one per-kind copy of a matrix row."""
    covered = {(c.method, _template(c.path.split("#")[0])) for c in CASES}
    kinds = "|".join(sorted(KINDS, key=len, reverse=True))
    missing = []
    for path, ops in client.get("/openapi.json").json()["paths"].items():
        generic = re.sub(rf"^/api/({kinds})(/|$)", r"/api/hazards\2", path)
        if generic.startswith("/api/victims"):
            generic = generic.replace("/api/victims", "/api/hazards", 1)
        for method in ops:
            key = (method.upper(), _template(generic))
            if key not in covered and key not in ALSO_TESTED:
                missing.append(f"{method.upper()} {path}")
    assert not missing, missing


# Endpoints whose access is proven in other test modules (maps, products).
ALSO_TESTED = {
    ("POST", "/api/auth/token"),
    ("GET", "/api/risk/tiles/{}/{}/{}.png"),
    ("GET", "/api/risk/explain"),
    ("GET", "/api/basemap/hillshade/{}/{}/{}.png"),
    ("GET", "/api/map"),
    ("GET", "/api/map/{}"),
    ("GET", "/api/plan"),
    ("GET", "/api/plan/{}"),
    ("GET", "/api/plan-layer"),
}


def test_editor_changes_only_its_own_organisations_records(
    client: TestClient, headers: Headers, world: World
) -> None:
    halo = world.ids["hazard_HALO"]
    body = {"properties": {"name": "taken over"}, "version": 1}
    r = client.patch(f"/api/hazards/{halo}", json=body, headers=headers["editor"])
    assert r.status_code == 403
    assert "own organisation" in r.json()["message"]
    assert (
        client.delete(f"/api/hazards/{halo}?version=1", headers=headers["editor"]).status_code
        == 403
    )
    wf = client.post(
        f"/api/hazards/{halo}/workflow",
        json={"state": "submitted", "version": 1},
        headers=headers["editor"],
    )
    assert wf.status_code == 403
    # recording for another organisation is refused too
    other = _new_hazard_body()
    other["properties"]["organisation_id"] = world.orgs["HALO"]
    assert client.post("/api/hazards", json=other, headers=headers["editor"]).status_code == 403
    # the owner may, and so may an admin
    assert (
        client.patch(f"/api/hazards/{halo}", json=body, headers=headers["other_editor"]).status_code
        == 200
    )
    body["version"] = 2
    assert (
        client.patch(f"/api/hazards/{halo}", json=body, headers=headers["admin"]).status_code == 200
    )


# --- personal data ---------------------------------------------------------------------------

SEES_PERSONAL = {"editor", "approver", "admin"}  # the editor is of the owner organisation


def _leaks(text: str) -> bool:
    return VICTIM_NAME in text or VICTIM_CONTACT in text


@pytest.mark.parametrize("caller", [*CALLERS, "other_editor"])
def test_victims_names_only_for_allowed_roles(
    client: TestClient, headers: Headers, world: World, caller: str | None
) -> None:
    h = headers[caller]
    allowed = caller in SEES_PERSONAL
    listing = client.get("/api/victims", headers=h)
    one = client.get(f"/api/victims/{world.ids['victim']}", headers=h)
    assert _leaks(listing.text) == allowed
    assert _leaks(one.text) == allowed
    if allowed:
        assert one.json()["name"] == VICTIM_NAME
        assert one.json()["contact"] == VICTIM_CONTACT
    else:
        assert "name" not in one.json()
        assert all(v.get("name") is None for v in listing.json()["items"])
    # never in GeoJSON or tiles, whoever asks
    for path in (
        "/api/accidents",
        f"/api/accidents/{world.ids['accident']}",
        f"/api/hazards/{world.ids['hazard_ANAMA']}/story",
    ):
        assert not _leaks(client.get(path, headers=h).text), path
    assert client.get("/api/tiles/victims/10/0/0.pbf", headers=h).status_code == 422
    # exports only for roles allowed, rows of others blanked
    if caller is not None:
        for fmt in ("csv", "geojson", "kml"):
            kind = "victims" if fmt == "csv" else "accidents"
            r = client.get(f"/api/export/{kind}.{fmt}", headers=h)
            assert r.status_code == 200, r.text
            assert _leaks(r.text) == (allowed and kind == "victims"), (fmt, caller)
    # the audit trail is read by analysts, who never see personal data in it
    if caller == "analyst":
        audit = client.get("/api/audit?kind=victims", headers=h)
        assert audit.status_code == 200
        assert audit.json()["entries"]
        assert not _leaks(audit.text)


def test_personal_data_never_in_vector_tiles(
    client: TestClient, world: World, headers: Headers
) -> None:
    # the tile that holds the accident, at zoom 14
    import math

    z = 14
    lon, lat = LON + 0.005, LAT + 0.005
    x = int((lon + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
    r = client.get(f"/api/tiles/accidents,hazards/{z}/{x}/{y}.pbf", headers=headers["admin"])
    assert r.status_code == 200
    tile = mapbox_vector_tile.decode(r.content)
    assert set(tile) == {"accidents", "hazards"}
    props = tile["accidents"]["features"][0]["properties"]
    assert props["id"] == world.ids["accident"]
    assert not _leaks(str(tile))
    assert tile_bounds(z, x, y)
