"""A small populated store and an API client over it, for every API test.

The world: two organisations (ANAMA and HALO), one user per role (two
editors, one per organisation), a settlement, two hazards (one per
organisation), an accident with a victim whose name and contact are personal
data, and an EORE session. The same tests run on every store engine the
``store_url`` fixture offers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import MultiPolygon, Point, Polygon

from minemap.api import create_app
from minemap.api.geo import WGS84, reproject
from minemap.api.security import Principal, hash_password
from minemap.store import open_store
from tests.fixtures import stores as _shared_stores

PASSWORD = "correct-horse-9"
ROLES_AND_USERS = {
    "viewer": "vera",
    "editor": "eldar",  # ANAMA
    "analyst": "anar",
    "approver": "aysel",
    "admin": "adil",
}
OTHER_EDITOR = "emma"  # HALO
VICTIM_NAME = "Rauf Mammadov"
VICTIM_CONTACT = "+994 50 000 00 00"

# A 1 km square near Aghdam, in WGS84.
LON, LAT = 46.93, 39.99


def square_wgs84(lon: float, lat: float, d: float = 0.01) -> dict[str, Any]:
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def to_store(geom: Any, crs: str = "EPSG:32638") -> Any:
    return reproject(geom, WGS84, crs)


@dataclass
class World:
    url: str
    orgs: dict[str, int] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)


_HASH: list[str] = []


def password_hash() -> str:
    """One argon2 hash of PASSWORD for every test user (argon2 is slow by design)."""
    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    return _HASH[0]


def populate(url: str) -> World:
    world = World(url)
    with open_store(url) as store:
        world.orgs["ANAMA"] = store.insert(
            "organisations", [{"name": "ANAMA", "type": "national_authority"}], user="setup"
        )[0]
        world.orgs["HALO"] = store.insert(
            "organisations", [{"name": "HALO Trust", "type": "ngo"}], user="setup"
        )[0]
        anama, halo = world.orgs["ANAMA"], world.orgs["HALO"]
        for role, name in ROLES_AND_USERS.items():
            org = anama if role in ("editor", "approver") else None
            store.add_user(name, role=role, password_hash=password_hash(), organisation_id=org)
        store.add_user(
            OTHER_EDITOR, role="editor", password_hash=password_hash(), organisation_id=halo
        )
        world.ids["settlement"] = store.insert(
            "settlements",
            [
                {
                    "name": "Quzanlı",
                    "population": 1200,
                    "displaced": 3000,
                    "status": "partly_ruined",
                    "geometry": to_store(Point(LON + 0.02, LAT + 0.02)),
                }
            ],
            user="setup",
        )[0]
        for org_name, dx in (("ANAMA", 0.0), ("HALO", 0.05)):
            poly = Polygon(square_wgs84(LON + dx, LAT)["coordinates"][0])
            world.ids[f"hazard_{org_name}"] = store.insert(
                "hazards",
                [
                    {
                        "name": f"{org_name} field",
                        "type": "SHA",
                        "contamination": "AP",
                        "status": "open",
                        "recorded_on": dt.date(2023, 4, 1),
                        "geometry": to_store(MultiPolygon([poly])),
                    }
                ],
                user="setup",
                organisation_id=world.orgs[org_name],
            )[0]
        world.ids["accident"] = store.insert(
            "accidents",
            [
                {
                    "occurred_on": dt.date(2023, 6, 2),
                    "activity": "farming",
                    "device_category": "AP",
                    "hazard_id": world.ids["hazard_ANAMA"],
                    "geometry": to_store(Point(LON + 0.005, LAT + 0.005)),
                }
            ],
            user="setup",
            organisation_id=anama,
        )[0]
        world.ids["victim"] = store.insert(
            "victims",
            [
                {
                    "accident_id": world.ids["accident"],
                    "outcome": "injured",
                    "group": "civilian",
                    "sex": "male",
                    "age": 34,
                    "name": VICTIM_NAME,
                    "contact": VICTIM_CONTACT,
                }
            ],
            user="setup",
            organisation_id=anama,
        )[0]
        world.ids["eore"] = store.insert(
            "eore_sessions",
            [
                {
                    "held_on": dt.date(2023, 7, 1),
                    "method": "session",
                    "men": 10,
                    "women": 12,
                    "boys": 5,
                    "girls": 7,
                    "geometry": to_store(Point(LON + 0.02, LAT + 0.021)),
                }
            ],
            user="setup",
            organisation_id=anama,
        )[0]
    return world


if not hasattr(_shared_stores, "store_url"):
    # Until the store's shared fixture lands: a fresh GeoPackage store.
    @pytest.fixture
    def store_url(tmp_path: Path) -> str:
        url = str(tmp_path / "api.gpkg")
        with open_store(url) as store:
            store.init()
        return url


@pytest.fixture
def api_db_url(store_url: str) -> str:
    """A fresh, initialised store of each engine."""
    return store_url


@pytest.fixture
def world(api_db_url: str) -> World:
    return populate(api_db_url)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    app = create_app(world.url, secret="test-secret-not-for-production")
    with TestClient(app) as c:
        yield c


def login(client: TestClient, name: str, password: str = PASSWORD) -> dict[str, str]:
    r = client.post("/api/auth/token", data={"username": name, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def bearer(client: TestClient, name: str) -> dict[str, str]:
    """A header with a token the app signs for user ``name``, as log-in would give.

    Log-in itself is tested in test_auth; here tokens are minted directly to
    spare an argon2 verification per user and test.
    """
    state = client.app.state.minemap  # type: ignore[attr-defined]
    row = state.store().get_user(name)
    org = row.get("organisation_id")
    user = Principal(name, str(row["role"]), None if org is None else int(org))
    return {"Authorization": f"Bearer {state.issuer.issue(user)}"}


@pytest.fixture
def headers(client: TestClient) -> dict[str | None, dict[str, str]]:
    """Authorization headers per role (``None``: no token), and for the second editor."""
    out: dict[str | None, dict[str, str]] = {None: {}}
    for role, name in ROLES_AND_USERS.items():
        out[role] = bearer(client, name)
    out["other_editor"] = bearer(client, OTHER_EDITOR)
    return out
