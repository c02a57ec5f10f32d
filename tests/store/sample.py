"""One record of every kind, linked as a real authority's records are (by ref)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import shapely

from minemap.records.schema import INSERT_ORDER
from minemap.store import Store

X0, Y0 = 600_000.0, 4_400_000.0  # UTM 38N, in Karabakh (about 46.2 E, 39.7 N)


def box(dx: float, dy: float, size: float = 500.0) -> shapely.MultiPolygon:
    return shapely.MultiPolygon([shapely.box(X0 + dx, Y0 + dy, X0 + dx + size, Y0 + dy + size)])


def point(dx: float, dy: float) -> shapely.Point:
    return shapely.Point(X0 + dx, Y0 + dy)


def line(dx: float, dy: float) -> shapely.MultiLineString:
    return shapely.MultiLineString([[(X0 + dx, Y0 + dy), (X0 + dx + 800, Y0 + dy + 300)]])


SAMPLE: dict[str, dict[str, Any]] = {
    "organisations": {
        "ref": "ORG-A",
        "name": "ANAMA",
        "type": "national_authority",
        "country": "AZ",
    },
    "region": {"ref": "RG-1", "name": "Karabakh", "geometry": box(-5000, -5000, 20000)},
    "districts": {"ref": "DI-1", "name": "Fuzuli", "geometry": box(-1000, -1000, 8000)},
    "settlements": {
        "ref": "SE-1",
        "name": "Horadiz",
        "district_ref": "DI-1",
        "population": 120,
        "displaced": 2400,
        "status": "partly_ruined",
        "planned_return_year": 2027,
        "geometry": point(3000, 3000),
    },
    "teams": {
        "ref": "TM-1",
        "name": "Manual team 1",
        "type": "manual",
        "staff_male": 8,
        "staff_female": 4,
        "base_settlement_ref": "SE-1",
    },
    "assets": {
        "ref": "AS-1",
        "name": "Flail 1",
        "type": "machine",
        "team_ref": "TM-1",
        "model": "MV-10",
        "deminers": 2,
        "status": "active",
        "commissioned_on": dt.date(2021, 3, 1),
        "productivity_m2_day": 15000.0,
    },
    "front_line": {
        "ref": "FL-1",
        "name": "1994 line",
        "period": "1994-2020",
        "geometry": line(0, 0),
    },
    "positions": {
        "ref": "PO-1",
        "side": "west",
        "kind": "trench",
        "facing_deg": 90.0,
        "period": "1994-2020",
        "geometry": point(100, 100),
    },
    "roads": {"ref": "RD-1", "name": "M6", "class": "main", "geometry": line(200, 0)},
    "rivers": {"ref": "RV-1", "name": "Araz", "order": 3, "geometry": line(0, 900)},
    "battle_areas": {
        "ref": "BA-1",
        "name": "Fuzuli",
        "year": 2020,
        "intensity": "high",
        "geometry": box(0, 0, 3000),
    },
    "advance_axes": {"ref": "AX-1", "name": "south", "year": 2020, "geometry": line(500, 500)},
    "hazards": {
        "ref": "HA-1",
        "name": "Field north of the road",
        "type": "SHA",
        "contamination": "AP",
        "evidence": "verbal",
        "status": "open",
        "district_ref": "DI-1",
        "settlement_ref": "SE-1",
        "land_use": "farmland",
        "recorded_on": dt.date(2021, 5, 4),
        "description": "Shepherds avoid it",
        "geometry": box(0, 0, 500),
    },
    "activities": {
        "ref": "AC-1",
        "type": "TS",
        "hazard_ref": "HA-1",
        "team_ref": "TM-1",
        "start_date": dt.date(2022, 4, 1),
        "end_date": dt.date(2022, 5, 15),
        "status": "completed",
        "depth_cm": 13.0,
        "qa_result": "passed",
        "area_cancelled_m2": 0.0,
        "area_reduced_m2": 62500.0,
        "area_cleared_m2": 0.0,
        "geometry": box(0, 0, 500),
    },
    "releases": {
        "ref": "RL-1",
        "activity_ref": "AC-1",
        "method": "reduced",
        "released_on": dt.date(2022, 5, 15),
        "geometry": box(0, 0, 250),
    },
    "finds": {
        "ref": "FD-1",
        "activity_ref": "AC-1",
        "hazard_ref": "HA-1",
        "category": "AP",
        "model": "PMN-2",
        "condition": "armed",
        "depth_cm": 5.0,
        "disposal": "destroyed_in_situ",
        "found_on": dt.date(2022, 4, 20),
        "quantity": 1,
        "geometry": point(300, 300),
    },
    "accidents": {
        "ref": "AD-1",
        "occurred_on": dt.date(2021, 8, 9),
        "activity": "herding",
        "device_category": "AP",
        "device_model": "PMN-2",
        "hazard_ref": "HA-1",
        "district_ref": "DI-1",
        "settlement_ref": "SE-1",
        "description": "Shepherd hurt while following sheep",
        "geometry": point(250, 260),
    },
    "victims": {
        "ref": "VI-1",
        "accident_ref": "AD-1",
        "outcome": "injured",
        "sex": "male",
        "age": 34,
        "group": "civilian",
        "injuries": "lower leg",
        "assistance": "prosthesis",
        "name": "Ali Aliyev",
        "contact": "+994 50 000 00 00",
    },
    "eore_sessions": {
        "ref": "EO-1",
        "held_on": dt.date(2022, 2, 2),
        "settlement_ref": "SE-1",
        "method": "school",
        "men": 0,
        "women": 2,
        "boys": 30,
        "girls": 28,
        "materials": 60,
        "materials_type": "brochure",
        "geometry": point(3000, 3000),
    },
    "minefield_records": {
        "ref": "MR-1",
        "landmark": "ruined mill",
        "bearing_type": "magnetic",
        "declination_deg": 6.5,
        "shape": "polygon",
        "mine_types": "PMN-2;TM-62M",
        "mine_count": 120,
        "laid_on": dt.date(1993, 6, 1),
        "laid_by": "unit 1",
        "received_on": dt.date(2023, 3, 1),
        "source": "handed over",
        "geometry": point(-200, -200),
    },
    "minefield_legs": {
        "ref": "ML-1",
        "record_ref": "MR-1",
        "seq": 1,
        "bearing_deg": 45.0,
        "distance_m": 120.0,
        "label": "TP1",
    },
}
assert set(SAMPLE) == set(INSERT_ORDER)


def fill(store: Store, user: str = "tester") -> dict[str, int]:
    """Insert the sample, kind by kind; returns kind -> new id."""
    ids = {}
    for kind in INSERT_ORDER:
        ids[kind] = store.insert(kind, [SAMPLE[kind]], user=user)[0]
    return ids


def hazard(dx: float = 0, dy: float = 0, size: float = 500, **fields: Any) -> dict[str, Any]:
    """A valid hazard record at an offset from the sample origin."""
    base: dict[str, Any] = {
        "type": "SHA",
        "contamination": "AP",
        "status": "open",
        "recorded_on": "2021-05-01",
        "geometry": box(dx, dy, size),
    }
    base.update(fields)
    return base
