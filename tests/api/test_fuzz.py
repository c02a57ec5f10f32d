"""Schemathesis against the OpenAPI document: no request the schema allows gives a 5xx.

Each operation is fuzzed twice, as the public and as an admin (whose writes
reach the store's own validation), on each store engine. The store is made
once per module and engine, since fuzzing writes whatever it likes into it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from minemap.api import create_app
from minemap.api.security import Principal
from minemap.store import open_store
from tests.api.conftest import populate

SECRET = "fuzz-secret-" + "f" * 32


@pytest.fixture(scope="module", params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def fuzz_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FastAPI]:
    if request.param == "gpkg":
        url = str(tmp_path_factory.mktemp("fuzz") / "fuzz.gpkg")
        with open_store(url) as store:
            store.init(crs="EPSG:32638")
        drop = None
    else:
        server = request.getfixturevalue("postgis_server")
        name = f"fuzz_{uuid.uuid4().hex[:10]}"
        server.initialised_database(name)
        url = server.url(name)
        drop = (server, name)
    populate(url)
    app = create_app(url, secret=SECRET)
    yield app
    app.state.minemap.close()
    if drop is not None:
        drop[0].drop_database(drop[1])


@pytest.fixture(scope="module")
def admin_header(fuzz_app: FastAPI) -> dict[str, str]:
    token = fuzz_app.state.minemap.issuer.issue(Principal("adil", "admin", None))
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors(
    fuzz_app: FastAPI, admin_header: dict[str, str], mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=4,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            for headers in ({}, admin_header):
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} {case.query or ''} "
                        f"-> {response.status_code}: {response.text[:200]}"
                    )

        try:
            run()
        except Unsatisfiable:
            # an operation without parameters has no invalid form to send
            assert mode is GenerationMode.NEGATIVE
    assert operations > 100
    assert not failures, "\n".join(failures[:20])
