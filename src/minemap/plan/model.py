"""The planning instance: land-release work items, asset types and months as arrays.

Every planning step (schedule, forecast, what-if, simulation) works on one
:class:`Instance` built by :func:`build_instance` from the prepared hazards
and assets of a :class:`~minemap.plan.inputs.PlanContext`. Each hazard
becomes one or two **items** of work, following the land-release model of
:mod:`minemap.plan.release`:

* an **NTS item** (survey types only), when the hazard has not been surveyed
  and a survey asset can work it: it covers the whole hazard and releases
  (cancels) ``release[k, i]`` of each hectare covered;
* a **TS and clearance item** (clearance types only): the land NTS leaves.
  Technical survey reduces its clean part at ``ts_speedup`` times the type's
  clearance rate and clearance clears the confirmed part, so its effective
  factor is the type's factor times the land released per hectare of
  clearance work. It releases all the land it works, and only land that NTS
  has covered (``gate``: the NTS item that goes first).

Arrays:

* ``factor[k, i]``: productivity multiplier of type ``k`` on item ``i`` (terrain,
  cover, contamination, technical survey; 0 where it cannot work);
* ``release[k, i]``: share of the land worked that is released;
* ``asset_days[a, m]``: effective working days of asset ``a`` in month ``m``
  (season, commissioning, removal), and ``asset_rate[a]`` its ha per day on
  reference ground. Capacity is counted in "reference ha": working ``x`` ha of
  item ``i`` uses ``x / factor[k, i]`` of it.

Area is in hectares inside the instance (better scaled for the solvers);
the benefit of a hazard is spread over its area (``density``), so releasing
part of a hazard releases that part of its benefit, discounted by month.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from minemap.errors import ConfigError
from minemap.plan.catalogue import Catalogue
from minemap.plan.inputs import add_months
from minemap.plan.release import (
    STAGE_CONFIRMED,
    STAGE_NEW,
    LandRelease,
    ReleaseHistory,
    land_release,
)

HA = 10_000.0
DEFAULT_DISCOUNT_PER_YEAR = 0.06  # assumption: the value of land released a year later, 6% less
MIN_ITEM_HA = 1e-6  # land left for TS and clearance below this is released by NTS alone


@dataclass
class Instance:
    """Arrays of one planning problem (see the module docstring)."""

    hazard_ids: np.ndarray  # per item: store id of its hazard
    hazard_refs: np.ndarray  # per item
    area: np.ndarray  # per item: ha of land it works
    p: np.ndarray  # per item: the hazard's expected contaminated share
    benefit: np.ndarray  # per hazard: benefit of releasing all of it
    types: list[str]
    survey: np.ndarray  # bool per type
    release_share: np.ndarray  # per type: share of the area covered that a survey settles
    factor: np.ndarray  # (K, I)
    release: np.ndarray  # (K, I)
    asset_ids: np.ndarray
    asset_refs: np.ndarray
    asset_type: np.ndarray  # index into types
    asset_rate: np.ndarray  # ha per working day on reference ground
    asset_days: np.ndarray  # (A, M) effective working days
    slot_days: np.ndarray  # per type
    cost_buy: np.ndarray  # per type
    cost_run_day: np.ndarray  # per type
    start: dt.date
    discount: np.ndarray  # (M,) discount factor of work done in month m
    item_hazard: np.ndarray  # (I,) row of the item's hazard in the hazards frame
    item_survey: np.ndarray  # (I,) True for an NTS item
    gate: np.ndarray  # (I,) the NTS item that must cover the land first, -1 for none
    density: np.ndarray  # (I,) benefit per ha released
    releasable: np.ndarray  # (I,) ha the item releases when done
    land: LandRelease
    base_factor: np.ndarray  # (K, H) terrain x cover x contamination factors
    ts_speedup: np.ndarray  # (K,) 0: the type does no technical survey
    productivity_cv: np.ndarray  # (K,) coefficient of variation of the type's productivity
    stoppage_share: np.ndarray  # (K,) mean share of a month the type loses to stoppages

    @property
    def n_items(self) -> int:
        return len(self.area)

    @property
    def n_hazards(self) -> int:
        return len(self.benefit)

    @property
    def n_assets(self) -> int:
        return len(self.asset_rate)

    @property
    def months(self) -> int:
        return self.asset_days.shape[1]

    @property
    def hazard_area(self) -> np.ndarray:
        """ha per hazard."""
        return self.land.area_m2 / HA

    def month_start(self, m: int) -> dt.date:
        return add_months(self.start, m)

    def type_capacity(self) -> np.ndarray:
        """(K, M) capacity in reference hectares per type and month."""
        cap = np.zeros((len(self.types), self.months))
        np.add.at(cap, self.asset_type, self.asset_rate[:, None] * self.asset_days)
        return cap

    def capable(self) -> np.ndarray:
        """(K, I) where type k can work item i and releases something there."""
        return (self.factor > 0) & (self.release > 0)

    def item_share(self) -> np.ndarray:
        """(I,) share of the land worked that the item releases."""
        return np.where(self.area > 0, self.releasable / np.maximum(self.area, 1e-300), 0.0)


def discount_factors(months: int, rate_per_year: float) -> np.ndarray:
    """Discount of work released in each month (mid-month), at ``rate_per_year``."""
    if rate_per_year < 0:
        msg = f"discount rate must not be negative, got {rate_per_year}"
        raise ConfigError(msg)
    monthly = (1.0 + rate_per_year) ** (1.0 / 12.0)
    return np.power(monthly, -(np.arange(months) + 0.5))


def _asset_days(
    assets: pd.DataFrame, catalogue: Catalogue, start: dt.date, months: int
) -> np.ndarray:
    days = np.zeros((len(assets), months))
    month_numbers = np.array([add_months(start, m).month for m in range(months)])
    starts = [add_months(start, m) for m in range(months)]
    for a, row in enumerate(assets.itertuples(index=False)):
        t = catalogue[str(row.type)]
        season = np.array([t.days_in_month(int(mn)) for mn in month_numbers])
        frm = getattr(row, "available_from", None)
        until = getattr(row, "available_until", None)
        ok = np.ones(months, dtype=bool)
        if isinstance(frm, dt.date) and not pd.isna(frm):
            # an asset commissioned mid-month starts work the month after
            ok &= np.array([s >= frm for s in starts])
        if isinstance(until, dt.date) and not pd.isna(until):
            ok &= np.array([s < until for s in starts])
        if bool(getattr(row, "in_maintenance", False)):
            ok[0] = False
        days[a] = np.where(ok, season, 0.0)
    return days


def base_factors(hazards: pd.DataFrame, catalogue: Catalogue) -> np.ndarray:
    """(K, H) terrain x cover x contamination factor of every type on every hazard."""
    terrain = hazards["terrain"].astype(str).to_numpy()
    cover = hazards["cover"].astype(str).to_numpy()
    contamination = hazards["contamination"].astype(str).to_numpy()
    out = np.zeros((len(catalogue.types), len(hazards)))
    for k, key in enumerate(catalogue.types):
        t = catalogue[key]
        tf = np.array([t.terrain.get(x, 0.0) for x in terrain])
        cf = np.array([t.cover.get(x, 0.0) for x in cover])
        pf = np.array([t.contamination.get(x, 0.0) for x in contamination])
        out[k] = tf * cf * pf
    return out


def hazard_land(
    hazards: pd.DataFrame,
    history: ReleaseHistory | None = None,
    p: np.ndarray | None = None,
) -> LandRelease:
    """The land-release model of ``hazards``: from ``history`` when given, else from
    the ``cancel_share``/``clear_share`` columns that :func:`~minemap.plan.inputs.load_context`
    adds, else from the map alone."""
    frame = hazards
    if p is not None:
        frame = hazards.assign(p_mean=np.clip(np.asarray(p, dtype="float64"), 0.0, 1.0))
    land = land_release(frame, history)
    if history is None and p is None and {"cancel_share", "clear_share"} <= set(hazards.columns):
        land.cancel = hazards["cancel_share"].to_numpy(dtype="float64")
        land.clear = hazards["clear_share"].to_numpy(dtype="float64")
    return land


def clearance_work(
    area: np.ndarray, clear: np.ndarray, stage: np.ndarray, ts_speedup: float
) -> np.ndarray:
    """Clearance-equivalent work (same units as ``area``) to release ``area`` by TS and clearance.

    ``clear`` is the part (same units) that needs clearance. TS covers the rest
    at ``ts_speedup`` times the clearance rate unless the hazard is already
    confirmed; a team clears everything when that is cheaper (dense
    contamination) or when it does no TS.
    """
    if ts_speedup <= 0:
        return area.copy()
    ts = np.where(stage < STAGE_CONFIRMED, area / ts_speedup, 0.0)
    return np.minimum(ts + clear, area)


def build_instance(
    hazards: pd.DataFrame,
    assets: pd.DataFrame,
    catalogue: Catalogue,
    start: dt.date,
    months: int,
    *,
    benefit: np.ndarray | None = None,
    discount_per_year: float = DEFAULT_DISCOUNT_PER_YEAR,
    p: np.ndarray | None = None,
    history: ReleaseHistory | None = None,
) -> Instance:
    """Arrays of the planning problem from prepared hazards and assets.

    ``benefit`` (per hazard) defaults to the expected contaminated area; ``p``
    (expected contaminated share per hazard) defaults to the hazards'
    ``p_mean``; ``history`` (the store's releases by method) sets how much
    NTS cancels and clearance clears (see :func:`hazard_land`).
    """
    if months < 1:
        msg = f"the horizon must be at least one month, got {months}"
        raise ConfigError(msg)
    types = list(catalogue.types)
    type_index = {k: i for i, k in enumerate(types)}
    land = hazard_land(hazards, history, p)
    H = len(hazards)
    hazard_ha = land.area_m2 / HA
    if benefit is None:
        benefit = hazards["expected_m2"].to_numpy(dtype="float64") / HA
    benefit = np.asarray(benefit, dtype="float64")
    if benefit.shape != (H,) or np.any(benefit < 0) or not np.all(np.isfinite(benefit)):
        msg = "hazard benefits must be finite, non-negative, one per hazard"
        raise ConfigError(msg)
    asset_type = np.array([type_index[str(t)] for t in assets["type"]], dtype=np.int64)
    asset_rate = assets["rate_m2_day"].to_numpy(dtype="float64") / HA
    asset_days = _asset_days(assets, catalogue, start, months)
    survey = np.array([catalogue[k].role == "survey" for k in types])
    settle = np.array([catalogue[k].survey_rate_factor() for k in types])
    ts_speedup = np.array([catalogue[k].ts_speedup for k in types])
    fleet = np.zeros(len(types))
    np.add.at(fleet, asset_type, asset_rate * asset_days.sum(axis=1))
    base = base_factors(hazards, catalogue)

    # an NTS item where the hazard awaits NTS, NTS cancels something and a survey asset can go
    can_survey = ((base > 0) & (survey & (fleet > 0))[:, None]).any(axis=0)
    surveyed = (land.stage == STAGE_NEW) & (land.cancel > 0) & can_survey
    cancelled = np.where(surveyed, land.cancel * (1.0 - land.clear), 0.0) * hazard_ha
    rest = hazard_ha - cancelled
    clear = land.clear * hazard_ha
    has_rest = rest > MIN_ITEM_HA

    s_idx = np.flatnonzero(surveyed)
    c_idx = np.flatnonzero(has_rest)
    # items ordered by hazard, the NTS item first
    item_hazard = np.concatenate([s_idx, c_idx])
    item_survey = np.concatenate([np.ones(len(s_idx), bool), np.zeros(len(c_idx), bool)])
    order = np.lexsort((~item_survey, item_hazard))
    item_hazard, item_survey = item_hazard[order], item_survey[order]
    n_items = len(item_hazard)
    area = np.where(item_survey, hazard_ha[item_hazard], rest[item_hazard])
    releasable = np.where(item_survey, cancelled[item_hazard], rest[item_hazard])
    factor = np.zeros((len(types), n_items))
    release = np.zeros((len(types), n_items))
    sv = np.flatnonzero(item_survey)
    cl = np.flatnonzero(~item_survey)
    hs, hc = item_hazard[sv], item_hazard[cl]
    for k in range(len(types)):
        if survey[k]:
            factor[k, sv] = base[k, hs] * settle[k]
            release[k, sv] = np.where(base[k, hs] > 0, releasable[sv] / area[sv], 0.0)
        else:
            work = clearance_work(rest[hc], clear[hc], land.stage[hc], float(ts_speedup[k]))
            factor[k, cl] = base[k, hc] * rest[hc] / np.maximum(work, 1e-300)
            release[k, cl] = np.where(base[k, hc] > 0, 1.0, 0.0)
    # the NTS item of each hazard gates its TS and clearance item
    gate = np.full(n_items, -1, dtype=np.int64)
    survey_item_of = np.full(H, -1, dtype=np.int64)
    survey_item_of[item_hazard[sv]] = sv
    gate[cl] = survey_item_of[hc]
    density = benefit[item_hazard] / np.maximum(hazard_ha[item_hazard], 1e-300)
    return Instance(
        hazard_ids=hazards["id"].to_numpy()[item_hazard],
        hazard_refs=hazards["ref"].astype(str).to_numpy()[item_hazard],
        area=area,
        p=land.p[item_hazard],
        benefit=benefit,
        types=types,
        survey=survey,
        release_share=settle,
        factor=factor,
        release=release,
        asset_ids=assets["id"].to_numpy(),
        asset_refs=assets["ref"].astype(str).to_numpy(),
        asset_type=asset_type,
        asset_rate=asset_rate,
        asset_days=asset_days,
        slot_days=np.array([catalogue[k].slot_days for k in types]),
        cost_buy=np.array([catalogue[k].cost_buy for k in types]),
        cost_run_day=np.array([catalogue[k].cost_run_day for k in types]),
        start=start,
        discount=discount_factors(months, discount_per_year),
        item_hazard=item_hazard,
        item_survey=item_survey,
        gate=gate,
        density=density,
        releasable=releasable,
        land=land,
        base_factor=base,
        ts_speedup=ts_speedup,
        productivity_cv=np.array([catalogue[k].productivity_cv for k in types]),
        stoppage_share=np.array([catalogue[k].stoppage_share for k in types]),
    )


# --- changes of the fleet (what-if) --------------------------------------------------------

_CHANGE = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*=\s*([+-]?\d+)\s*(?:@\s*(\d{4})-(\d{2}))?\s*$")


@dataclass(frozen=True)
class FleetChange:
    """Add (``count > 0``) or remove (``count < 0``) assets of a type from a month on."""

    type: str
    count: int
    month: dt.date | None

    def label(self) -> str:
        when = f"@{self.month:%Y-%m}" if self.month else ""
        return f"{self.type}={self.count:+d}{when}"


def parse_change(text: str, catalogue: Catalogue) -> list[FleetChange]:
    """Parse ``"TYPE=N@YYYY-MM"`` (several joined by commas) into changes."""
    changes = []
    for part in text.split(","):
        match = _CHANGE.match(part)
        if not match:
            msg = f"--add {text!r}: expected TYPE=N@YYYY-MM, e.g. machine=2@2026-03"
            raise ConfigError(msg)
        key, count, year, month = match.groups()
        if key not in catalogue:
            known = ", ".join(sorted(catalogue.types))
            msg = f"--add {text!r}: asset type {key!r} is not in {catalogue.path} (known: {known})"
            raise ConfigError(msg)
        when = None
        if year is not None:
            if not 1 <= int(month) <= 12:
                msg = f"--add {text!r}: month {month} is not 01-12"
                raise ConfigError(msg)
            when = dt.date(int(year), int(month), 1)
        if int(count) == 0:
            msg = f"--add {text!r}: the number of assets must not be zero"
            raise ConfigError(msg)
        changes.append(FleetChange(key, int(count), when))
    return changes


def apply_changes(
    assets: pd.DataFrame, changes: list[FleetChange], catalogue: Catalogue, start: dt.date
) -> pd.DataFrame:
    """The fleet after ``changes``: new assets from their month, removed ones until it."""
    out = assets.copy()
    if "available_until" not in out.columns:
        out["available_until"] = None
    new_rows = []
    next_id = int(pd.to_numeric(out["id"]).max()) + 1 if len(out) else 1
    for change in changes:
        when = change.month or start
        if change.count > 0:
            rate = catalogue[change.type].base_rate()
            for _ in range(change.count):
                new_rows.append(
                    {
                        "id": next_id,
                        "ref": f"NEW-{change.type}-{next_id}",
                        "type": change.type,
                        "rate_m2_day": rate,
                        "available_from": when,
                        "available_until": None,
                        "in_maintenance": False,
                    }
                )
                next_id += 1
        else:
            of_type = out.index[
                (out["type"].astype(str) == change.type) & out["available_until"].isna()
            ]
            if len(of_type) < -change.count:
                msg = f"--add {change.label()}: only {len(of_type)} {change.type} assets to remove"
                raise ConfigError(msg)
            # remove the newest first: the oldest are assumed the best run-in
            for idx in list(of_type)[::-1][: -change.count]:
                out.at[idx, "available_until"] = when
    if new_rows:
        out = pd.concat([out, pd.DataFrame(new_rows)], ignore_index=True)
    return out


def with_benefit(instance: Instance, benefit: np.ndarray) -> Instance:
    """The same instance with another benefit per hazard."""
    benefit = np.asarray(benefit, dtype="float64")
    hazard_ha = instance.hazard_area[instance.item_hazard]
    density = benefit[instance.item_hazard] / np.maximum(hazard_ha, 1e-300)
    return replace(instance, benefit=benefit, density=density)
