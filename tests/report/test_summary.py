"""The national figures on a hand-made world whose answers are known."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from minemap.errors import ConfigError
from minemap.report import summary as s
from tests.report.world import X0, Y0, small_world


@pytest.fixture
def records() -> s.Records:
    return s.Records.from_frames(small_world())


def _row(table: pd.DataFrame, key: str, value: str) -> pd.Series:
    rows = table[table[key] == value]
    assert len(rows) == 1, f"{value!r} not once in {key}"
    return rows.iloc[0]


def test_period_month_and_year() -> None:
    month = s.Period.month("2024-02")
    assert month.start == dt.date(2024, 2, 1)
    assert month.end == dt.date(2024, 2, 29)
    assert s.Period.year(2023).end == dt.date(2023, 12, 31)
    assert month.to_date() == s.Period(None, dt.date(2024, 2, 29))
    assert s.Period.month("2024-04").months_back(12).start == dt.date(2023, 5, 1)


@pytest.mark.parametrize("text", ["2024-13", "May 2024", "2024"])
def test_bad_month_names_the_value(text: str) -> None:
    with pytest.raises(ConfigError, match="YYYY-MM"):
        s.Period.month(text)


def test_period_backwards_is_refused() -> None:
    with pytest.raises(ConfigError, match="after it ends"):
        s.Period(dt.date(2024, 2, 1), dt.date(2024, 1, 1))


def test_land_released_by_month_district_and_organisation(records: s.Records) -> None:
    by_month = s.released_by(records, by="month")
    march = _row(by_month, "month", "2024-03")
    assert march["cancelled"] == 200_000
    assert march["cleared"] == 10_000
    assert march["reduced"] == 0
    # RL-3 has no recorded area: its geometry's (500 m x 100 m) is used
    assert _row(by_month, "month", "2024-04")["reduced"] == pytest.approx(50_000)

    by_district = s.released_by(records, by="district")
    # HA-3 has no district: RL-2 is placed by where it lies (West)
    assert _row(by_district, "district", "West")["total"] == 210_000
    assert _row(by_district, "district", "East")["total"] == pytest.approx(50_000)

    by_org = s.released_by(records, by="organisation")
    # AC-2 has no organisation: its team's (HALO) is used
    assert _row(by_org, "organisation", "HALO")["cleared"] == 10_000
    assert _row(by_org, "organisation", "ANAMA")["total"] == pytest.approx(250_000)


def test_release_in_a_period_only(records: s.Records) -> None:
    april = s.releases(records, s.Period.month("2024-04"))
    assert list(april["ref"]) == ["RL-3"]
    assert s.releases(records, s.Period.month("2024-05")).empty


def test_devices_by_category_and_model(records: s.Records) -> None:
    table = s.devices_by_category(records)
    assert list(table["category"][:6]) == ["AP", "AT", "UXO", "AXO", "submunition", "IED"]
    ap, at, uxo = (_row(table, "category", c) for c in ("AP", "AT", "UXO"))
    assert (ap["found"], ap["destroyed"]) == (2, 2)
    assert (uxo["found"], uxo["destroyed"]) == (1, 1)  # removed to a demolition site
    assert (at["found"], at["destroyed"], at["pending"]) == (1, 0, 1)
    models = s.devices_by_model(records)
    assert models.iloc[0]["model"] == "PMN-2"
    assert int(models["found"].sum()) == 4


def test_hazards_remaining_now_and_at_a_date(records: s.Records) -> None:
    now = s.hazards_remaining(records).set_index("ref")
    assert sorted(now.index) == ["HA-1", "HA-2"]
    assert now.loc["HA-1", "remaining_m2"] == 1_000_000
    assert now.loc["HA-2", "remaining_m2"] == 250_000
    # before HA-3 was cleared (2024-03-20) it was still there, and before the
    # cancellation of 2024-03-10 HA-1 was 200,000 m² larger
    before = s.hazards_remaining(records, dt.date(2024, 2, 28)).set_index("ref")
    assert sorted(before.index) == ["HA-1", "HA-2", "HA-3"]
    assert before.loc["HA-1", "remaining_m2"] == 1_200_000
    assert before.loc["HA-3", "remaining_m2"] == 10_000
    assert before.loc["HA-2", "remaining_m2"] == pytest.approx(300_000)
    assert before.loc["HA-3", "district"] == "West"
    # before HA-2 was recorded
    assert sorted(s.hazards_remaining(records, dt.date(2021, 12, 31))["ref"]) == ["HA-1"]
    table = s.contamination_table(records)
    assert set(zip(table["type"], table["contamination"], strict=True)) == {
        ("SHA", "AP"),
        ("CHA", "AT"),
    }


def test_victims_by_group_person_activity(records: s.Records) -> None:
    group = s.victims_by(records, by="group").set_index("group")
    assert list(group.index) == ["civilian", "military", "deminer"]
    assert (group.loc["civilian", "killed"], group.loc["civilian", "injured"]) == (3, 2)
    assert group.loc["deminer", "injured"] == 1
    person = s.victims_by(records, by="person").set_index("person")
    assert person.loc["girl", "injured"] == 1
    assert person.loc["boy", "injured"] == 1
    assert person.loc["man", "total"] == 3
    assert person.loc["unknown", "total"] == 1  # the soldier of unknown age
    activity = s.victims_by(records, by="activity").set_index("activity")
    assert activity.loc["farming", "killed"] == 2
    assert activity.loc["demining", "injured"] == 2


def test_casualty_trend(records: s.Records) -> None:
    trend = s.casualty_trend(records).set_index("year")
    assert list(trend.index) == [2021, 2022, 2023, 2024]
    assert trend.loc[2022, "victims"] == 0
    assert trend.loc[2023, "victims"] == 3
    assert trend.loc[2024, "change_pct"] == pytest.approx(-100 / 3)
    assert pd.isna(trend.loc[2023, "change_pct"])  # after a year without victims


def test_hotspots_cluster_in_space_and_time(records: s.Records) -> None:
    spots = s.accident_hotspots(records, eps_m=1000, eps_days=365, min_accidents=3)
    labels = dict(zip(spots.accidents["ref"], spots.accidents["cluster"], strict=True))
    assert labels["AD-1"] == labels["AD-2"] == labels["AD-3"] == 1
    # AD-5 lies in the same field but two years earlier; AD-4 is far away
    assert labels["AD-5"] == -1
    assert labels["AD-4"] == -1
    cluster = spots.clusters.iloc[0]
    assert (cluster["accidents"], cluster["victims"], cluster["killed"]) == (3, 3, 2)
    assert cluster["settlement"] == "Aghdam-1"
    assert cluster["first"] == pd.Timestamp("2023-05-01")


def test_hotspots_hand_made_points() -> None:
    """Two bursts at one place years apart are two hotspots; a spread is none."""
    world = small_world()
    rows = []
    bursts = [(0, "2021-03-0"), (0, "2024-06-0"), (30_000, None)]
    n = 0
    for x, month in bursts:
        for k in range(4):
            n += 1
            when = f"{month}{k + 1}" if month else f"2022-0{k + 1}-15"
            dx = 50.0 * k if month else 8_000.0 * k  # the third group is spread out
            rows.append(
                {
                    "id": n,
                    "ref": f"AD-{n}",
                    "occurred_on": dt.date.fromisoformat(when),
                    "geometry": s.gpd.points_from_xy([X0 + x + dx], [Y0])[0],
                }
            )
    world["accidents"] = s.gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:32638")
    world["victims"] = world["victims"].iloc[0:0]
    spots = s.accident_hotspots(s.Records.from_frames(world), eps_m=500, eps_days=180)
    assert sorted(spots.clusters["cluster"]) == [1, 2]
    labels = list(spots.accidents.sort_values("id")["cluster"])
    assert labels == [1] * 4 + [2] * 4 + [-1] * 4


def test_hotspots_refuse_bad_radii(records: s.Records) -> None:
    with pytest.raises(ConfigError):
        s.accident_hotspots(records, eps_m=0)


def test_accidents_linked_to_the_hazard_they_are_in_or_the_nearest(
    records: s.Records,
) -> None:
    links = s.link_accidents(records).set_index("ref")
    for ref in ("AD-1", "AD-2", "AD-3", "AD-5"):
        assert links.loc[ref, "hazard_ref"] == "HA-1"
        assert links.loc[ref, "inside"]
        assert links.loc[ref, "distance_m"] == 0
    assert links.loc["AD-4", "hazard_ref"] == "HA-2"
    assert not links.loc["AD-4", "inside"]
    assert links.loc["AD-4", "distance_m"] == pytest.approx((500**2 + 1400**2) ** 0.5)
    # AD-3 was typed as HA-2 but happened inside HA-1
    assert not links.loc["AD-3", "agrees"]
    assert links.loc["AD-1", "agrees"]
    assert links.loc["AD-2", "agrees"]  # nothing recorded, nothing to disagree with


def test_settlements_with_accidents_and_no_recent_eore(records: s.Records) -> None:
    table = s.settlements_without_eore(records, dt.date(2024, 4, 30))
    assert list(table["settlement"]) == ["Aghdam-1"]
    row = table.iloc[0]
    # AD-2 has no settlement recorded: it counts for the nearest, Aghdam-1
    assert row["accidents"] == 4
    assert row["district"] == "West"
    # EO-2 (2022) has no settlement either: placed at the nearest, Aghdam-1
    assert row["last_eore"] == pd.Timestamp("2022-05-01")
    # a year earlier Barda-2 had had no accident yet
    assert list(s.settlements_without_eore(records, dt.date(2022, 6, 1))["settlement"]) == []


def test_eore_and_staff(records: s.Records) -> None:
    eore = s.eore_by(records, by="method").set_index("method")
    assert eore.loc["session", "beneficiaries"] == 33
    assert eore.loc["school", "girls"] == 22
    staff = s.teams_and_staff(records, dt.date(2024, 12, 31)).set_index("type")
    assert staff.loc["manual", "staff_female"] == 2
    assert staff.loc["dog", "assets"] == 1  # the retired flail is not counted
    assert staff.loc["drone", "assets"] == 0  # commissioned in 2025


def test_national_summary_figures(records: s.Records) -> None:
    summary = s.national_summary(records)
    f = summary.figures
    assert f["victims_killed"] == 3
    assert f["victims_injured"] == 4
    assert (f["victims_civilian"], f["victims_military"], f["victims_deminer"]) == (5, 1, 1)
    assert f["victims_child"] == 2
    assert f["area_cancelled_m2"] == 200_000
    assert f["area_cleared_m2"] == 10_000
    assert f["area_reduced_m2"] == pytest.approx(50_000)
    assert f["eore_beneficiaries"] == 75
    assert f["devices_found"] == 4
    assert f["devices_destroyed"] == 3
    assert f["hazards_remaining"] == 2
    assert f["last_month"] == "2024-04"
    assert f["deminers_female"] == 2  # the drone team's woman is not a deminer
    assert f["staff_female"] == 3
    assert f["accidents_inside_hazard"] == 4


def test_summary_of_a_month(records: s.Records) -> None:
    march = s.national_summary(records, s.Period.month("2024-03")).figures
    assert march["area_released_m2"] == 210_000
    assert march["victims_injured"] == 2
    assert march["victims_killed"] == 0
    assert march["last_month"] == "2024-03"
    assert march["hazards_remaining"] == 2  # at the end of March HA-3 was closed


def test_empty_store_gives_zeros() -> None:
    summary = s.national_summary(s.Records.from_frames({}))
    assert summary.figures["victims_killed"] == 0
    assert summary.figures["area_cleared_m2"] == 0
    assert summary.figures["last_month"] is None
    assert all(isinstance(t, pd.DataFrame) for t in summary.tables.values())


def test_summary_json(records: s.Records, tmp_path: Path) -> None:
    path = s.national_summary(records, s.Period(None, dt.date(2024, 4, 30))).write_json(
        tmp_path / "out" / "summary.json"
    )
    data = json.loads(path.read_text(encoding="utf-8"))
    for key in (
        "victims_killed",
        "victims_injured",
        "area_cancelled_m2",
        "area_reduced_m2",
        "area_cleared_m2",
        "eore_beneficiaries",
        "last_month",
    ):
        assert key in data
    assert data["period"] == {"from": None, "to": "2024-04-30"}
    assert len(data["tables"]["hotspots"]) == 1  # AD-1..AD-3 within 3 km and 2 years
    assert data["tables"]["settlements_without_eore"][0]["last_eore"] == "2022-05-01"


def test_summary_from_a_store_equals_summary_from_frames(store: s.Store) -> None:
    """Read back from a real store (each engine), the figures are the hand-made ones."""
    from tests.report.world import fill_store

    fill_store(store)
    for period in (s.ALL_TIME, s.Period.month("2024-03"), s.Period.year(2023)):
        from_store = s.national_summary(store, period)
        from_frames = s.national_summary(s.Records.from_frames(small_world()), period)
        assert from_store.figures == from_frames.figures
        for name, table in from_frames.tables.items():
            assert s.frame_records(from_store.tables[name]) == s.frame_records(table), name
