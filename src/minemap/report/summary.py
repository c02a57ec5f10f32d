"""The national figures of mine action, as functions of (records, period).

This module owns every figure minemap reports: land released (cancelled,
reduced, cleared) by month, district and organisation; devices found and
disposed of by category and model; hazards remaining by type, contamination
and area; victims killed and injured by group, sex, age and activity; EORE
sessions, beneficiaries and materials; assets and staff (women deminers
included); and the casualty analytics (accident hotspots in space and time,
trends, each accident linked to its hazard, settlements with accidents but no
recent risk education).

``minemap summary``, the monthly and annual reports and the web dashboards
all call these functions, so they can never disagree. Every public function
takes a *source*, either an open :class:`~minemap.store.base.Store` or a
:class:`Records` bundle already read from one (read once, reuse for many
figures), and a :class:`Period`.

Conventions
-----------
* Areas are square metres; distances metres (the store's metric CRS).
* A record is in a period when its own date is: a release by ``released_on``,
  a find by ``found_on``, an accident and its victims by ``occurred_on``, an
  EORE session by ``held_on``.
* A child is a person under 18 (Landmine Monitor's convention); a victim
  without an age is counted as age unknown, never guessed.
* A hazard remains at a date when it was recorded by then and not closed by
  then. The store keeps the current status and polygon (what remains after
  reductions); a closed hazard's closing date is taken as the date of the last
  release on it (the release that closed it), and the area remaining at a past
  date adds back the land released on the hazard since.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import math
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from minemap.errors import ConfigError
from minemap.files import replace_when_done
from minemap.records.schema import (
    ASSET_TYPES,
    DEVICE_CATEGORIES,
    EORE_METHODS,
    EVENT_DATES,
    KINDS,
    OUTCOMES,
    RELEASE_METHODS,
    SYSTEM_FIELDS,
    VICTIM_ACTIVITIES,
    VICTIM_GROUPS,
    Field,
)
from minemap.store.base import Store

T = TypeVar("T")

#: The record kinds the figures are computed from.
SUMMARY_KINDS: tuple[str, ...] = (
    "organisations",
    "districts",
    "settlements",
    "teams",
    "assets",
    "hazards",
    "activities",
    "releases",
    "finds",
    "accidents",
    "victims",
    "eore_sessions",
)

#: Kinds and the date field that places each record in time.
DATE_FIELDS: dict[str, str] = {k: f for k, f in EVENT_DATES.items() if k in SUMMARY_KINDS}

CHILD_AGE = 18
UNKNOWN = "unknown"
#: Disposals that count as a device destroyed (in place, or removed to a demolition site).
DESTROYED = ("destroyed_in_situ", "removed")
#: Team types whose staff are deminers (survey-only drone/NTS teams are not).
DEMINING_TEAM_TYPES = ("manual", "dog", "machine", "eod")


# --- periods ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Dates from ``start`` to ``end``, both included; ``None`` leaves a side open."""

    start: dt.date | None = None
    end: dt.date | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start > self.end:
            msg = f"the period starts on {self.start} after it ends on {self.end}"
            raise ConfigError(msg)

    @classmethod
    def month(cls, text: str) -> Period:
        """The calendar month ``YYYY-MM``."""
        try:
            first = dt.datetime.strptime(text.strip(), "%Y-%m").date()
        except ValueError:
            msg = f"month {text!r} is not of the form YYYY-MM"
            raise ConfigError(msg) from None
        last = calendar.monthrange(first.year, first.month)[1]
        return cls(first, first.replace(day=last))

    @classmethod
    def year(cls, year: int) -> Period:
        if not 1900 <= year <= 2200:
            msg = f"year {year} is out of range"
            raise ConfigError(msg)
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31))

    @property
    def is_all(self) -> bool:
        return self.start is None and self.end is None

    def to_date(self) -> Period:
        """Everything up to the end of this period."""
        return Period(None, self.end)

    def months_back(self, months: int) -> Period:
        """The ``months`` months that end with this period's end."""
        if self.end is None:
            msg = "a period without an end has no months before it"
            raise ConfigError(msg)
        start = (pd.Timestamp(self.end) - pd.DateOffset(months=months)).date()
        return Period(start + dt.timedelta(days=1), self.end)

    def mask(self, dates: pd.Series) -> pd.Series:
        """True where a date falls in the period (undated rows only in an open period)."""
        if self.is_all:
            return pd.Series(True, index=dates.index)
        inside = dates.notna()
        if self.start is not None:
            inside &= dates >= pd.Timestamp(self.start)
        if self.end is not None:
            inside &= dates <= pd.Timestamp(self.end)
        return inside

    @property
    def label(self) -> str:
        if self.is_all:
            return "all records"
        if self.start is None:
            return f"to {self.end}"
        if self.end is None:
            return f"from {self.start}"
        return f"{self.start} to {self.end}"

    def to_dict(self) -> dict[str, str | None]:
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
        }


ALL_TIME = Period()


# --- the records a summary reads ---------------------------------------------------------


def _dtype(f: Field) -> str:
    return {"date": "datetime64[ns]", "datetime": "datetime64[ns]", "link": "Int64"}.get(
        f.type, {"int": "Int64", "float": "float64"}.get(f.type, "object")
    )


def _empty_frame(kind: str, crs: str) -> pd.DataFrame:
    spec = KINDS[kind]
    columns: dict[str, pd.Series] = {
        "id": pd.Series(dtype="Int64"),
        "ref": pd.Series(dtype="object"),
    }
    for f in (*spec.fields, *SYSTEM_FIELDS):
        columns[f.name] = pd.Series(dtype=_dtype(f))
    frame = pd.DataFrame(columns)
    if spec.geometry is None:
        return frame
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def _conform(kind: str, frame: pd.DataFrame, crs: str) -> pd.DataFrame:
    """Give a frame every column of its kind, dates as datetimes, links as integers."""
    spec = KINDS[kind]
    out = frame.copy()
    for name in ("id", "ref", *(f.name for f in spec.fields), "organisation_id"):
        if name not in out.columns:
            out[name] = pd.NA
    for f in (*spec.fields, *SYSTEM_FIELDS):
        if f.name not in out.columns:
            continue
        if f.type == "date":
            out[f.name] = pd.to_datetime(out[f.name], errors="coerce")
        elif f.type in ("link", "int") or f.name == "id":
            out[f.name] = pd.to_numeric(out[f.name], errors="coerce").astype("Int64")
        elif f.type == "float":
            out[f.name] = pd.to_numeric(out[f.name], errors="coerce").astype("float64")
    out["id"] = pd.to_numeric(out["id"], errors="coerce").astype("Int64")
    if spec.geometry is not None:
        if not isinstance(out, gpd.GeoDataFrame) or out.geometry.name not in out.columns:
            if "geometry" not in out.columns:
                return _empty_frame(kind, crs) if out.empty else out
            out = gpd.GeoDataFrame(out, geometry="geometry")
        if out.crs is None:
            out = out.set_crs(crs)
    return out


class Records:
    """The frames of the record kinds a summary reads, read once from a store.

    Build it with :meth:`from_store` (or :meth:`from_frames` for frames of
    the store's shape: ``id``, ``ref``, the kind's fields, links as ``<x>_id``).
    A kind that was not given reads as an empty frame with every column.
    """

    def __init__(self, frames: Mapping[str, pd.DataFrame], *, crs: str = "EPSG:32638") -> None:
        self.crs = crs
        self._frames: dict[str, pd.DataFrame] = {
            kind: _conform(kind, frame, crs) for kind, frame in frames.items()
        }
        # derived whole-history frames (joins done once, then filtered per period)
        self._cache: dict[Hashable, Any] = {}

    def memo(self, key: Hashable, build: Callable[[], T]) -> T:
        """``build()`` once per key; the frames must not be changed in place."""
        if key not in self._cache:
            self._cache[key] = build()
        return cast(T, self._cache[key])

    @classmethod
    def from_store(cls, store: Store, kinds: tuple[str, ...] = SUMMARY_KINDS) -> Records:
        return cls({kind: store.read(kind) for kind in kinds}, crs=store.crs)

    @classmethod
    def from_frames(cls, frames: Mapping[str, pd.DataFrame], *, crs: str = "EPSG:32638") -> Records:
        return cls(frames, crs=crs)

    def __getitem__(self, kind: str) -> pd.DataFrame:
        if kind not in self._frames:
            self._frames[kind] = _empty_frame(kind, self.crs)
        return self._frames[kind]

    def geo(self, kind: str) -> gpd.GeoDataFrame:
        frame = self[kind]
        if not isinstance(frame, gpd.GeoDataFrame):
            msg = f"{kind} has no geometry"
            raise TypeError(msg)
        return frame


Source = Store | Records


def _in_period(frame: pd.DataFrame, column: str, period: Period) -> pd.DataFrame:
    if period.is_all:
        return frame.copy()
    return frame[period.mask(frame[column])].reset_index(drop=True)


def as_records(source: Source) -> Records:
    """A :class:`Records` bundle from a store (read now) or the bundle itself."""
    if isinstance(source, Records):
        return source
    return Records.from_store(source)


# --- small helpers ---------------------------------------------------------------------


def _names(records: Records, kind: str, column: str = "name") -> dict[int, str]:
    frame = records[kind]
    if frame.empty:
        return {}
    labels = frame[column].astype("object").where(frame[column].notna(), frame["ref"])
    return {int(i): str(n) for i, n in zip(frame["id"], labels, strict=True) if pd.notna(i)}


def _label(ids: pd.Series, names: Mapping[int, str]) -> pd.Series:
    return pd.Series(
        [names.get(int(i), UNKNOWN) if pd.notna(i) else UNKNOWN for i in ids],
        index=ids.index,
        dtype="object",
    )


def _areas(frame: pd.DataFrame, column: str = "area_m2") -> pd.Series:
    """The recorded area, or the geometry's where none was recorded."""
    area = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    if isinstance(frame, gpd.GeoDataFrame) and area.isna().any():
        area = area.fillna(frame.geometry.area)
    return area.fillna(0.0)


def _month(dates: pd.Series) -> pd.Series:
    return dates.dt.strftime("%Y-%m").astype("object").where(dates.notna(), UNKNOWN)


def _district_by_location(records: Records, geometry: gpd.GeoSeries) -> pd.Series:
    """District id of each geometry's representative point (NA outside every district)."""
    districts = records.geo("districts")
    out = pd.Series(pd.NA, index=geometry.index, dtype="Int64")
    if districts.empty or geometry.empty:
        return out
    points = gpd.GeoDataFrame(
        {"row": np.arange(len(geometry))},
        geometry=geometry.representative_point().to_numpy(),
        crs=records.crs,
    )
    hit = gpd.sjoin(points, districts[["id", "geometry"]].to_crs(records.crs), predicate="within")
    hit = hit.drop_duplicates("row")
    values = out.to_numpy(copy=True)
    values[hit["row"].to_numpy()] = hit["id"].to_numpy()
    return pd.Series(values, index=geometry.index, dtype="Int64")


def _nearest(left: gpd.GeoDataFrame, right: gpd.GeoDataFrame, right_name: str) -> pd.DataFrame:
    """For each row of ``left``: the nearest row of ``right`` (its id) and the distance."""
    result = pd.DataFrame(
        {f"{right_name}_id": pd.Series(pd.NA, index=left.index, dtype="Int64")},
        index=left.index,
    )
    result["distance_m"] = np.nan
    valid = left[left.geometry.notna() & ~left.geometry.is_empty]
    targets = right[right.geometry.notna() & ~right.geometry.is_empty]
    if valid.empty or targets.empty:
        return result
    probe = gpd.GeoDataFrame(
        {"row_key": valid.index.to_numpy()}, geometry=valid.geometry.to_numpy(), crs=left.crs
    )
    pool = gpd.GeoDataFrame(
        {"target_id": targets["id"].to_numpy()},
        geometry=targets.geometry.to_numpy(),
        crs=right.crs,
    )
    joined = gpd.sjoin_nearest(probe, pool, how="left", distance_col="distance_m")
    # equidistant targets give several rows; keep the lowest id so the answer is stable
    joined = joined.sort_values(["row_key", "distance_m", "target_id"]).drop_duplicates("row_key")
    joined = joined.set_index("row_key")
    result.loc[joined.index, f"{right_name}_id"] = joined["target_id"].astype("Int64")
    result.loc[joined.index, "distance_m"] = joined["distance_m"].astype("float64")
    return result


def _count_table(
    frame: pd.DataFrame, by: str, columns: str, order: tuple[str, ...], values: str | None = None
) -> pd.DataFrame:
    """A table of ``by`` rows × ``columns`` (in ``order``) with a total column."""
    if frame.empty:
        empty = {c: pd.Series(dtype="float64") for c in (*order, "total")}
        return pd.DataFrame({by: pd.Series(dtype="object"), **empty})
    if values is None:
        grouped = frame.groupby([by, columns]).size()
    else:
        grouped = frame.groupby([by, columns])[values].sum()
    table = grouped.unstack(columns, fill_value=0)
    extra = [c for c in table.columns if c not in order]
    table = table.reindex(columns=[*order, *sorted(extra)], fill_value=0)
    table["total"] = table.sum(axis=1)
    return table.reset_index()


def _order_rows(table: pd.DataFrame, by: str, order: tuple[str, ...]) -> pd.DataFrame:
    rank = {v: i for i, v in enumerate(order)}
    key = table[by].map(lambda v: rank.get(v, len(rank)))
    return table.assign(_rank=key).sort_values(["_rank", by]).drop(columns="_rank")


# --- land release -----------------------------------------------------------------------


def releases(source: Source, period: Period = ALL_TIME) -> pd.DataFrame:
    """Land released in the period, one row per release.

    Columns: ``id``, ``ref``, ``method``, ``released_on``, ``month``,
    ``area_m2``, ``activity_id``, ``activity_type``, ``hazard_id``,
    ``district``, ``organisation``.
    """
    records = as_records(source)
    full = records.memo("releases", lambda: _releases(records))
    return _in_period(full, "released_on", period)


def _releases(records: Records) -> pd.DataFrame:
    rel = records.geo("releases")
    acts = records["activities"].set_index("id")
    hazards = records["hazards"].set_index("id")
    teams = records["teams"].set_index("id")
    act_id = rel["activity_id"]
    hazard_id = act_id.map(acts["hazard_id"]).astype("Int64") if len(acts) else act_id * pd.NA
    district_id = hazard_id.map(hazards["district_id"]) if len(hazards) else hazard_id * pd.NA
    district_id = pd.Series(district_id, index=rel.index, dtype="Int64")
    missing = district_id.isna()
    if missing.any():
        district_id[missing] = _district_by_location(records, rel.geometry[missing])
    org_id = act_id.map(acts["organisation_id"]) if len(acts) else act_id * pd.NA
    org_id = pd.Series(org_id, index=rel.index, dtype="Int64")
    if len(acts) and len(teams):
        by_team = act_id.map(acts["team_id"]).map(teams["organisation_id"])
        org_id = org_id.fillna(pd.Series(by_team, index=rel.index, dtype="Int64"))
    activity_type = act_id.map(acts["type"]) if len(acts) else act_id * pd.NA
    out = pd.DataFrame(
        {
            "id": rel["id"],
            "ref": rel["ref"],
            "method": rel["method"].fillna(UNKNOWN),
            "released_on": rel["released_on"],
            "month": _month(rel["released_on"]),
            "area_m2": _areas(rel),
            "activity_id": act_id,
            "activity_type": pd.Series(activity_type, index=rel.index).fillna(UNKNOWN),
            "hazard_id": pd.Series(hazard_id, index=rel.index, dtype="Int64"),
            "district": _label(district_id, _names(records, "districts")),
            "organisation": _label(org_id, _names(records, "organisations")),
        },
        index=rel.index,
    )
    return out.reset_index(drop=True)


def released_by(source: Source, period: Period = ALL_TIME, *, by: str = "month") -> pd.DataFrame:
    """Area released (m²) per ``by`` (month, district, organisation, activity_type).

    Columns: ``by``, ``cancelled``, ``reduced``, ``cleared``, ``total``.
    """
    frame = releases(source, period)
    if by not in ("month", "district", "organisation", "activity_type"):
        msg = f"cannot break land release down by {by!r}"
        raise ConfigError(msg)
    table = _count_table(frame, by, "method", RELEASE_METHODS, values="area_m2")
    return (
        table.sort_values(by).reset_index(drop=True)
        if by == "month"
        else (table.sort_values("total", ascending=False).reset_index(drop=True))
    )


# --- devices ---------------------------------------------------------------------------


def finds(source: Source, period: Period = ALL_TIME) -> pd.DataFrame:
    """Devices found in the period: one row per find with its ``quantity`` (default 1)."""
    records = as_records(source)
    full = records.memo("finds", lambda: _finds(records))
    return _in_period(full, "found_on", period)


def _finds(records: Records) -> pd.DataFrame:
    frame = records["finds"]
    return pd.DataFrame(
        {
            "id": frame["id"],
            "ref": frame["ref"],
            "found_on": frame["found_on"],
            "month": _month(frame["found_on"]),
            "category": frame["category"].fillna(UNKNOWN),
            "model": frame["model"].astype("object").fillna(UNKNOWN),
            "disposal": frame["disposal"].astype("object").fillna(UNKNOWN),
            "quantity": frame["quantity"].fillna(1).astype("int64"),
            "hazard_id": frame["hazard_id"],
        }
    ).reset_index(drop=True)


def devices_by_category(source: Source, period: Period = ALL_TIME) -> pd.DataFrame:
    """Devices found per category, with how they were disposed of.

    Columns: ``category``, ``found``, ``destroyed`` (in place or removed to a
    demolition site), ``rendered_safe``, ``pending`` (pending or not recorded).
    """
    frame = finds(source, period)
    out = pd.DataFrame({"category": list(DEVICE_CATEGORIES)})
    if frame.empty:
        for column in ("found", "destroyed", "rendered_safe", "pending"):
            out[column] = 0
        return out
    frame = frame.assign(
        destroyed=frame["quantity"].where(frame["disposal"].isin(DESTROYED), 0),
        rendered_safe=frame["quantity"].where(frame["disposal"] == "rendered_safe", 0),
        pending=frame["quantity"].where(~frame["disposal"].isin((*DESTROYED, "rendered_safe")), 0),
    )
    sums = frame.groupby("category")[["quantity", "destroyed", "rendered_safe", "pending"]].sum()
    sums = sums.rename(columns={"quantity": "found"})
    extra = sorted(set(sums.index) - set(DEVICE_CATEGORIES))
    out = pd.DataFrame({"category": [*DEVICE_CATEGORIES, *extra]})
    out = out.merge(sums, left_on="category", right_index=True, how="left").fillna(0)
    for column in ("found", "destroyed", "rendered_safe", "pending"):
        out[column] = out[column].astype("int64")
    return out.reset_index(drop=True)


def devices_by_model(source: Source, period: Period = ALL_TIME) -> pd.DataFrame:
    """Devices found per category and model, most found first."""
    frame = finds(source, period)
    if frame.empty:
        return pd.DataFrame(columns=["category", "model", "found"])
    table = frame.groupby(["category", "model"], as_index=False).agg(found=("quantity", "sum"))
    return table.sort_values(
        ["found", "category", "model"], ascending=[False, True, True]
    ).reset_index(drop=True)


# --- hazards ----------------------------------------------------------------------------


def _closed_on(records: Records) -> pd.Series:
    """Closing date of each hazard that is closed or handed over: its last release."""
    hazards = records["hazards"]
    closed = hazards[hazards["status"].isin(("closed", "handed_over"))]
    rel = records["releases"]
    acts = records["activities"]
    if closed.empty:
        return pd.Series(dtype="datetime64[ns]")
    last = pd.Series(pd.NaT, index=closed["id"].astype("int64"), dtype="datetime64[ns]")
    if not rel.empty and not acts.empty:
        hazard_of = rel["activity_id"].map(acts.set_index("id")["hazard_id"])
        latest = rel.assign(hazard_id=hazard_of).groupby("hazard_id")["released_on"].max()
        latest.index = latest.index.astype("int64")
        last = latest.reindex(last.index).astype("datetime64[ns]")
    return last


def hazards_remaining(source: Source, at: dt.date | None = None) -> pd.DataFrame:
    """Hazards open at the date ``at`` (today's records when None), one row each.

    ``remaining_m2`` is the hazard's recorded area if it is still open (the
    store keeps the polygon that remains after each reduction), nothing if it
    is closed, plus the land released on it after ``at``: what was still
    suspected or confirmed on that date.
    Columns: ``id``, ``ref``, ``type``, ``contamination``, ``district``,
    ``area_m2``, ``remaining_m2``, ``recorded_on``.
    """
    records = as_records(source)
    return records.memo(("hazards_remaining", at), lambda: _hazards_remaining(records, at)).copy()


def _hazards_remaining(records: Records, at: dt.date | None) -> pd.DataFrame:
    hazards = records.geo("hazards")
    when = pd.Timestamp(at) if at is not None else None
    keep = pd.Series(True, index=hazards.index)
    if when is not None:
        keep &= hazards["recorded_on"].isna() | (hazards["recorded_on"] <= when)
    closed = records.memo("closed_on", lambda: _closed_on(records))
    is_closed = hazards["status"].isin(("closed", "handed_over"))
    if when is None:
        keep &= ~is_closed
    else:
        closing = hazards["id"].map(lambda i: closed.get(int(i), pd.NaT) if pd.notna(i) else pd.NaT)
        # a closed hazard without a dated release is taken as closed all along
        keep &= ~is_closed | (pd.to_datetime(closing) > when)
    open_ = hazards[keep]
    # the store keeps each hazard's current polygon (what remains after reductions);
    # going back in time adds back what was released on it since
    released_since = pd.Series(0.0, index=open_.index)
    rel = records["releases"]
    acts = records["activities"]
    if when is not None and not rel.empty and not acts.empty and not open_.empty:
        later = rel[rel["released_on"] > when]
        hazard_of = later["activity_id"].map(acts.set_index("id")["hazard_id"])
        per_hazard = _areas(later).groupby(hazard_of).sum()
        released_since = open_["id"].map(per_hazard).astype("float64").fillna(0.0)
    still_open = ~open_["status"].isin(("closed", "handed_over"))
    district_id = open_["district_id"].copy()
    missing = district_id.isna()
    if missing.any():
        district_id[missing] = _district_by_location(records, open_.geometry[missing])
    area = _areas(open_)
    out = pd.DataFrame(
        {
            "id": open_["id"],
            "ref": open_["ref"],
            "type": open_["type"].fillna(UNKNOWN),
            "contamination": open_["contamination"].fillna(UNKNOWN),
            "district": _label(district_id, _names(records, "districts")),
            "area_m2": area,
            "remaining_m2": area.where(still_open, 0.0) + released_since,
            "recorded_on": open_["recorded_on"],
        }
    )
    return out.reset_index(drop=True)


def contamination_table(source: Source, at: dt.date | None = None) -> pd.DataFrame:
    """Hazards remaining by type (SHA, CHA) and contamination: count and area (m²)."""
    frame = hazards_remaining(source, at)
    columns = ["type", "contamination", "hazards", "remaining_m2"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    table = frame.groupby(["type", "contamination"], as_index=False).agg(
        hazards=("id", "size"), remaining_m2=("remaining_m2", "sum")
    )
    return table.sort_values(["type", "remaining_m2"], ascending=[False, False]).reset_index(
        drop=True
    )[columns]


def hazards_by_district(source: Source, at: dt.date | None = None) -> pd.DataFrame:
    """Hazards remaining per district: SHA and CHA counts, area remaining (m²)."""
    frame = hazards_remaining(source, at)
    columns = ["district", "SHA", "CHA", "hazards", "remaining_m2"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    counts = frame.groupby(["district", "type"]).size().unstack("type", fill_value=0)
    counts = counts.reindex(columns=["SHA", "CHA"], fill_value=0)
    counts["hazards"] = counts.sum(axis=1)
    counts["remaining_m2"] = frame.groupby("district")["remaining_m2"].sum()
    table = counts.reset_index().sort_values("remaining_m2", ascending=False)
    return table.reset_index(drop=True)[columns]


# --- casualties -------------------------------------------------------------------------


def accidents(source: Source, period: Period = ALL_TIME) -> gpd.GeoDataFrame:
    """Accidents in the period with their victims counted (``killed``, ``injured``)."""
    records = as_records(source)
    full = records.memo("accidents", lambda: _accidents(records))
    return cast(gpd.GeoDataFrame, _in_period(full, "occurred_on", period))


def _accidents(records: Records) -> gpd.GeoDataFrame:
    acc = records.geo("accidents")
    vic = records["victims"]
    killed = vic[vic["outcome"] == "killed"].groupby("accident_id").size()
    injured = vic[vic["outcome"] == "injured"].groupby("accident_id").size()
    district_id = acc["district_id"].copy()
    missing = district_id.isna()
    if missing.any():
        district_id[missing] = _district_by_location(records, acc.geometry[missing])
    out = gpd.GeoDataFrame(
        {
            "id": acc["id"],
            "ref": acc["ref"],
            "occurred_on": acc["occurred_on"],
            "month": _month(acc["occurred_on"]),
            "activity": acc["activity"].fillna(UNKNOWN),
            "device_category": acc["device_category"].fillna(UNKNOWN),
            "hazard_id": acc["hazard_id"],
            "settlement_id": acc["settlement_id"],
            "district": _label(district_id, _names(records, "districts")),
            "killed": acc["id"].map(killed).fillna(0).astype("int64"),
            "injured": acc["id"].map(injured).fillna(0).astype("int64"),
        },
        geometry=acc.geometry,
        crs=records.crs,
    )
    return out.reset_index(drop=True)


def _age_group(age: pd.Series) -> pd.Series:
    group = np.where(age.isna(), UNKNOWN, np.where(age.fillna(0) < CHILD_AGE, "child", "adult"))
    return pd.Series(group, index=age.index, dtype="object")


def victims(source: Source, period: Period = ALL_TIME) -> pd.DataFrame:
    """Victims of the accidents in the period, one row each.

    Columns: ``id``, ``accident_id``, ``occurred_on``, ``month``, ``year``,
    ``outcome``, ``group``, ``sex``, ``age``, ``age_group`` (child under 18,
    adult, unknown), ``person`` (man, woman, boy, girl or unknown),
    ``activity`` (at the time), ``device_category``, ``district``.
    """
    records = as_records(source)
    full = records.memo("victims", lambda: _victims(records))
    return _in_period(full, "occurred_on", period)


def _victims(records: Records) -> pd.DataFrame:
    acc = accidents(records).set_index("id")
    vic = records["victims"]
    vic = vic[vic["accident_id"].isin(acc.index)]
    age = pd.to_numeric(vic["age"], errors="coerce")
    age_group = _age_group(age)
    sex = vic["sex"].astype("object").fillna(UNKNOWN)
    person = np.select(
        [
            (age_group == "adult") & (sex == "male"),
            (age_group == "adult") & (sex == "female"),
            (age_group == "child") & (sex == "male"),
            (age_group == "child") & (sex == "female"),
        ],
        ["man", "woman", "boy", "girl"],
        default=UNKNOWN,
    )
    when = vic["accident_id"].map(acc["occurred_on"])
    out = pd.DataFrame(
        {
            "id": vic["id"],
            "accident_id": vic["accident_id"],
            "occurred_on": when,
            "month": _month(pd.to_datetime(when)),
            "year": pd.to_datetime(when).dt.year.astype("Int64"),
            "outcome": vic["outcome"].fillna(UNKNOWN),
            "group": vic["group"].fillna(UNKNOWN),
            "sex": sex,
            "age": age.astype("Int64"),
            "age_group": age_group,
            "person": pd.Series(person, index=vic.index, dtype="object"),
            "activity": vic["accident_id"].map(acc["activity"]).fillna(UNKNOWN),
            "device_category": vic["accident_id"].map(acc["device_category"]).fillna(UNKNOWN),
            "district": vic["accident_id"].map(acc["district"]).fillna(UNKNOWN),
        }
    )
    return out.reset_index(drop=True)


PEOPLE = ("man", "woman", "boy", "girl", UNKNOWN)


def victims_by(source: Source, period: Period = ALL_TIME, *, by: str = "group") -> pd.DataFrame:
    """Victims killed and injured per ``by``: group, person, sex, age_group, activity,
    device_category, district, month or year. Columns: ``by``, ``killed``,
    ``injured``, ``total``."""
    frame = victims(source, period)
    orders: dict[str, tuple[str, ...]] = {
        "group": VICTIM_GROUPS,
        "person": PEOPLE,
        "sex": ("male", "female", UNKNOWN),
        "age_group": ("child", "adult", UNKNOWN),
        "activity": (*VICTIM_ACTIVITIES, UNKNOWN),
        "device_category": (*DEVICE_CATEGORIES, UNKNOWN),
    }
    if by not in (*orders, "district", "month", "year"):
        msg = f"cannot break victims down by {by!r}"
        raise ConfigError(msg)
    table = _count_table(frame, by, "outcome", OUTCOMES)
    if by in orders:
        # every category appears, also with zero victims, so tables compare across periods
        full = pd.DataFrame({by: list(orders[by])})
        table = full.merge(table, on=by, how="outer").fillna(0)
        table = _order_rows(table, by, orders[by])
        if by in ("activity", "device_category"):
            table = table[table["total"] > 0]
        elif by != "group":
            table = table[(table["total"] > 0) | table[by].ne(UNKNOWN)]
    elif by in ("month", "year"):
        table = table.sort_values(by)
    else:
        table = table.sort_values("total", ascending=False)
    for column in (*OUTCOMES, "total"):
        if column in table:
            table[column] = table[column].astype("int64")
    return table.reset_index(drop=True)


def casualty_trend(source: Source, period: Period = ALL_TIME) -> pd.DataFrame:
    """Accidents and victims per year with the change on the year before (%).

    Columns: ``year``, ``accidents``, ``killed``, ``injured``, ``victims``,
    ``change_pct`` (victims; empty for the first year or after a zero year).
    """
    records = as_records(source)
    acc = accidents(records, period)
    columns = ["year", "accidents", "killed", "injured", "victims", "change_pct"]
    dated = acc[acc["occurred_on"].notna()]
    if dated.empty:
        return pd.DataFrame(columns=columns)
    years = dated["occurred_on"].dt.year
    table = dated.groupby(years).agg(
        accidents=("id", "size"), killed=("killed", "sum"), injured=("injured", "sum")
    )
    table = table.reindex(range(int(years.min()), int(years.max()) + 1), fill_value=0)
    table.index.name = "year"
    table["victims"] = table["killed"] + table["injured"]
    before = table["victims"].shift(1)
    table["change_pct"] = np.where(before > 0, 100.0 * (table["victims"] - before) / before, np.nan)
    return table.reset_index()[columns]


def trend_per_year(trend: pd.DataFrame) -> float | None:
    """Least-squares slope of victims per year (victims/year per year); None under 3 years."""
    if len(trend) < 3:
        return None
    slope = np.polyfit(trend["year"].astype(float), trend["victims"].astype(float), 1)[0]
    return float(slope)


# --- casualty analytics -----------------------------------------------------------------------


@dataclass(frozen=True)
class Hotspots:
    """Accident clusters in space and time.

    ``accidents``: one row per accident (``id``, ``ref``, ``x``, ``y``,
    ``occurred_on``, ``cluster``; -1 is an accident in no cluster).
    ``clusters``: one row per cluster (``cluster``, ``accidents``,
    ``victims``, ``killed``, ``x``, ``y``, ``radius_m``, ``first``, ``last``,
    ``district``, ``settlement``), most victims first.
    """

    accidents: pd.DataFrame
    clusters: pd.DataFrame
    eps_m: float
    eps_days: float
    min_accidents: int


def accident_hotspots(
    source: Source,
    period: Period = ALL_TIME,
    *,
    eps_m: float = 3000.0,
    eps_days: float = 730.0,
    min_accidents: int = 3,
) -> Hotspots:
    """Clusters of accidents close in space *and* time (DBSCAN).

    Coordinates are scaled so that one unit is ``eps_m`` metres in space and
    ``eps_days`` days in time; DBSCAN with radius 1 then links accidents
    within that ellipsoid, and a cluster needs ``min_accidents`` accidents
    around a core one. Undated accidents take no part.
    """
    from sklearn.cluster import DBSCAN

    if eps_m <= 0 or eps_days <= 0 or min_accidents < 2:
        msg = "hotspot radii must be positive and a hotspot needs at least 2 accidents"
        raise ConfigError(msg)
    records = as_records(source)
    acc = accidents(records, period)
    acc = acc[acc["occurred_on"].notna() & acc.geometry.notna() & ~acc.geometry.is_empty]
    points = acc.geometry.representative_point()
    base = pd.DataFrame(
        {
            "id": acc["id"],
            "ref": acc["ref"],
            "x": points.x.to_numpy(),
            "y": points.y.to_numpy(),
            "occurred_on": acc["occurred_on"],
            "cluster": -1,
        }
    ).reset_index(drop=True)
    cluster_columns = [
        "cluster",
        "accidents",
        "victims",
        "killed",
        "x",
        "y",
        "radius_m",
        "first",
        "last",
        "district",
        "settlement",
    ]
    if len(base) < min_accidents:
        return Hotspots(base, pd.DataFrame(columns=cluster_columns), eps_m, eps_days, min_accidents)
    days = (base["occurred_on"] - pd.Timestamp("1990-01-01")).dt.days.to_numpy(dtype=float)
    features = np.column_stack([base["x"] / eps_m, base["y"] / eps_m, days / eps_days])
    labels = DBSCAN(eps=1.0, min_samples=min_accidents).fit_predict(features)
    # number clusters by first accident so labels are stable and readable
    order: dict[int, int] = {}
    for label, _when in sorted(
        zip(labels, base["occurred_on"], strict=True), key=lambda p: (p[1], p[0])
    ):
        if label >= 0 and label not in order:
            order[int(label)] = len(order) + 1
    base["cluster"] = [order.get(int(label), -1) for label in labels]
    acc = acc.reset_index(drop=True)
    settlements = records.geo("settlements")
    settlement_names = _names(records, "settlements")
    rows: list[dict[str, Any]] = []
    for cluster in sorted(set(base["cluster"]) - {-1}):
        members = base[base["cluster"] == cluster]
        cx, cy = float(members["x"].mean()), float(members["y"].mean())
        radius = float(np.hypot(members["x"] - cx, members["y"] - cy).max())
        sub = acc.loc[members.index]
        centre = gpd.GeoDataFrame(geometry=gpd.points_from_xy([cx], [cy]), crs=records.crs)
        near = _nearest(centre, settlements, "settlement")
        sid = near["settlement_id"].iloc[0]
        rows.append(
            {
                "cluster": int(cluster),
                "accidents": len(members),
                "victims": int(sub["killed"].sum() + sub["injured"].sum()),
                "killed": int(sub["killed"].sum()),
                "x": cx,
                "y": cy,
                "radius_m": radius,
                "first": members["occurred_on"].min(),
                "last": members["occurred_on"].max(),
                "district": sub["district"].mode().iloc[0],
                "settlement": settlement_names.get(int(sid), UNKNOWN) if pd.notna(sid) else UNKNOWN,
            }
        )
    clusters = pd.DataFrame(rows, columns=cluster_columns)
    if not clusters.empty:
        clusters = clusters.sort_values(["victims", "accidents"], ascending=False)
    return Hotspots(base, clusters.reset_index(drop=True), eps_m, eps_days, min_accidents)


def link_accidents(source: Source, period: Period = ALL_TIME) -> pd.DataFrame:
    """Each accident linked to the hazard it happened in, or else the nearest one.

    Columns: ``id``, ``ref``, ``hazard_id``, ``hazard_ref``, ``distance_m``
    (0 inside), ``inside``, ``recorded_hazard_id`` (the link typed on the
    record) and ``agrees`` (the recorded link is the one found, or none was
    recorded).
    """
    records = as_records(source)
    full = records.memo("accident_links", lambda: _link_accidents(records))
    if period.is_all:
        return full.copy()
    return full[full["id"].isin(accidents(records, period)["id"])].reset_index(drop=True)


def _link_accidents(records: Records) -> pd.DataFrame:
    acc = accidents(records)
    hazards = records.geo("hazards")
    near = _nearest(acc, hazards, "hazard")
    refs = dict(zip(hazards["id"].astype("Int64"), hazards["ref"], strict=True))
    out = pd.DataFrame(
        {
            "id": acc["id"],
            "ref": acc["ref"],
            "hazard_id": near["hazard_id"],
            "hazard_ref": [refs.get(i) if pd.notna(i) else None for i in near["hazard_id"]],
            "distance_m": near["distance_m"],
            "inside": near["distance_m"].fillna(np.inf) <= 0.0,
            "recorded_hazard_id": acc["hazard_id"],
        }
    )
    out["agrees"] = out["recorded_hazard_id"].isna() | (
        out["recorded_hazard_id"] == out["hazard_id"]
    ).fillna(False)
    return out.reset_index(drop=True)


def _settlement_of(records: Records, frame: gpd.GeoDataFrame) -> pd.Series:
    """The recorded settlement of each row, else the nearest settlement."""
    sid = frame["settlement_id"].astype("Int64").copy()
    missing = sid.isna()
    if missing.any():
        near = _nearest(frame[missing], records.geo("settlements"), "settlement")
        sid[missing] = near["settlement_id"]
    return sid


def settlements_without_eore(
    source: Source, as_of: dt.date | None = None, *, months: int = 12
) -> pd.DataFrame:
    """Settlements with accidents (up to ``as_of``) but no EORE in the ``months`` before it.

    An accident or session without a recorded settlement counts for the
    nearest settlement. Columns: ``settlement_id``, ``settlement``,
    ``district``, ``accidents``, ``victims``, ``last_accident``,
    ``last_eore`` (any time before ``as_of``, empty if never), most recent
    accident first.
    """
    records = as_records(source)
    columns = [
        "settlement_id",
        "settlement",
        "district",
        "accidents",
        "victims",
        "last_accident",
        "last_eore",
    ]
    acc_all = accidents(records)
    if as_of is None:
        dated = pd.concat(
            [acc_all["occurred_on"], records["eore_sessions"]["held_on"]], ignore_index=True
        ).dropna()
        as_of = dated.max().date() if not dated.empty else dt.date.today()
    until = Period(None, as_of)
    acc = records.memo(
        "accidents_placed", lambda: acc_all.assign(settlement_id=_settlement_of(records, acc_all))
    )
    acc = acc[until.mask(acc["occurred_on"])]
    if acc.empty:
        return pd.DataFrame(columns=columns)
    eore_all = records.geo("eore_sessions")
    eore = records.memo(
        "eore_placed",
        lambda: (
            eore_all.assign(settlement_id=_settlement_of(records, eore_all))
            if not eore_all.empty
            else eore_all
        ),
    )
    eore = eore[until.mask(eore["held_on"])]
    window = until.months_back(months) if until.end else until
    recent = eore[window.mask(eore["held_on"])] if not eore.empty else eore
    reached = set(recent["settlement_id"].dropna().astype(int)) if not recent.empty else set()
    grouped = (
        acc.dropna(subset=["settlement_id"])
        .groupby("settlement_id")
        .agg(
            accidents=("id", "size"),
            killed=("killed", "sum"),
            injured=("injured", "sum"),
            last_accident=("occurred_on", "max"),
        )
    )
    grouped = grouped[~grouped.index.astype(int).isin(reached)]
    if grouped.empty:
        return pd.DataFrame(columns=columns)
    last_eore = (
        eore.dropna(subset=["settlement_id"]).groupby("settlement_id")["held_on"].max()
        if not eore.empty
        else pd.Series(dtype="datetime64[ns]")
    )
    settlements = records["settlements"].set_index("id")
    district_names = _names(records, "districts")
    ids = grouped.index.astype("int64")
    district_ids = pd.Series(ids.map(settlements["district_id"]), dtype="Int64")
    out = pd.DataFrame(
        {
            "settlement_id": ids,
            "settlement": _label(pd.Series(ids), _names(records, "settlements")).to_numpy(),
            "district": _label(district_ids, district_names).to_numpy(),
            "accidents": grouped["accidents"].to_numpy(),
            "victims": (grouped["killed"] + grouped["injured"]).to_numpy(),
            "last_accident": grouped["last_accident"].to_numpy(),
            "last_eore": pd.Series(ids.map(last_eore)).to_numpy(),
        }
    )
    return out.sort_values(["last_accident", "victims"], ascending=False).reset_index(drop=True)


# --- risk education ---------------------------------------------------------------------------

BENEFICIARIES = ("men", "women", "boys", "girls")


def eore_sessions(source: Source, period: Period = ALL_TIME) -> pd.DataFrame:
    """EORE sessions in the period with beneficiaries by sex and age, and materials."""
    records = as_records(source)
    full = records.memo("eore_sessions", lambda: _eore_sessions(records))
    return _in_period(full, "held_on", period)


def _eore_sessions(records: Records) -> pd.DataFrame:
    frame = records["eore_sessions"]
    out = pd.DataFrame(
        {
            "id": frame["id"],
            "held_on": frame["held_on"],
            "month": _month(frame["held_on"]),
            "method": frame["method"].fillna(UNKNOWN),
            **{b: frame[b].fillna(0).astype("int64") for b in BENEFICIARIES},
            "materials": frame["materials"].fillna(0).astype("int64"),
            "materials_type": frame["materials_type"].astype("object").fillna(UNKNOWN),
        }
    )
    out["beneficiaries"] = out[list(BENEFICIARIES)].sum(axis=1)
    return out.reset_index(drop=True)


def eore_by(source: Source, period: Period = ALL_TIME, *, by: str = "method") -> pd.DataFrame:
    """EORE per ``by`` (method, month, materials_type): sessions, men, women, boys,
    girls, beneficiaries and materials."""
    frame = eore_sessions(source, period)
    if by not in ("method", "month", "materials_type"):
        msg = f"cannot break EORE down by {by!r}"
        raise ConfigError(msg)
    columns = [by, "sessions", *BENEFICIARIES, "beneficiaries", "materials"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    table = frame.groupby(by).agg(
        sessions=("id", "size"),
        **{b: (b, "sum") for b in (*BENEFICIARIES, "beneficiaries", "materials")},
    )
    table = table.reset_index()
    table = _order_rows(table, "method", EORE_METHODS) if by == "method" else table.sort_values(by)
    return table.reset_index(drop=True)[columns]


# --- resources ----------------------------------------------------------------------------------


def teams_and_staff(source: Source, at: dt.date | None = None) -> pd.DataFrame:
    """Teams per type with staff by sex and assets in service.

    Columns: ``type``, ``teams``, ``staff_male``, ``staff_female``,
    ``staff``, ``assets`` (active or in maintenance, commissioned by ``at``),
    ``deminers`` (people working with those assets).
    """
    records = as_records(source)
    teams = records["teams"]
    assets = records["assets"]
    if at is not None:
        commissioned = pd.to_datetime(assets["commissioned_on"], errors="coerce")
        assets = assets[commissioned.isna() | (commissioned <= pd.Timestamp(at))]
    assets = assets[assets["status"].fillna("active") != "retired"]
    columns = ["type", "teams", "staff_male", "staff_female", "staff", "assets", "deminers"]
    if teams.empty and assets.empty:
        return pd.DataFrame(columns=columns)
    team_table = (
        teams.assign(
            staff_male=teams["staff_male"].fillna(0), staff_female=teams["staff_female"].fillna(0)
        )
        .groupby(teams["type"].fillna(UNKNOWN))
        .agg(
            teams=("id", "size"),
            staff_male=("staff_male", "sum"),
            staff_female=("staff_female", "sum"),
        )
    )
    asset_table = assets.groupby(assets["type"].fillna(UNKNOWN)).agg(
        assets=("id", "size"), deminers=("deminers", lambda s: s.fillna(0).sum())
    )
    table = team_table.join(asset_table, how="outer").fillna(0)
    table["staff"] = table["staff_male"] + table["staff_female"]
    table.index.name = "type"
    table = table.reset_index()
    table = _order_rows(table, "type", ASSET_TYPES)
    for column in columns[1:]:
        table[column] = table[column].astype("int64")
    return table.reset_index(drop=True)[columns]


# --- the summary ---------------------------------------------------------------------------------


def last_month(source: Source, period: Period = ALL_TIME) -> str | None:
    """``YYYY-MM`` of the latest dated record in the period, or None if there is none.

    Planned activities do not count: their start date is yet to come.
    """
    records = as_records(source)
    latest: pd.Timestamp | None = None
    for kind, column in DATE_FIELDS.items():
        frame = records[kind]
        if kind == "activities":
            # a planned activity has not happened yet: it dates nothing
            frame = frame[frame["status"] != "planned"]
        dates = frame[column]
        dates = dates[period.mask(dates)].dropna()
        if not dates.empty and (latest is None or dates.max() > latest):
            latest = dates.max()
    return None if latest is None else latest.strftime("%Y-%m")


#: Titles of the summary's tables, in the order they are printed.
TABLE_TITLES: dict[str, str] = {
    "released_by_month": "Land released by month",
    "released_by_district": "Land released by district",
    "released_by_organisation": "Land released by organisation",
    "devices_by_category": "Devices found and disposed of, by category",
    "devices_by_model": "Devices found, by model",
    "contamination": "Hazards remaining at the end of the period, by type and contamination",
    "hazards_by_district": "Hazards remaining at the end of the period, by district",
    "victims_by_group": "Victims by group",
    "victims_by_person": "Victims by sex and age group (child under 18)",
    "victims_by_activity": "Victims by activity at the time",
    "victims_by_device": "Victims by device category",
    "casualty_trend": "Casualties per year",
    "hotspots": "Accident hotspots (clusters in space and time)",
    "accident_links": "Accidents linked to hazards (inside, or the nearest)",
    "settlements_without_eore": "Settlements with accidents but no EORE in the last 12 months",
    "eore_by_method": "Risk education by method",
    "teams_and_staff": "Teams, staff and assets",
}


@dataclass
class NationalSummary:
    """The national figures for one period: headline ``figures`` and ``tables``."""

    period: Period
    figures: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    hotspots: Hotspots | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the period, every figure at top level, and the tables."""
        return {
            "period": self.period.to_dict(),
            **self.figures,
            "tables": {name: frame_records(t) for name, t in self.tables.items()},
        }

    def write_json(self, path: Path) -> Path:
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        with replace_when_done(path) as tmp:
            tmp.write_text(text + "\n", encoding="utf-8")
        return path


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | dt.date):
        return value.isoformat()[:10]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if math.isnan(float(value)) else round(float(value), 3)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a table as JSON-ready dicts (dates ISO, NaN as null)."""
    return [
        {str(k): _json_value(v) for k, v in row.items()}
        for row in frame.astype("object").to_dict(orient="records")
    ]


def national_summary(
    source: Source,
    period: Period = ALL_TIME,
    *,
    hotspot_eps_m: float = 3000.0,
    hotspot_eps_days: float = 730.0,
    hotspot_min_accidents: int = 3,
) -> NationalSummary:
    """Every national figure for ``period``; the one function summary, reports and
    dashboards share."""
    records = as_records(source)
    rel = releases(records, period)
    area = rel.groupby("method")["area_m2"].sum()
    dev = devices_by_category(records, period)
    vic = victims(records, period)
    acc = accidents(records, period)
    eore = eore_sessions(records, period)
    remaining = hazards_remaining(records, period.end)
    staff = teams_and_staff(records, period.end)
    deminers = staff[staff["type"].isin(DEMINING_TEAM_TYPES)]
    hotspots = accident_hotspots(
        records,
        period,
        eps_m=hotspot_eps_m,
        eps_days=hotspot_eps_days,
        min_accidents=hotspot_min_accidents,
    )
    links = link_accidents(records, period)
    no_eore = settlements_without_eore(records, period.end)
    trend = casualty_trend(records, period)

    def count(mask: pd.Series) -> int:
        return int(mask.sum())

    figures: dict[str, Any] = {
        "last_month": last_month(records, period),
        "area_cancelled_m2": float(area.get("cancelled", 0.0)),
        "area_reduced_m2": float(area.get("reduced", 0.0)),
        "area_cleared_m2": float(area.get("cleared", 0.0)),
        "area_released_m2": float(rel["area_m2"].sum()),
        "releases": len(rel),
        "devices_found": int(dev["found"].sum()),
        "devices_destroyed": int(dev["destroyed"].sum()),
        "hazards_remaining": len(remaining),
        "hazards_remaining_sha": count(remaining["type"] == "SHA"),
        "hazards_remaining_cha": count(remaining["type"] == "CHA"),
        "area_remaining_m2": float(remaining["remaining_m2"].sum()),
        "accidents": len(acc),
        "victims_killed": count(vic["outcome"] == "killed"),
        "victims_injured": count(vic["outcome"] == "injured"),
        "victims_total": len(vic),
        "victims_civilian": count(vic["group"] == "civilian"),
        "victims_military": count(vic["group"] == "military"),
        "victims_deminer": count(vic["group"] == "deminer"),
        "victims_female": count(vic["sex"] == "female"),
        "victims_child": count(vic["age_group"] == "child"),
        "victims_per_year_trend": trend_per_year(trend),
        "hotspots": len(hotspots.clusters),
        "accidents_in_hotspots": count(hotspots.accidents["cluster"] > 0),
        "accidents_inside_hazard": count(links["inside"]),
        "settlements_without_eore": len(no_eore),
        "eore_sessions": len(eore),
        "eore_beneficiaries": int(eore["beneficiaries"].sum()),
        "eore_men": int(eore["men"].sum()),
        "eore_women": int(eore["women"].sum()),
        "eore_boys": int(eore["boys"].sum()),
        "eore_girls": int(eore["girls"].sum()),
        "eore_materials": int(eore["materials"].sum()),
        "teams": int(staff["teams"].sum()),
        "assets": int(staff["assets"].sum()),
        "staff_male": int(staff["staff_male"].sum()),
        "staff_female": int(staff["staff_female"].sum()),
        "deminers_male": int(deminers["staff_male"].sum()),
        "deminers_female": int(deminers["staff_female"].sum()),
    }
    tables: dict[str, pd.DataFrame] = {
        "released_by_month": released_by(records, period, by="month"),
        "released_by_district": released_by(records, period, by="district"),
        "released_by_organisation": released_by(records, period, by="organisation"),
        "devices_by_category": dev,
        "devices_by_model": devices_by_model(records, period),
        "contamination": contamination_table(records, period.end),
        "hazards_by_district": hazards_by_district(records, period.end),
        "victims_by_group": victims_by(records, period, by="group"),
        "victims_by_person": victims_by(records, period, by="person"),
        "victims_by_activity": victims_by(records, period, by="activity"),
        "victims_by_device": victims_by(records, period, by="device_category"),
        "casualty_trend": trend,
        "hotspots": hotspots.clusters,
        "accident_links": links,
        "settlements_without_eore": no_eore,
        "eore_by_method": eore_by(records, period, by="method"),
        "teams_and_staff": staff,
    }
    return NationalSummary(period, figures, tables, hotspots)
