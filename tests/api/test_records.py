"""Records through the API: GeoJSON round trips, validation, versions, workflow, audit."""

from __future__ import annotations

import json

import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape

from minemap.store import open_store
from tests.api.conftest import LAT, LON, World, square_wgs84

Headers = dict[str | None, dict[str, str]]


def new_hazard(**props: object) -> dict[str, object]:
    base = {"type": "SHA", "contamination": "AT", "status": "open", "recorded_on": "2024-03-05"}
    return {
        "type": "Feature",
        "geometry": square_wgs84(LON + 0.1, LAT + 0.1),
        "properties": {**base, **props},
    }


def test_create_read_change_delete_round_trip(
    client: TestClient, headers: Headers, world: World
) -> None:
    h = headers["editor"]
    r = client.post("/api/hazards", json=new_hazard(name="Road to Kəngərli"), headers=h)
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["content-type"].startswith("application/geo+json")
    assert r.headers["ETag"] == '"1"'
    props = created["properties"]
    assert props["name"] == "Road to Kəngərli"
    assert props["organisation_id"] == world.orgs["ANAMA"]  # the editor's organisation
    assert props["workflow"] == "draft"
    assert props["created_by"] == "eldar"
    # geometry comes back in WGS84, the same square
    back = shape(created["geometry"])
    sent = shape(square_wgs84(LON + 0.1, LAT + 0.1))
    assert back.symmetric_difference(sent).area < 1e-10
    assert 0.9e6 < props["area_m2"] < 1.0e6  # 0.01° x 0.01° at 40°N is about 0.95 km²

    rid = created["id"]
    got = client.get(f"/api/hazards/{rid}").json()
    assert got["properties"]["ref"] == props["ref"]

    r = client.patch(
        f"/api/hazards/{rid}",
        json={"properties": {"type": "CHA"}},
        headers={**h, "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["type"] == "CHA"
    assert r.json()["properties"]["version"] == 2

    r = client.delete(f"/api/hazards/{rid}", headers={**h, "If-Match": '"2"'})
    assert r.status_code == 204
    assert client.get(f"/api/hazards/{rid}").status_code == 404


def test_records_without_geometry_are_plain_objects(
    client: TestClient, headers: Headers, world: World
) -> None:
    r = client.post(
        "/api/victims",
        json={
            "accident_id": world.ids["accident"],
            "outcome": "killed",
            "group": "deminer",
            "sex": "female",
            "age": 29,
        },
        headers=headers["editor"],
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["outcome"] == "killed"
    assert "geometry" not in body
    listing = client.get("/api/victims").json()
    assert listing["total"] == 2
    assert {v["outcome"] for v in listing["items"]} == {"killed", "injured"}


def test_links_by_ref(client: TestClient, headers: Headers, world: World) -> None:
    with open_store(world.url) as store:
        hazard_ref = store.get("hazards", world.ids["hazard_ANAMA"])["ref"]
    body = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [LON + 0.003, LAT + 0.003]},
        "properties": {
            "category": "AP",
            "model": "PMN-2",
            "found_on": "2024-01-10",
            "hazard_ref": hazard_ref,
        },
    }
    r = client.post("/api/finds", json=body, headers=headers["editor"])
    assert r.status_code == 201, r.text
    assert r.json()["properties"]["hazard_id"] == world.ids["hazard_ANAMA"]


def test_bbox_reads_only_what_is_inside(client: TestClient) -> None:
    inside = client.get(f"/api/hazards?bbox={LON - 0.001},{LAT - 0.001},{LON + 0.02},{LAT + 0.02}")
    assert inside.status_code == 200
    names = [f["properties"]["name"] for f in inside.json()["features"]]
    assert names == ["ANAMA field"]
    everything = client.get("/api/hazards").json()
    assert len(everything["features"]) == 2
    far = client.get("/api/hazards?bbox=45.0,38.5,45.1,38.6").json()
    assert far["features"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (new_hazard(type="XHA"), "type"),
        (
            {
                "type": "Feature",
                "geometry": square_wgs84(LON, LAT),
                "properties": {"type": "SHA", "status": "open", "recorded_on": "2024-01-01"},
            },
            "contamination",
        ),
        (new_hazard(recorded_on="yesterday"), "recorded_on"),
        (new_hazard(area_m2=-5), "area_m2"),
        (new_hazard(colour="red"), "colour"),
        (
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [LON, LAT]},
                "properties": new_hazard()["properties"],
            },
            "geometry",
        ),
        (
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [[[LON, LAT], [LON, LAT]]]},
                "properties": new_hazard()["properties"],
            },
            "geometry",
        ),
        (
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": "nonsense"},
                "properties": new_hazard()["properties"],
            },
            "coordinates",
        ),
        (
            {
                "type": "Feature",
                "geometry": square_wgs84(LAT, LON + 60),
                "properties": new_hazard()["properties"],
            },
            "geometry",
        ),
        ({"type": "Feature", "properties": new_hazard()["properties"]}, "geometry"),
    ],
)
def test_invalid_records_are_422_naming_the_field(
    client: TestClient, headers: Headers, body: dict, field: str
) -> None:
    r = client.post("/api/hazards", json=body, headers=headers["editor"])
    assert r.status_code == 422, r.text
    answer = r.json()
    assert field in answer["message"]
    assert any(d.get("field") == field for d in answer["detail"]), answer


def test_malformed_json_is_422(client: TestClient, headers: Headers) -> None:
    h = {**headers["editor"], "Content-Type": "application/json"}
    r = client.post("/api/hazards", content=b'{"type": "Feature", "geometry": ', headers=h)
    assert r.status_code == 422
    assert r.json()["message"]


def test_huge_payload_is_413(world: World) -> None:
    from minemap.api import create_app

    app = create_app(world.url, secret="x" * 40, max_body_bytes=10_000)
    with TestClient(app) as c:
        ring = [[LON + i * 1e-5, LAT] for i in range(2000)] + [[LON, LAT + 0.01], [LON, LAT]]
        body = {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {},
        }
        r = c.post("/api/hazards", json=body)
        assert r.status_code == 413
        assert "too large" in r.json()["message"]
        # a body that does not declare its length is counted as it streams
        chunks = (b"x" * 4096 for _ in range(5))
        r = c.post("/api/hazards", content=chunks, headers={"Content-Type": "application/json"})
        assert r.status_code == 413


def test_stale_version_is_409_and_missing_version_428(
    client: TestClient, headers: Headers, world: World
) -> None:
    h = headers["editor"]
    rid = world.ids["hazard_ANAMA"]
    assert (
        client.patch(
            f"/api/hazards/{rid}", json={"properties": {"name": "x"}}, headers=h
        ).status_code
        == 428
    )
    first = client.patch(
        f"/api/hazards/{rid}", json={"properties": {"name": "a"}, "version": 1}, headers=h
    )
    assert first.status_code == 200
    second = client.patch(
        f"/api/hazards/{rid}", json={"properties": {"name": "b"}, "version": 1}, headers=h
    )
    assert second.status_code == 409
    assert "version" in second.json()["message"]
    assert client.get(f"/api/hazards/{rid}").json()["properties"]["name"] == "a"
    bad = client.patch(
        f"/api/hazards/{rid}", json={"properties": {"name": "c"}}, headers={**h, "If-Match": "abc"}
    )
    assert bad.status_code == 422
    assert client.delete(f"/api/hazards/{rid}?version=1", headers=h).status_code == 409


def test_workflow_submit_then_approve(client: TestClient, headers: Headers, world: World) -> None:
    rid = world.ids["hazard_ANAMA"]
    url = f"/api/hazards/{rid}/workflow"
    assert (
        client.post(
            url, json={"state": "approved", "version": 1}, headers=headers["editor"]
        ).status_code
        == 403
    )
    r = client.post(url, json={"state": "submitted", "version": 1}, headers=headers["editor"])
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["workflow"] == "submitted"
    assert (
        client.post(
            url, json={"state": "approved", "version": 2}, headers=headers["viewer"]
        ).status_code
        == 403
    )
    r = client.post(url, json={"state": "approved", "version": 2}, headers=headers["approver"])
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["workflow"] == "approved"
    approved = client.get("/api/hazards?workflow=approved").json()["features"]
    assert [f["id"] for f in approved] == [rid]


def test_every_write_is_audited(client: TestClient, headers: Headers, world: World) -> None:
    r = client.post("/api/hazards", json=new_hazard(), headers=headers["other_editor"])
    rid = r.json()["id"]
    client.patch(
        f"/api/hazards/{rid}",
        json={"properties": {"status": "closed"}, "version": 1},
        headers=headers["other_editor"],
    )
    entries = client.get(
        f"/api/audit?kind=hazards&record_id={rid}", headers=headers["analyst"]
    ).json()["entries"]
    assert len(entries) == 2
    assert {e["user"] for e in entries} == {"emma"}
    by_user = client.get("/api/audit?by=emma&kind=hazards", headers=headers["admin"]).json()[
        "entries"
    ]
    assert len(by_user) == 2
    future = client.get("/api/audit?since=2999-01-01T00:00:00Z", headers=headers["admin"]).json()
    assert future["entries"] == []


def test_hazard_story(client: TestClient, world: World) -> None:
    rid = world.ids["hazard_ANAMA"]
    story = client.get(f"/api/hazards/{rid}/story").json()
    assert story["hazard"]["properties"]["name"] == "ANAMA field"
    assert len(story["history"]) >= 1
    assert [a["id"] for a in story["accidents"]] == [world.ids["accident"]]
    assert story["activities"]["type"] == "FeatureCollection"
    assert client.get("/api/hazards/999999/story").status_code == 404


def test_geojson_list_is_valid_geojson(client: TestClient) -> None:
    data = client.get("/api/hazards").content
    collection = json.loads(data)
    for f in collection["features"]:
        geom = shapely.from_geojson(json.dumps(f["geometry"]))
        assert geom.is_valid
        minx, miny, maxx, maxy = geom.bounds
        assert 44 < minx < maxx < 50
        assert 38 < miny < maxy < 42
