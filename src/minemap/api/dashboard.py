"""The dashboard's series, from the national summary functions of :mod:`minemap.report.summary`.

The report, ``minemap summary`` and the web dashboards read the same
functions, so the page never disagrees with the printed report. Results are
kept while the records stay the same (the store's data version: any write,
through the API or by another process) and the plan's forecast file is
unchanged, since a dashboard is read far more often than records change and
reading every record of a national store takes seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from minemap.api.cache import data_version
from minemap.report import summary as national

if TYPE_CHECKING:
    from minemap.api.deps import AppState
    from minemap.store import Store

_cache: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()


def _cached(state: AppState, key: tuple[Any, ...], make: Any) -> Any:
    full = (id(state), data_version(state), *key)
    with _lock:
        if full in _cache:
            return _cache[full]
    value = make()
    with _lock:
        if len(_cache) > 64:
            _cache.clear()
        _cache[full] = value
    return value


def summary(state: AppState, store: Store, start: dt.date | None, end: dt.date | None) -> Any:
    """The national summary for a period, JSON-ready."""

    def make() -> Any:
        result = national.national_summary(store, national.Period(start, end))
        return result.to_dict()

    return _cached(state, ("summary", start, end), make)


def _table(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return national.frame_records(frame)


def series(state: AppState, store: Store) -> Any:
    """Casualties by month and group, release by method per month, EORE reach, progress."""

    def make() -> Any:
        records = national.Records.from_store(store)
        victims = national.victims(records)
        if len(victims):
            by_month = (
                victims.groupby(["month", "group"])
                .size()
                .unstack("group", fill_value=0)
                .sort_index()
            )
            casualties = {
                "months": [str(m) for m in by_month.index],
                "groups": {str(g): [int(v) for v in by_month[g]] for g in by_month.columns},
            }
        else:
            casualties = {"months": [], "groups": {}}
        released = national.released_by(records, by="month")
        eore = national.eore_by(records, by="month")
        remaining = national.hazards_remaining(records)
        progress = _progress(state, released, float(remaining["remaining_m2"].sum()))
        totals = national.national_summary(records).figures
        return {
            "figures": totals,
            "casualties_by_month": casualties,
            "released_by_month": _table(released),
            "eore_by_month": _table(eore),
            "progress": progress,
        }

    forecast = forecast_file(state.plan_dir)
    stamp = forecast.stat().st_mtime_ns if forecast is not None else None
    return _cached(state, ("series", stamp), make)


def _progress(state: AppState, released: pd.DataFrame, remaining_m2: float) -> dict[str, Any]:
    """Cumulative land released so far beside the planner's forecast, when there is one."""
    done = (
        released[["month", "total"]].copy()
        if len(released)
        else pd.DataFrame({"month": [], "total": []})
    )
    done["cumulative_m2"] = done["total"].cumsum()
    out: dict[str, Any] = {
        "actual": [
            {"month": str(m), "cumulative_m2": float(c)}
            for m, c in zip(done["month"], done["cumulative_m2"], strict=True)
        ],
        "remaining_m2": remaining_m2,
        "forecast": None,
    }
    forecast = forecast_file(state.plan_dir)
    if forecast is not None:
        out["forecast"] = json.loads(forecast.read_text(encoding="utf-8"))
    return out


def forecast_file(plan_dir: Path | None) -> Path | None:
    if plan_dir is None:
        return None
    path = plan_dir / "forecast.json"
    return path if path.is_file() else None


def plan_layer_file(plan_dir: Path) -> Path | None:
    """The plan folder's GeoPackage of hazards (priorities, planned dates), if any."""
    for name in ("planned_hazards.gpkg", "priorities.gpkg", "schedule.gpkg", "plan.gpkg"):
        if (plan_dir / name).is_file():
            return plan_dir / name
    found = sorted(plan_dir.glob("*.gpkg"))
    return found[0] if found else None
