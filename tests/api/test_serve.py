"""'minemap serve' options, and the optional PMTiles basemap."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from minemap.api import create_app
from minemap.cli.main import main
from tests.api.conftest import World


def test_serve_refuses_an_unknown_store(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["serve", "--db", str(tmp_path / "records.txt")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ")
    assert "records.txt" in err


def test_serve_map_folder_must_exist(tmp_path: Path) -> None:
    assert main(["serve", "--db", str(tmp_path / "s.gpkg"), "--map", str(tmp_path / "nope")]) == 2


def test_pmtiles_basemap_is_served_in_ranges(world: World, tmp_path: Path) -> None:
    basemap = tmp_path / "basemap.pmtiles"
    basemap.write_bytes(b"PMTiles" + bytes(range(256)) * 40)
    with TestClient(create_app(world.url, basemap_pmtiles=basemap, secret="b" * 40)) as c:
        assert c.get("/api/config").json()["basemap_pmtiles"] == "/basemap.pmtiles"
        part = c.get("/basemap.pmtiles", headers={"Range": "bytes=0-6"})
        assert part.status_code == 206
        assert part.content == b"PMTiles"
    with TestClient(create_app(world.url, secret="b" * 40)) as c:
        assert c.get("/api/config").json()["basemap_pmtiles"] is None
        assert c.get("/basemap.pmtiles").status_code == 404


def test_api_reference_is_served_without_the_internet(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.text
    assert "/static/vendor/swagger-ui-bundle.js" in html
    assert "/openapi.json" in html
    # nothing fetched from another host (the only absolute URL is the SVG namespace)
    urls = set(re.findall(r"https?://[^\s\"')]+", html))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls
    # put there by `make web-assets`, which `make test` runs first
    assert client.get("/static/vendor/swagger-ui-bundle.js").status_code == 200
    assert client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").json()["info"]["title"] == "minemap"
