"""Duplicate records: the same thing entered twice, in one file or already in the store.

Double entry is the commonest complaint about national databases: the same
find reported by the team and by QA, the same suspected area drawn by two NTS
teams. Two records of a kind are duplicates when

* they carry the same ``ref``;
* their geometries are the same within a tolerance (the Hausdorff distance,
  in metres of the store CRS, is at most ``tolerance``), for every kind with
  geometry; or
* for polygon kinds, they overlap (the shared area is at least
  ``min_overlap`` of the smaller polygon) and carry the same date (a hazard's
  ``recorded_on``, an activity's ``start_date``...);
* for kinds without geometry, their key fields are equal (an organisation's
  name, a minefield leg's record and sequence number...).

A row is reported against the first earlier row of the file or the first
store record it duplicates. What happens then (keep, skip, merge) is the
importer's choice (:mod:`minemap.io.importer`); :func:`merge_into` says how two
records merge: empty fields are filled, nothing is overwritten, and values that
disagree are kept in ``attributes["merge_conflicts"]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
import shapely

from minemap.records.schema import EVENT_DATES, Kind

#: Fields that identify a record of a kind without geometry.
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "organisations": ("name",),
    "teams": ("name",),
    "assets": ("name",),
    "victims": ("accident_ref", "outcome", "sex", "age", "group", "name"),
    "minefield_legs": ("record_ref", "seq"),
}

DEFAULT_TOLERANCE_M = 1.0
DEFAULT_MIN_OVERLAP = 0.5


@dataclass(frozen=True)
class Duplicate:
    """Row ``row`` of the file duplicates an earlier row or a store record."""

    row: int
    reason: str
    other_row: int | None = None  # an earlier row of the same file
    other_id: int | None = None  # a record already in the store
    other_ref: str | None = None

    @property
    def other(self) -> str:
        if self.other_row is not None:
            return f"row {self.other_row}"
        return str(self.other_ref or f"record {self.other_id}")

    def describe(self) -> str:
        return f"duplicate of {self.other} ({self.reason})"


def _blank(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _same_date(a: Any, b: Any) -> bool:
    if _blank(a) or _blank(b):
        return False
    return bool(pd.Timestamp(a).date() == pd.Timestamp(b).date())


def _match_geometry(
    kind: Kind,
    geom: Any,
    date: Any,
    candidates: list[tuple[Any, Any]],
    idx: np.ndarray,
    *,
    tolerance: float,
    min_overlap: float,
) -> tuple[int, str] | None:
    """The first candidate (by position) that ``geom`` duplicates, and why."""
    for j in sorted(int(i) for i in idx):
        other, other_date = candidates[j]
        if other is None or other.is_empty:
            continue
        if shapely.hausdorff_distance(geom, other) <= tolerance:
            return j, f"same geometry within {tolerance:g} m"
        if kind.geometry in ("Polygon", "MultiPolygon") and _same_date(date, other_date):
            smaller = min(geom.area, other.area)
            if smaller > 0:
                shared = shapely.intersection(geom, other).area
                if shared / smaller >= min_overlap:
                    return j, f"overlaps {shared / smaller:.0%} on the same date"
    return None


def find_duplicates(
    kind: Kind,
    rows: pd.DataFrame,
    existing: pd.DataFrame | None = None,
    *,
    tolerance: float = DEFAULT_TOLERANCE_M,
    min_overlap: float = DEFAULT_MIN_OVERLAP,
) -> list[Duplicate]:
    """Rows of ``rows`` that duplicate an earlier row or a record of ``existing``.

    ``rows`` is indexed by file row number with file column names (links as
    ``<x>_ref``); ``existing`` is a store read with ``with_refs=True`` (columns
    ``id``, ``ref``, fields, ``geometry``). Geometries are in the same metric
    CRS. Store records are preferred over earlier rows as the thing duplicated.
    """
    found: dict[int, Duplicate] = {}
    store = existing if existing is not None and len(existing) else None

    # same ref ------------------------------------------------------------------------------
    store_refs: dict[str, int] = {}
    if store is not None:
        store_refs = {str(r): int(i) for r, i in zip(store["ref"], store["id"], strict=True)}
    first_row_of_ref: dict[str, int] = {}
    for row, ref in rows["ref"].items():
        r = cast(int, row)
        if _blank(ref):
            continue
        if str(ref) in store_refs:
            found[r] = Duplicate(r, "same ref", other_id=store_refs[str(ref)], other_ref=str(ref))
        elif str(ref) in first_row_of_ref:
            found[r] = Duplicate(r, "same ref", other_row=first_row_of_ref[str(ref)])
        else:
            first_row_of_ref[str(ref)] = r

    if kind.geometry is None:
        keys = KEY_FIELDS.get(kind.name)
        if not keys:
            return sorted(found.values(), key=lambda d: d.row)
        store_keys: dict[tuple[Any, ...], tuple[int, str]] = {}
        if store is not None:
            for _, rec in store.iterrows():
                key = tuple(_norm(rec.get(c)) for c in keys)
                if all(v is None for v in key):
                    continue
                store_keys.setdefault(key, (int(rec["id"]), str(rec["ref"])))
        seen: dict[tuple[Any, ...], int] = {}
        for row, rec in rows.iterrows():
            r = cast(int, row)
            key = tuple(_norm(rec.get(k)) for k in keys)
            if r in found or all(v is None for v in key):
                continue
            what = "same " + ", ".join(keys)
            if key in store_keys:
                sid, sref = store_keys[key]
                found[r] = Duplicate(r, what, other_id=sid, other_ref=sref)
            elif key in seen:
                found[r] = Duplicate(r, what, other_row=seen[key])
            else:
                seen[key] = r
        return sorted(found.values(), key=lambda d: d.row)

    # geometry ------------------------------------------------------------------------------
    # two overlapping shapes of the same event date are the same event
    date_field = EVENT_DATES.get(kind.name)
    reach = tolerance
    candidates: list[tuple[Any, Any]] = []
    if store is not None:
        for geom, date in zip(
            store.geometry,
            store[date_field]
            if date_field and date_field in store.columns
            else [None] * len(store),
            strict=True,
        ):
            candidates.append((geom, date))
    n_store = len(candidates)
    row_numbers = [cast(int, r) for r in rows.index]
    dates = list(rows[date_field]) if date_field and date_field in rows.columns else []
    for i, geom in enumerate(rows.geometry):
        candidates.append((geom, dates[i] if dates else None))
    geoms = np.asarray([c[0] if c[0] is not None else shapely.Point() for c in candidates])
    tree = shapely.STRtree(geoms)
    for i, row in enumerate(row_numbers):
        geom, date = candidates[n_store + i]
        if row in found or geom is None or geom.is_empty:
            continue
        hits = tree.query(geom, predicate="dwithin", distance=reach)
        # only store records and earlier rows can be the thing duplicated
        hits = hits[hits < n_store + i]
        match = _match_geometry(
            kind, geom, date, candidates, hits, tolerance=tolerance, min_overlap=min_overlap
        )
        if match is None:
            continue
        j, reason = match
        if j < n_store:
            assert store is not None
            found[row] = Duplicate(
                row,
                reason,
                other_id=int(store["id"].iloc[j]),
                other_ref=str(store["ref"].iloc[j]),
            )
        else:
            found[row] = Duplicate(row, reason, other_row=row_numbers[j - n_store])
    return sorted(found.values(), key=lambda d: d.row)


def _norm(value: Any) -> Any:
    if _blank(value):
        return None
    if isinstance(value, str):
        return " ".join(value.split()).casefold() or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def merge_into(
    target: Mapping[Any, Any], source: Mapping[Any, Any], fields: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Merge ``source`` into ``target``: the changes to apply and the conflicting values.

    An empty field of ``target`` takes ``source``'s value; a field where both
    have different values keeps ``target``'s, and ``source``'s goes to the
    conflicts (which the caller keeps in ``attributes``). Attributes are
    united, ``target``'s winning on equal keys.
    """
    changes: dict[str, Any] = {}
    conflicts: dict[str, Any] = {}
    for name in fields:
        new = source.get(name)
        if _blank(new) or name in ("ref", "attributes", "geometry"):
            continue
        old = target.get(name)
        if _blank(old):
            changes[name] = new
        elif _norm(old) != _norm(new):
            conflicts[name] = new
    old_attrs = dict(target.get("attributes") or {})
    new_attrs = dict(source.get("attributes") or {})
    merged = {**new_attrs, **old_attrs}
    if conflicts:
        previous = list(merged.get("merge_conflicts") or [])
        previous.append({k: _plain(v) for k, v in conflicts.items()})
        merged["merge_conflicts"] = previous
    if merged != old_attrs:
        changes["attributes"] = merged
    return changes, conflicts


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value
