"""A real minemap server over a small imported scenario, and headless Chromium to drive it.

Once per session: the shared generated scenario is imported into a
GeoPackage store, a hazard map is built (at 100 m, to stay quick), a
schedule and a forecast are planned, two users are added, and
``minemap serve`` runs in its own process on a free loopback port. The
browser is Debian's chromium, driven by Playwright; without it the tests
skip, or fail under ``CI=true``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from minemap.api.security import hash_password
from minemap.cli.main import main
from minemap.store import open_store
from tests.fixtures.system import require

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
EDITOR, ADMIN, PASSWORD = "eldar", "adil", "correct-horse-9"
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "web"


@dataclass
class Served:
    base: str
    db: str
    folder: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(scenario_dir: Path, folder: Path) -> str:
    db = str(folder / "store.gpkg")
    plan_args = ["--db", db, "--map", str(folder / "map"), "--out", str(folder / "plan")]
    steps = [
        ["db", "init", "--db", db],
        ["import", "scenario", str(scenario_dir), "--db", db],
        ["hazard-map", "build", "--db", db, "--out", str(folder / "map"), "--cell", "100"],
        ["plan", "schedule", *plan_args],
        ["plan", "forecast", *plan_args],
    ]
    for args in steps:
        assert main(args) == 0, f"minemap {' '.join(args)} failed"
    with open_store(db) as store:
        org = int(store.read("organisations")["id"].iloc[0])
        store.add_user(
            EDITOR, role="editor", password_hash=hash_password(PASSWORD), organisation_id=org
        )
        store.add_user(
            ADMIN, role="admin", password_hash=hash_password(PASSWORD), organisation_id=None
        )
    return db


@pytest.fixture(scope="session")
def served(scenario_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    require(os.path.exists(CHROMIUM), "Debian chromium")
    folder = tmp_path_factory.mktemp("web")
    db = _prepare(scenario_dir, folder)
    port = _free_port()
    log = (folder / "serve.log").open("w")
    command = [
        sys.executable, "-m", "minemap.cli.main", "serve", "--db", db,
        "--map", str(folder / "map"), "--plan", str(folder / "plan"), "--port", str(port),
    ]  # fmt: skip
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"minemap serve did not start: {(folder / 'serve.log').read_text()}")
            time.sleep(0.5)
        yield Served(base, db, folder)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="session")
def browser(served: Served) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, served: Served) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
    # the page must work offline: any request leaving the server is refused and recorded
    outside: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(served.base):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(120_000)
    yield page
    context.close()
    assert not outside, f"the page reached outside the server: {outside[:5]}"
    assert not errors, f"script errors on the page: {errors[:5]}"


def screenshot(page: Any, name: str) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
