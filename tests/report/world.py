"""A small hand-made world whose national figures are known by hand.

Frames are in the store's shape (``id``, ``ref``, fields, links as ``<x>_id``)
so the same world can be given to :class:`minemap.report.summary.Records`
directly or inserted into a real store. Coordinates are UTM 38N metres
around (600 000, 4 400 000), in the Karabakh lowlands.

Expected figures (period: all records):

* released: cancelled 200,000 m² (2024-03, ANAMA, district West), cleared
  10,000 m² (2024-03, HALO through its team, West), reduced 50,000 m²
  (2024-04, ANAMA, East);
* devices: AP 2 destroyed in place, UXO 1 removed, AT 1 pending;
* hazards open now: HA-1 (1,000,000 m² left after 200,000 were cancelled
  beside it), HA-2 (250,000 m² left after 50,000 reduced); HA-3 closed on
  2024-03-20 (the store keeps each hazard's remaining polygon);
* accidents: AD-1..AD-3 in 2023 inside HA-1 (a hotspot), AD-4 in 2024 near
  HA-2 (1,486.6 m away), AD-5 in 2021 inside HA-1 (alone in time);
* victims: 3 killed, 4 injured; 5 civilian, 1 military, 1 deminer;
* EORE: 2 sessions, 75 beneficiaries; settlement Aghdam-1 had accidents and
  no EORE in the 12 months to 2024-04-30.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
from shapely.geometry import MultiPolygon, Point, box

from minemap.store.base import Store

X0, Y0 = 600_000.0, 4_400_000.0
CRS = "EPSG:32638"


def _box(x1: float, y1: float, x2: float, y2: float) -> MultiPolygon:
    return MultiPolygon([box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)])


def _pt(x: float, y: float) -> Point:
    return Point(X0 + x, Y0 + y)


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _geo(rows: list[dict[str, object]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=CRS)


def small_world() -> dict[str, pd.DataFrame]:
    """The frames of the world described in the module docstring."""
    organisations = pd.DataFrame(
        [
            {"id": 1, "ref": "ORG-1", "name": "ANAMA", "type": "national_authority"},
            {"id": 2, "ref": "ORG-2", "name": "HALO", "type": "ngo"},
        ]
    )
    districts = _geo(
        [
            {"id": 1, "ref": "DI-1", "name": "West", "geometry": _box(0, 0, 10_000, 10_000)},
            {"id": 2, "ref": "DI-2", "name": "East", "geometry": _box(10_000, 0, 20_000, 10_000)},
        ]
    )
    settlements = _geo(
        [
            {"id": 1, "ref": "SE-1", "name": "Aghdam-1", "district_id": 1, "population": 0,
             "displaced": 3000, "status": "ruined", "geometry": _pt(2_000, 2_000)},
            {"id": 2, "ref": "SE-2", "name": "Barda-2", "district_id": 2, "population": 1200,
             "displaced": 0, "status": "inhabited", "geometry": _pt(15_000, 5_000)},
            {"id": 3, "ref": "SE-3", "name": "Khojavand-3", "district_id": 1, "population": 50,
             "displaced": 400, "status": "partly_ruined", "geometry": _pt(8_000, 8_000)},
        ]
    )  # fmt: skip
    teams = pd.DataFrame(
        [
            {"id": 1, "ref": "TM-1", "name": "Manual 1", "type": "manual", "staff_male": 10,
             "staff_female": 2, "organisation_id": 1},
            {"id": 2, "ref": "TM-2", "name": "Dogs 1", "type": "dog", "staff_male": 4,
             "staff_female": 0, "organisation_id": 2},
            {"id": 3, "ref": "TM-3", "name": "Drone 1", "type": "drone", "staff_male": 2,
             "staff_female": 1, "organisation_id": 1},
        ]
    )  # fmt: skip
    assets = pd.DataFrame(
        [
            {"id": 1, "ref": "AS-1", "name": "Manual team 1", "type": "manual", "team_id": 1,
             "deminers": 12, "status": "active", "commissioned_on": _d("2021-01-01")},
            {"id": 2, "ref": "AS-2", "name": "MDD 1", "type": "dog", "team_id": 2,
             "deminers": 2, "status": "active", "commissioned_on": _d("2021-06-01")},
            {"id": 3, "ref": "AS-3", "name": "Flail 1", "type": "machine", "team_id": 2,
             "deminers": 0, "status": "retired", "commissioned_on": _d("2021-06-01")},
            {"id": 4, "ref": "AS-4", "name": "Drone 1", "type": "drone", "team_id": 3,
             "deminers": 0, "status": "active", "commissioned_on": _d("2025-01-01")},
        ]
    )  # fmt: skip
    hazards = _geo(
        [
            {"id": 1, "ref": "HA-1", "type": "SHA", "contamination": "AP", "status": "open",
             "area_m2": 1_000_000.0, "district_id": 1, "settlement_id": 1,
             "land_use": "farmland", "recorded_on": _d("2021-05-01"), "evidence": "accident",
             "geometry": _box(1_000, 1_200, 2_000, 2_200)},
            {"id": 2, "ref": "HA-2", "type": "CHA", "contamination": "AT", "status": "open",
             "area_m2": 250_000.0, "district_id": 2, "settlement_id": 2, "land_use": "road",
             "recorded_on": _d("2022-01-10"), "evidence": "observed",
             "geometry": _box(14_000, 4_100, 14_500, 4_600)},
            {"id": 3, "ref": "HA-3", "type": "SHA", "contamination": "UXO", "status": "closed",
             "area_m2": 10_000.0, "district_id": None, "settlement_id": 3,
             "land_use": "pasture", "recorded_on": _d("2022-03-01"), "evidence": "verbal",
             "geometry": _box(5_000, 5_000, 5_100, 5_100)},
        ]
    )  # fmt: skip
    activities = _geo(
        [
            {"id": 1, "ref": "AC-1", "type": "NTS", "hazard_id": 1, "team_id": 3,
             "organisation_id": 1, "start_date": _d("2024-03-01"), "end_date": _d("2024-03-10"),
             "status": "completed", "geometry": _box(1_000, 1_000, 2_000, 2_000)},
            {"id": 2, "ref": "AC-2", "type": "clearance", "hazard_id": 3, "team_id": 2,
             "organisation_id": None, "start_date": _d("2024-02-15"),
             "end_date": _d("2024-03-20"), "status": "completed",
             "geometry": _box(5_000, 5_000, 5_100, 5_100)},
            {"id": 3, "ref": "AC-3", "type": "TS", "hazard_id": 2, "team_id": 1,
             "organisation_id": 1, "start_date": _d("2024-04-01"), "end_date": _d("2024-04-05"),
             "status": "completed", "geometry": _box(14_000, 4_000, 14_500, 4_500)},
        ]
    )  # fmt: skip
    releases = _geo(
        [
            {"id": 1, "ref": "RL-1", "activity_id": 1, "method": "cancelled",
             "released_on": _d("2024-03-10"), "area_m2": 200_000.0,
             "geometry": _box(1_000, 1_000, 2_000, 1_200)},
            {"id": 2, "ref": "RL-2", "activity_id": 2, "method": "cleared",
             "released_on": _d("2024-03-20"), "area_m2": 10_000.0,
             "geometry": _box(5_000, 5_000, 5_100, 5_100)},
            {"id": 3, "ref": "RL-3", "activity_id": 3, "method": "reduced",
             "released_on": _d("2024-04-05"), "area_m2": None,
             "geometry": _box(14_000, 4_000, 14_500, 4_100)},
        ]
    )  # fmt: skip
    finds = _geo(
        [
            {"id": 1, "ref": "FD-1", "activity_id": 2, "hazard_id": 3, "category": "AP",
             "model": "PMN-2", "disposal": "destroyed_in_situ", "found_on": _d("2024-03-15"),
             "quantity": 2, "geometry": _pt(5_050, 5_050)},
            {"id": 2, "ref": "FD-2", "activity_id": 2, "hazard_id": 3, "category": "UXO",
             "model": "122 mm rocket", "disposal": "removed", "found_on": _d("2024-03-16"),
             "quantity": None, "geometry": _pt(5_060, 5_050)},
            {"id": 3, "ref": "FD-3", "activity_id": 3, "hazard_id": 2, "category": "AT",
             "model": "TM-62M", "disposal": "pending", "found_on": _d("2024-04-05"),
             "quantity": 1, "geometry": _pt(14_200, 4_300)},
        ]
    )  # fmt: skip
    accidents = _geo(
        [
            {"id": 1, "ref": "AD-1", "occurred_on": _d("2023-05-01"), "activity": "farming",
             "device_category": "AP", "hazard_id": 1, "settlement_id": 1, "district_id": 1,
             "geometry": _pt(1_500, 1_500)},
            {"id": 2, "ref": "AD-2", "occurred_on": _d("2023-07-01"), "activity": "herding",
             "device_category": "AP", "hazard_id": None, "settlement_id": None,
             "district_id": None, "geometry": _pt(1_600, 1_400)},
            {"id": 3, "ref": "AD-3", "occurred_on": _d("2023-09-01"), "activity": "farming",
             "device_category": "AP", "hazard_id": 2, "settlement_id": 1, "district_id": 1,
             "geometry": _pt(1_400, 1_700)},
            {"id": 4, "ref": "AD-4", "occurred_on": _d("2024-03-03"), "activity": "demining",
             "device_category": "AT", "hazard_id": None, "settlement_id": 2,
             "district_id": 2, "geometry": _pt(15_000, 6_000)},
            {"id": 5, "ref": "AD-5", "occurred_on": _d("2021-01-01"), "activity": "travel",
             "device_category": "AP", "hazard_id": 1, "settlement_id": 1, "district_id": 1,
             "geometry": _pt(1_550, 1_550)},
        ]
    )  # fmt: skip
    victims = pd.DataFrame(
        [
            {"id": 1, "ref": "VI-1", "accident_id": 1, "outcome": "killed", "sex": "male",
             "age": 35, "group": "civilian"},
            {"id": 2, "ref": "VI-2", "accident_id": 2, "outcome": "injured", "sex": "female",
             "age": 12, "group": "civilian"},
            {"id": 3, "ref": "VI-3", "accident_id": 3, "outcome": "killed", "sex": "male",
             "age": 40, "group": "civilian"},
            {"id": 4, "ref": "VI-4", "accident_id": 4, "outcome": "injured", "sex": "male",
             "age": 30, "group": "deminer"},
            {"id": 5, "ref": "VI-5", "accident_id": 4, "outcome": "injured", "sex": "male",
             "age": None, "group": "military"},
            {"id": 6, "ref": "VI-6", "accident_id": 5, "outcome": "killed", "sex": "female",
             "age": 70, "group": "civilian"},
            {"id": 7, "ref": "VI-7", "accident_id": 5, "outcome": "injured", "sex": "male",
             "age": 9, "group": "civilian"},
        ]
    )  # fmt: skip
    eore = _geo(
        [
            {"id": 1, "ref": "EO-1", "held_on": _d("2024-02-01"), "settlement_id": 2,
             "method": "session", "men": 10, "women": 12, "boys": 5, "girls": 6,
             "materials": 30, "materials_type": "brochure", "geometry": _pt(15_000, 5_000)},
            {"id": 2, "ref": "EO-2", "held_on": _d("2022-05-01"), "settlement_id": None,
             "method": "school", "men": 0, "women": 0, "boys": 20, "girls": 22,
             "materials": 40, "materials_type": "poster", "geometry": _pt(2_050, 2_010)},
        ]
    )  # fmt: skip
    return {
        "organisations": organisations,
        "districts": districts,
        "settlements": settlements,
        "teams": teams,
        "assets": assets,
        "hazards": hazards,
        "activities": activities,
        "releases": releases,
        "finds": finds,
        "accidents": accidents,
        "victims": victims,
        "eore_sessions": eore,
    }


def _with_refs(kind: str, frame: pd.DataFrame, world: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The frame with its links as ``<x>_ref`` (the store resolves them) and no ids."""
    from minemap.records.schema import SYSTEM_FIELDS, get_kind

    out = frame.copy()
    for f in (*get_kind(kind).links, *(sf for sf in SYSTEM_FIELDS if sf.type == "link")):
        if f.name not in out.columns:
            continue
        target = world[str(f.link)]
        refs = dict(zip(target["id"], target["ref"], strict=True))
        out[f.file_name] = [refs.get(int(i)) if pd.notna(i) else None for i in out[f.name]]
        out = out.drop(columns=f.name)
    return out.drop(columns="id")


def fill_store(store: Store) -> None:
    """Insert the small world into a real, initialised store (links by ref)."""
    from minemap.records.schema import INSERT_ORDER

    world = small_world()
    for kind in INSERT_ORDER:
        if kind in world:
            store.insert(kind, _with_refs(kind, world[kind], world), user="test")
