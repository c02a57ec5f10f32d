"""Plans, map files, national figures, dashboard series and downloads through the API."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point

from minemap.api import create_app
from minemap.report import summary as national
from minemap.store import open_store
from tests.api.conftest import VICTIM_NAME, World

Headers = dict[str | None, dict[str, str]]


@pytest.fixture
def plan_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "plan"
    folder.mkdir()
    forecast = {
        "p10": "2029-01-01",
        "p50": "2030-06-01",
        "p90": "2032-03-01",
        "monthly": [
            {"month": "2024-01", "p10": 1.0e6, "p50": 2.0e6, "p90": 3.0e6},
            {"month": "2024-02", "p10": 2.0e6, "p50": 4.0e6, "p90": 6.0e6},
        ],
    }
    (folder / "forecast.json").write_text(json.dumps(forecast))
    pd.DataFrame(
        {"asset_id": [1], "hazard_id": [2], "start": ["2025-01-01"], "end": ["2025-03-01"]}
    ).to_csv(folder / "schedule.csv", index=False)
    gpd.GeoDataFrame(
        {"hazard_ref": ["HA-000001"], "priority": [1], "planned_start": ["2025-01-01"]},
        geometry=[Point(600_000, 4_430_000).buffer(200)],
        crs="EPSG:32638",
    ).to_file(folder / "schedule.gpkg", layer="hazards")
    (folder / "secret.txt").write_text("not served")
    return folder


@pytest.fixture
def plan_client(world: World, plan_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(world.url, plan_dir=plan_dir, secret="z" * 40)) as c:
        yield c


def test_plan_files_listed_and_served(plan_client: TestClient) -> None:
    files = {f["name"] for f in plan_client.get("/api/plan").json()["files"]}
    assert files == {"forecast.json", "schedule.csv", "schedule.gpkg"}
    forecast = plan_client.get("/api/plan/forecast.json").json()
    assert forecast["p50"] == "2030-06-01"
    rows = plan_client.get("/api/plan/schedule.csv").json()["rows"]
    assert rows[0]["hazard_id"] == 2
    layer = plan_client.get("/api/plan-layer").json()
    assert layer["features"][0]["properties"]["priority"] == 1
    lon, lat = layer["features"][0]["geometry"]["coordinates"][0][0]
    assert 45 < lon < 47
    assert 39 < lat < 41


@pytest.mark.parametrize(
    "name", ["secret.txt", "..%2Fplan%2Fforecast.json", "nothing.json", ".json"]
)
def test_plan_folder_serves_only_its_own_result_files(plan_client: TestClient, name: str) -> None:
    assert plan_client.get(f"/api/plan/{name}").status_code in (404, 422)


def test_no_plan_folder_is_404(client: TestClient) -> None:
    assert client.get("/api/plan").status_code == 404
    assert client.get("/api/plan-layer").status_code == 404
    assert client.get("/api/map").status_code == 404


def test_summary_is_the_report_summary(client: TestClient, world: World) -> None:
    got = client.get("/api/summary").json()
    with open_store(world.url) as store:
        want = national.national_summary(store).to_dict()
    assert got["victims_injured"] == want["victims_injured"] == 1
    assert got["eore_beneficiaries"] == want["eore_beneficiaries"] == 34
    assert got["hazards_remaining"] == want["hazards_remaining"] == 2
    assert VICTIM_NAME not in json.dumps(got)
    period = client.get("/api/summary?from=2024-01-01&to=2024-12-31").json()
    assert period["victims_injured"] == 0
    assert client.get("/api/summary?from=2024-01-01&to=2023-01-01").status_code == 422


def test_dashboard_series(plan_client: TestClient) -> None:
    d = plan_client.get("/api/dashboard").json()
    assert d["casualties_by_month"] == {"months": ["2023-06"], "groups": {"civilian": [1]}}
    eore = d["eore_by_month"]
    assert eore[0]["month"] == "2023-07"
    assert eore[0]["beneficiaries"] == 34
    assert d["progress"]["forecast"]["p50"] == "2030-06-01"
    assert d["figures"]["victims_injured"] == 1


def test_dashboard_follows_writes(client: TestClient, headers: Headers) -> None:
    before = client.get("/api/dashboard").json()["figures"]["eore_beneficiaries"]
    body = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [46.95, 40.0]},
        "properties": {"held_on": "2024-04-01", "method": "school", "boys": 20, "girls": 22},
    }
    assert (
        client.post("/api/eore_sessions", json=body, headers=headers["editor"]).status_code == 201
    )
    after = client.get("/api/dashboard").json()["figures"]["eore_beneficiaries"]
    assert after == before + 42


def test_dashboard_follows_writes_by_other_processes(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session recorded straight into the store (an import, QGIS) shows on the next read."""
    from minemap.api import cache
    from tests.api.conftest import LAT, LON, to_store

    monkeypatch.setattr(cache, "POSTGIS_SECONDS", 1e-6)
    before = client.get("/api/dashboard").json()["figures"]["eore_beneficiaries"]
    with open_store(world.url) as store:
        store.insert(
            "eore_sessions",
            [
                {
                    "held_on": "2024-05-02",
                    "method": "session",
                    "men": 5,
                    "women": 6,
                    "geometry": to_store(Point(LON + 0.01, LAT + 0.01)),
                }
            ],
            user="import",
        )
    assert client.get("/api/dashboard").json()["figures"]["eore_beneficiaries"] == before + 11


def test_a_warmed_app_prepares_its_dashboard_before_any_request(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    read = national.Records.from_store

    def counted(store: object) -> national.Records:
        reads.append(1)
        return read(store)  # type: ignore[arg-type]

    monkeypatch.setattr(national.Records, "from_store", staticmethod(counted))
    with TestClient(create_app(world.url, warm=True)):
        pass  # no request: start-up alone reads the records (shutdown waits for it)
    assert reads == [1]
    with TestClient(create_app(world.url)):
        pass
    assert reads == [1]  # an app that is not warmed reads nothing until asked


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "csv", "xlsx", "kml"])
def test_downloads_in_every_format(
    client: TestClient, headers: Headers, fmt: str, tmp_path: Path
) -> None:
    r = client.get(f"/api/export/hazards.{fmt}", headers=headers["viewer"])
    assert r.status_code == 200, r.text
    assert "attachment" in r.headers["content-disposition"]
    path = tmp_path / f"hazards.{fmt}"
    path.write_bytes(r.content)
    if fmt == "xlsx":
        assert zipfile.is_zipfile(io.BytesIO(r.content))
        frame = pd.read_excel(path)
    elif fmt == "csv":
        frame = pd.read_csv(path)
    else:
        frame = gpd.read_file(path, layer="hazards" if fmt == "gpkg" else None)
    assert len(frame) == 2


def test_download_of_unknown_kind_or_format(client: TestClient, headers: Headers) -> None:
    assert client.get("/api/export/nonsense.csv", headers=headers["viewer"]).status_code == 422
    assert client.get("/api/export/hazards.exe", headers=headers["viewer"]).status_code == 422
