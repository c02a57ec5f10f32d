"""Backup then restore gives back identical records, on each engine and across engines."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from minemap.errors import SchemaVersionError
from minemap.records.schema import INSERT_ORDER
from minemap.store import Store, open_store
from tests.store.sample import box, fill, hazard


def _populate(store: Store, tmp_path: Path) -> None:
    ids = fill(store)
    hid = ids["hazards"]
    rec = store.update("hazards", hid, {"type": "CHA"}, expected_version=1, user="ts")
    store.update(
        "hazards", hid, {"geometry": box(0, 0, 300)}, expected_version=rec["version"], user="ts"
    )
    store.set_workflow("finds", ids["finds"], "submitted", expected_version=1, user="field")
    store.insert("hazards", [hazard(2000, name="Южный склон — çöl")], user="u")
    store.add_user(
        "leyla", role="approver", password_hash="h1", organisation_id=ids["organisations"]
    )
    dem = tmp_path / "dem.tif"
    dem.write_bytes(bytes(range(256)) * 10)
    store.put_raster("dem", dem)


def _snapshot(store: Store) -> dict[str, pd.DataFrame]:
    out = {k: store.read(k, include_personal=True, with_refs=True) for k in INSERT_ORDER}
    out["audit"] = store.audit()
    out["history"] = store.hazard_history(1)
    users = store.get_user("leyla")
    out["users"] = pd.DataFrame([users])
    return out


def _assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert a.keys() == b.keys()
    for key, left in a.items():
        right = b[key]
        assert len(left) == len(right), key
        pd.testing.assert_frame_equal(
            pd.DataFrame(left).reset_index(drop=True),
            pd.DataFrame(right).reset_index(drop=True),
            check_exact=True,
            obj=key,
        )


def _round_trip(source_url: str, target_url: str, tmp_path: Path) -> None:
    with open_store(source_url) as src:
        _populate(src, tmp_path)
        before = _snapshot(src)
        backup = src.backup(tmp_path / "backup.gpkg")
    with open_store(target_url) as dst:
        dst.restore(backup)
    with open_store(target_url) as dst:
        _assert_same(before, _snapshot(dst))
        raster = dst.raster("dem")
        assert raster is not None
        assert raster.read_bytes() == (tmp_path / "dem.tif").read_bytes()
        assert dst.extent is None
        assert dst.crs == "EPSG:32638"
        # ids go on after the restored ones
        [new] = dst.insert("hazards", [hazard(5000)], user="u")
        assert new == 3


def test_backup_and_restore_give_identical_records(
    store_url: str, empty_store_url: str, tmp_path: Path, store_engine: str
) -> None:
    target = empty_store_url
    if store_engine == "gpkg":
        target = str(tmp_path / "restored.gpkg")
    else:
        with open_store(target) as dst:  # a store with other content, replaced by the restore
            dst.init()
            dst.insert("hazards", [hazard(9000, name="to be replaced")], user="x")
    _round_trip(store_url, target, tmp_path)


@pytest.mark.postgis
def test_backup_of_a_geopackage_restores_into_postgis(tmp_path: Path, postgis_url: str) -> None:
    source = str(tmp_path / "field.gpkg")
    with open_store(source) as s:
        s.init()
    _round_trip(source, postgis_url, tmp_path)


@pytest.mark.postgis
def test_backup_of_postgis_restores_into_a_geopackage(tmp_path: Path, postgis_url: str) -> None:
    with open_store(postgis_url) as s:
        s.init()
    _round_trip(postgis_url, str(tmp_path / "laptop.gpkg"), tmp_path)


def test_a_backup_of_a_newer_schema_is_refused(store_url: str, tmp_path: Path) -> None:
    import sqlite3

    with open_store(store_url) as s:
        s.insert("hazards", [hazard()], user="u")
        backup = s.backup(tmp_path / "b.gpkg")
    con = sqlite3.connect(backup)
    con.execute("UPDATE minemap_meta SET value = '7' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with open_store(store_url) as s:
        with pytest.raises(SchemaVersionError):
            s.restore(backup)
        assert s.count("hazards") == 1
