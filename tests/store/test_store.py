"""The store's behaviour, proved on both engines (GeoPackage and PostGIS) by the same tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa

from minemap.errors import (
    ConflictError,
    NotFoundError,
    SchemaVersionError,
    StoreError,
    ValidationError,
)
from minemap.records.schema import INSERT_ORDER, KINDS
from minemap.records.validate import BatchValidationError
from minemap.store import Store, open_store
from minemap.store.sql import SqlStore
from tests.store.sample import SAMPLE, box, fill, hazard


def _eq(a: Any, b: Any) -> bool:
    if isinstance(b, shapely.Geometry):
        return bool(shapely.equals_exact(a, b, 0.0))
    if isinstance(b, float):
        return bool(np.isclose(a, b))
    return bool(a == b)


def test_round_trip_of_every_kind(store: Store) -> None:
    ids = fill(store)
    for kind in INSERT_ORDER:
        k = KINDS[kind]
        sample = SAMPLE[kind]
        got = store.get(kind, ids[kind], include_personal=True)
        assert got["ref"] == sample["ref"]
        for key, want in sample.items():
            if key.endswith("_ref") and key != "ref":
                target = k.field(key.removesuffix("_ref") + "_id").link
                assert got[key.removesuffix("_ref") + "_id"] == ids[str(target)], (kind, key)
                continue
            if key == "area_m2":
                continue
            assert _eq(got[key], want), (kind, key, got[key], want)
        assert got["version"] == 1
        assert got["workflow"] == "draft"
        assert got["created_by"] == "tester"
        assert isinstance(got["created_at"], dt.datetime)
        assert got["created_at"].tzinfo is not None

        frame = store.read(kind, with_refs=True, include_personal=True)
        assert len(frame) == 1
        row = frame.iloc[0]
        for f in k.links:
            if f.file_name in sample:
                assert row[f.file_name] == sample[f.file_name]
        if k.geometry:
            assert frame.crs.to_epsg() == 32638
            assert shapely.equals_exact(row.geometry, sample["geometry"], 0.0)
        for f in k.fields:
            if f.type == "date" and f.name in sample:
                assert row[f.name] == pd.Timestamp(sample[f.name])


def test_empty_reads_have_every_column(store: Store) -> None:
    for kind in ("hazards", "victims", "finds"):
        frame = store.read(kind, with_refs=True)
        assert len(frame) == 0
        assert "ref" in frame.columns
        assert all(f.file_name in frame.columns for f in KINDS[kind].links)
    assert store.read("hazards", with_refs=True)["recorded_on"].dtype == "datetime64[ns]"


def test_area_is_computed_from_geometry(store: Store) -> None:
    [hid] = store.insert("hazards", [hazard(size=100, area_m2=5)], user="u")
    assert store.get("hazards", hid)["area_m2"] == pytest.approx(10_000)


def test_links_given_by_ref_resolve_and_unknown_refs_are_refused(store: Store) -> None:
    fill(store)
    before = store.count("finds")
    rows = pd.DataFrame(
        [
            {"category": "AT", "found_on": "2022-01-01", "activity_ref": "AC-1"},
            {"category": "AT", "found_on": "2022-01-01", "activity_ref": "AC-404"},
        ],
        index=[7, 8],
    )
    rows["geometry"] = [box(10, 10).centroid, box(20, 20).centroid]
    with pytest.raises(BatchValidationError) as err:
        store.insert("finds", rows, user="u")
    assert err.value.row == 8
    assert err.value.field == "activity_ref"
    assert "AC-404" in str(err.value)
    assert store.count("finds") == before

    with pytest.raises(BatchValidationError) as err:
        store.insert(
            "finds",
            [
                {
                    "category": "AT",
                    "found_on": "2022-01-01",
                    "activity_id": 999,
                    "geometry": box(1, 1).centroid,
                }
            ],
            user="u",
        )
    assert err.value.field == "activity_id"


def test_a_batch_with_one_bad_row_writes_nothing(store: Store) -> None:
    good = [hazard(i * 600) for i in range(5)]
    bad = hazard(4000, type="XHA")
    audit_before = len(store.audit())
    with pytest.raises(BatchValidationError) as err:
        store.insert("hazards", [*good, bad], user="u")
    assert err.value.row == 6
    assert err.value.field == "type"
    assert len(err.value.rejects) == 1
    assert store.count("hazards") == 0
    assert len(store.audit()) == audit_before


def test_skip_invalid_writes_the_good_rows_and_lists_the_rest(store: SqlStore) -> None:
    rows = [hazard(0), hazard(600, recorded_on="yesterday"), hazard(1200, geometry=None)]
    result = store.insert_batch("hazards", rows, user="u", skip_invalid=True)
    assert len(result.ids) == 1
    assert list(result.rejects["row"]) == [2, 3]
    assert "not a date" in result.rejects["reason"].iloc[0]
    assert "missing" in result.rejects["reason"].iloc[1]
    assert store.count("hazards") == 1


def test_every_write_leaves_an_audit_entry(store: Store) -> None:
    [hid] = store.insert("hazards", [hazard()], user="alice")
    rec = store.update(
        "hazards", hid, {"name": "North"}, expected_version=1, user="bob", reason="typo"
    )
    rec = store.set_workflow(
        "hazards", hid, "submitted", expected_version=rec["version"], user="bob"
    )
    store.delete("hazards", hid, expected_version=rec["version"], user="carol")
    log = store.audit(kind="hazards", record_id=hid)
    assert list(log["action"]) == ["insert", "update", "workflow", "delete"]
    assert list(log["user"]) == ["alice", "bob", "bob", "carol"]
    assert log["at"].is_monotonic_increasing
    insert, update, flow, delete = (log.iloc[i] for i in range(4))
    assert insert["before"] is None
    assert insert["after"]["type"] == "SHA"
    assert insert["after"]["geometry"].startswith("MULTIPOLYGON")
    assert update["before"] == {"name": None}
    assert update["after"] == {"name": "North"}
    assert update["reason"] == "typo"
    assert flow["before"] == {"workflow": "draft"}
    assert flow["after"] == {"workflow": "submitted"}
    assert delete["before"]["name"] == "North"
    assert delete["after"] is None
    assert len(store.audit(user="bob")) == 2
    assert len(store.audit(since=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))) == 0


def test_hazard_history_is_kept_never_overwritten(store: Store) -> None:
    [hid] = store.insert("hazards", [hazard(size=1000)], user="nts")
    v = 1
    rec = store.update("hazards", hid, {"type": "CHA"}, expected_version=v, user="ts")
    rec = store.update(
        "hazards", hid, {"geometry": box(0, 0, 600)}, expected_version=rec["version"], user="ts"
    )
    rec = store.update(
        "hazards", hid, {"status": "closed"}, expected_version=rec["version"], user="qa"
    )
    first = store.hazard_history(hid).iloc[:4].copy()
    rec = store.update(
        "hazards", hid, {"status": "handed_over"}, expected_version=rec["version"], user="qa"
    )
    history = store.hazard_history(hid)
    assert list(history["action"]) == ["created", "confirmed", "reduced", "closed", "handed_over"]
    assert list(history["type"]) == ["SHA", "CHA", "CHA", "CHA", "CHA"]
    assert history["area_m2"].iloc[0] == pytest.approx(1_000_000)
    assert history["area_m2"].iloc[2] == pytest.approx(360_000)
    assert list(history["version"]) == [1, 2, 3, 4, 5]
    pd.testing.assert_frame_equal(
        pd.DataFrame(history.iloc[:4].drop(columns="geometry")),
        pd.DataFrame(first.drop(columns="geometry")),
    )
    assert shapely.equals_exact(history.geometry.iloc[0], box(0, 0, 1000), 0.0)


def test_a_stale_update_is_refused(store: Store) -> None:
    [hid] = store.insert("hazards", [hazard()], user="u")
    store.update("hazards", hid, {"name": "first"}, expected_version=1, user="a")
    with pytest.raises(ConflictError, match="version"):
        store.update("hazards", hid, {"name": "second"}, expected_version=1, user="b")
    with pytest.raises(ConflictError):
        store.set_workflow("hazards", hid, "submitted", expected_version=1, user="b")
    with pytest.raises(ConflictError):
        store.delete("hazards", hid, expected_version=1, user="b")
    assert store.get("hazards", hid)["name"] == "first"


def test_workflow_transitions(store: Store) -> None:
    [hid] = store.insert("hazards", [hazard()], user="u")
    with pytest.raises(ValidationError, match="cannot move from draft to approved"):
        store.set_workflow("hazards", hid, "approved", expected_version=1, user="u")
    rec = store.set_workflow("hazards", hid, "submitted", expected_version=1, user="u")
    rec = store.set_workflow("hazards", hid, "rejected", expected_version=rec["version"], user="a")
    rec = store.set_workflow("hazards", hid, "draft", expected_version=rec["version"], user="u")
    rec = store.set_workflow("hazards", hid, "submitted", expected_version=rec["version"], user="u")
    rec = store.set_workflow("hazards", hid, "approved", expected_version=rec["version"], user="a")
    assert rec["workflow"] == "approved"
    with pytest.raises(ValidationError, match="unknown workflow state"):
        store.set_workflow("hazards", hid, "done", expected_version=rec["version"], user="a")
    with pytest.raises(ValidationError, match="set_workflow"):
        store.update(
            "hazards", hid, {"workflow": "draft"}, expected_version=rec["version"], user="a"
        )


def test_updates_are_validated_and_leave_the_record_as_it_was(store: Store) -> None:
    [hid] = store.insert("hazards", [hazard()], user="u")
    with pytest.raises(ValidationError) as err:
        store.update("hazards", hid, {"contamination": "plutonium"}, expected_version=1, user="u")
    assert err.value.field == "contamination"
    assert str(err.value).startswith("hazards, field 'contamination': 'plutonium' is not one of")
    with pytest.raises(ValidationError, match="no field"):
        store.update("hazards", hid, {"colour": "red"}, expected_version=1, user="u")
    rec = store.get("hazards", hid)
    assert rec["contamination"] == "AP"
    assert rec["version"] == 1


def test_personal_fields_only_with_include_personal(store: Store) -> None:
    ids = fill(store)
    plain = store.read("victims")
    assert "name" not in plain.columns
    assert "contact" not in plain.columns
    assert "name" not in store.get("victims", ids["victims"])
    full = store.read("victims", include_personal=True)
    assert full["name"].iloc[0] == "Ali Aliyev"
    entry = store.audit(kind="victims").iloc[0]
    assert entry["after"]["name"] == "[personal]"
    assert "Ali" not in str(store.audit().to_dict())
    with pytest.raises(Exception, match="personal"):
        store.read("victims", where={"name": "Ali Aliyev"})


def test_bbox_reads_return_what_intersects(store: Store) -> None:
    rows = [hazard(600 * i, 600 * j, 400) for i in range(10) for j in range(10)]
    store.insert("hazards", rows, user="u")
    x0, y0 = 600_000 + 1000, 4_400_000 + 1000
    bbox = (x0, y0, x0 + 1500, y0 + 700)
    got = store.read("hazards", bbox=bbox)
    everything = store.read("hazards")
    expected = everything[shapely.intersects(everything.geometry.to_numpy(), shapely.box(*bbox))]
    assert sorted(got["id"]) == sorted(expected["id"])
    assert 0 < len(got) < len(everything)


def test_bbox_reads_use_the_spatial_index(store: SqlStore) -> None:
    table = store.table("hazards")
    stmt = sa.select(table.c.id).where(store._bbox_filter(table, (0.0, 0.0, 1.0, 1.0)))
    with store.engine.connect() as conn:
        sql = str(stmt.compile(conn, compile_kwargs={"literal_binds": True}))
        if store.engine_name == "gpkg":
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            assert "rtree_hazards_geom" in plan
            assert "VIRTUAL TABLE INDEX" in plan
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = " ".join(str(r[0]) for r in conn.exec_driver_sql(f"EXPLAIN {sql}"))
            assert "ix_hazards_geom" in plan


def test_where_filters(store: Store) -> None:
    store.insert("hazards", [hazard(0, type="CHA"), hazard(600), hazard(1200)], user="u")
    assert len(store.read("hazards", where={"type": "CHA"})) == 1
    assert len(store.read("hazards", where={"type": ["CHA", "SHA"]})) == 3
    assert len(store.read("hazards", where={"name": None})) == 3
    assert list(store.read("hazards", ids=[2, 3])["id"]) == [2, 3]


def test_deleting_a_linked_record_is_refused(store: Store) -> None:
    ids = fill(store)
    with pytest.raises(ConflictError, match="links to it"):
        store.delete("hazards", ids["hazards"], expected_version=1, user="u")
    assert store.count("hazards") == 1


def test_missing_records(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.get("hazards", 42)
    with pytest.raises(NotFoundError):
        store.update("hazards", 42, {"name": "x"}, expected_version=1, user="u")


def test_duplicate_refs_are_refused(store: Store) -> None:
    store.insert("hazards", [hazard(ref="HA-7")], user="u")
    with pytest.raises(BatchValidationError, match="already exists") as err:
        store.insert("hazards", [hazard(600, ref="HA-7")], user="u")
    assert err.value.field == "ref"
    # the field is named once, not again in the reason
    assert str(err.value).startswith(
        "hazards, row 1, field 'ref': a hazards record with ref 'HA-7' already exists"
    )
    with pytest.raises(BatchValidationError, match="twice"):
        store.insert("hazards", [hazard(600, ref="HA-8"), hazard(1200, ref="HA-8")], user="u")


def test_users(store: Store) -> None:
    [org] = store.insert("organisations", [SAMPLE["organisations"]], user="admin")
    uid = store.add_user("leyla", role="approver", password_hash="$argon2$x", organisation_id=org)
    user = store.get_user("leyla")
    assert user["id"] == uid
    assert user["role"] == "approver"
    assert user["organisation_id"] == org
    assert user["password_hash"] == "$argon2$x"
    with pytest.raises(ConflictError):
        store.add_user("leyla", role="viewer", password_hash="h", organisation_id=None)
    with pytest.raises(ValidationError, match="role"):
        store.add_user("sam", role="king", password_hash="h", organisation_id=None)
    with pytest.raises(NotFoundError):
        store.get_user("nobody")
    assert "$argon2" not in str(store.audit(kind="users").to_dict())


def test_rasters_are_kept_in_the_store(store: Store, tmp_path: Any) -> None:
    src = tmp_path / "dem.tif"
    src.write_bytes(b"not really a tiff but bytes are bytes")
    assert store.raster("dem") is None
    store.put_raster("dem", src)
    path = store.raster("dem")
    assert path is not None
    assert path.read_bytes() == src.read_bytes()


def test_a_store_of_a_newer_schema_is_refused(store_url: str) -> None:
    s = open_store(store_url)
    assert isinstance(s, SqlStore)
    with s.engine.begin() as conn:
        conn.execute(sa.text("UPDATE minemap_meta SET value = '99' WHERE key = 'schema_version'"))
    s.close()
    with pytest.raises(SchemaVersionError, match="99"), open_store(store_url) as again:
        again.count("hazards")
    with pytest.raises(SchemaVersionError), open_store(store_url) as again:
        again.init()


def test_an_uninitialised_store_says_how_to_init(empty_store_url: str) -> None:
    with pytest.raises(StoreError, match="db init"), open_store(empty_store_url) as s:
        s.count("hazards")


def test_init_twice_keeps_records_and_sets_the_extent(store_url: str) -> None:
    with open_store(store_url) as s:
        s.insert("hazards", [hazard()], user="u")
        s.init(extent=(44.7, 38.3, 50.9, 42.0))
    with open_store(store_url) as s:
        assert s.count("hazards") == 1
        assert s.extent == (44.7, 38.3, 50.9, 42.0)
        with pytest.raises(ValueError, match="cannot change"):
            s.init(crs="EPSG:32639")


def test_the_extent_refuses_records_outside_and_names_swapped_coordinates(store_url: str) -> None:
    import geopandas as gpd

    with open_store(store_url) as s:
        s.init(extent=(44.7, 38.3, 50.9, 42.0))
    with open_store(store_url) as s:
        rows = gpd.GeoDataFrame(
            {"category": ["AP", "AP", "AP"], "found_on": ["2022-01-01"] * 3},
            geometry=[
                shapely.Point(46.7, 39.8),
                shapely.Point(39.8, 46.7),
                shapely.Point(2.3, 48.9),
            ],
            crs="EPSG:4326",
            index=[2, 3, 4],
        )
        result = s.check("finds", rows)
        assert list(result.rejects["row"]) == [3, 4]
        assert "swapped" in result.rejects["reason"].iloc[0]
        assert "outside the store's extent" in result.rejects["reason"].iloc[1]
        ids = s.insert("finds", rows.loc[[2]], user="u")
        x, y = s.get("finds", ids[0])["geometry"].coords[0]
        assert 600_000 < x < 800_000
        assert 4_300_000 < y < 4_500_000


def test_transactions_commit_together_or_not_at_all(store: Store) -> None:
    seen_inside = []

    def write_then_fail() -> None:
        with store.transaction():
            store.insert("hazards", [hazard()], user="u")
            seen_inside.append(store.count("hazards"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert seen_inside == [1]
    assert store.count("hazards") == 0
    with store.transaction():
        store.insert("hazards", [hazard()], user="u")
        store.insert("hazards", [hazard(600)], user="u")
    assert store.count("hazards") == 2


def test_columns_missing_from_an_older_store_are_added(store_url: str) -> None:
    s = open_store(store_url)
    assert isinstance(s, SqlStore)
    with s.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE hazards DROP COLUMN description"))
    s.close()
    with open_store(store_url) as again:
        [hid] = again.insert("hazards", [hazard(description="added back")], user="u")
        assert again.get("hazards", hid)["description"] == "added back"


def test_check_lists_every_refused_row_without_writing(store: Store) -> None:
    fill(store)
    rows = [
        hazard(0, ref="HA-1"),  # the sample's ref: taken
        hazard(600, settlement_ref="SE-404"),
        hazard(1200, settlement_ref="SE-1"),
    ]
    result = store.check("hazards", rows)
    assert list(result.rejects["row"]) == [1, 2]
    assert list(result.rejects["field"]) == ["ref", "settlement_ref"]
    assert list(result.valid.index) == [3]
    assert result.valid["settlement_id"].iloc[0] == store.read("settlements")["id"].iloc[0]
    assert store.count("hazards") == 1


@pytest.mark.postgis
def test_postgis_migrations_are_recorded(postgis_url: str) -> None:
    with open_store(postgis_url) as s:
        s.init()
        assert isinstance(s, SqlStore)
        with s.engine.connect() as conn:
            assert (
                conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0001"
            )
            srid = conn.execute(sa.text("SELECT Find_SRID('public', 'hazards', 'geom')")).scalar()
            assert srid == 32638
        s.init()  # again: nothing to migrate, records kept


def test_activity_areas_follow_their_releases(store: Store) -> None:
    ids = fill(store)  # activity AC-1 with one reduced release of 250 x 250 m
    act = store.get("activities", ids["activities"])
    assert act["area_reduced_m2"] == pytest.approx(62_500)
    assert act["area_cleared_m2"] == 0
    [cleared] = store.insert(
        "releases",
        [
            {
                "activity_ref": "AC-1",
                "method": "cleared",
                "released_on": "2022-05-20",
                "geometry": box(250, 0, 100),
            }
        ],
        user="qa",
    )
    act = store.get("activities", ids["activities"])
    assert act["area_cleared_m2"] == pytest.approx(10_000)
    assert act["version"] == 2
    entry = store.audit(kind="activities", record_id=ids["activities"]).iloc[-1]
    assert entry["after"] == {"area_cleared_m2": 10_000.0}
    assert "releases" in entry["reason"]
    store.delete("releases", cleared, expected_version=1, user="qa")
    assert store.get("activities", ids["activities"])["area_cleared_m2"] == 0
