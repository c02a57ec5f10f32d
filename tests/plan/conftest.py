"""Fixtures of the planner: a small synthetic store and hazard-map folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from minemap.plan.catalogue import load_catalogue
from minemap.plan.inputs import PlanContext
from minemap.plan.synthetic import synthetic_context, synthetic_records, write_rasters

START = dt.date(2026, 1, 1)


@pytest.fixture(scope="session")
def small_context(tmp_path_factory: pytest.TempPathFactory) -> PlanContext:
    folder = tmp_path_factory.mktemp("plan-small")
    return synthetic_context(40, 8, folder, seed=3, start=START, catalogue=load_catalogue())


@pytest.fixture(scope="session")
def plan_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A GeoPackage store with synthetic records, and a map folder with risk.tif."""
    from minemap.store import open_store

    folder = tmp_path_factory.mktemp("plan-store")
    side = 20_000.0
    write_rasters(folder / "map", side * 4 / 3, side, seed=5)
    rec = synthetic_records(30, 8, seed=5, width_m=side * 4 / 3, height_m=side)
    url = str(folder / "records.gpkg")
    with open_store(url) as store:
        store.init()
        for kind in ("settlements", "assets", "hazards", "accidents"):
            frame = rec[kind].drop(columns=["id"])
            if kind == "hazards":
                frame = frame.drop(columns=["settlement_id"])
            if kind == "accidents":
                frame = frame.drop(columns=["hazard_id"])
            store.insert(kind, frame, user="test")
    return url, folder / "map"
