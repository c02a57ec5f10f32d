"""Completion forecast by Monte Carlo: dates P10/P50/P90, released-area curve, casualties.

A base plan (list scheduling over a long horizon, :func:`base_allocation`)
says which asset type works which share of each hazard. Each draw then varies
what is uncertain and replays the plan as a fluid model per type:

* **contaminated share** of each hazard: the map's probability scaled by a
  draw-wide level (a Beta around the mean of the map's share and the
  historical share of released land that needed clearance, from the store's
  releases, its spread shrinking with the number of releases) and a per-hazard
  lognormal factor. Survey releases only clean land; the rest needs clearance.
* **productivity**: one lognormal multiplier per type and draw (the catalogue
  figure is uncertain for the whole fleet, not only per team), coefficient of
  variation from the catalogue;
* **stoppages**: a Beta share of each month lost per type (mean from the catalogue).

A type finishes when its cumulative capacity covers its work; the region is
done when the last type is. Each hazard is released when its type has worked
through the plan up to it, so the residual hazard near people, and with it
the expected casualties per year, follows: casualties per year =
rate x residual exposure, the rate calibrated on the accident history against
today's exposure (expected contaminated area x people and returning displaced
nearby).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from minemap.errors import ConfigError
from minemap.plan.model import HA, Instance
from minemap.plan.schedule import heuristic

DEFAULT_HORIZON = 360  # months searched for completion (30 years)


@dataclass
class Allocation:
    """Per hazard and type: survey area worked, and each clearance type's share of the rest."""

    survey_area: np.ndarray  # (K, H) ha surveyed by survey type k
    clear_share: np.ndarray  # (K, H) share of the clearance of h done by clearance type k
    progress: np.ndarray  # (H,) share of its main type's plan work done when h is finished
    main_type: np.ndarray  # (H,) index of the type that finishes h


def base_allocation(inst: Instance) -> Allocation:
    """Who does what, from a list schedule of the expected case; unplanned work to the best type."""
    sched = heuristic(inst)
    K, H = len(inst.types), inst.n_hazards
    worked = np.zeros((K, H))
    t = sched.tasks
    if not t.empty:
        k = inst.asset_type[t["asset"].to_numpy()]
        np.add.at(worked, (k, t["hazard"].to_numpy()), t["worked_ha"].to_numpy())
    survey = inst.survey
    survey_area = np.where(survey[:, None], worked, 0.0)
    clear = np.where(survey[:, None], 0.0, worked)
    total = clear.sum(axis=0)
    # hazards the plan did not finish (or no clearance planned): the fastest capable clearance type
    cap = inst.type_capacity().sum(axis=1)
    speed = np.where(~survey[:, None] & inst.capable(), inst.factor * cap[:, None], 0.0)
    best = speed.argmax(axis=0)
    none = total <= 1e-12
    clear_share = np.where(total > 0, clear / np.maximum(total, 1e-12), 0.0)
    clear_share[best[none], np.flatnonzero(none)] = np.where(speed.max(axis=0)[none] > 0, 1.0, 0.0)
    # when each hazard is done, as a share of its main type's planned work
    main = np.argmax(np.where(survey[:, None], 0.0, clear_share) + 1e-9 * survey_area, axis=0)
    progress = np.ones(H)
    if not t.empty:
        t = t.assign(k=inst.asset_type[t["asset"].to_numpy()])
        by_month = np.zeros((K, inst.months))
        np.add.at(by_month, (t["k"].to_numpy(), t["month"].to_numpy()), t["worked_ha"].to_numpy())
        cum = np.cumsum(by_month, axis=1) / np.maximum(by_month.sum(axis=1, keepdims=True), 1e-12)
        last = t.sort_values(["month", "day1"], kind="stable").groupby("hazard").tail(1)
        hz = last["hazard"].to_numpy()
        kk = last["k"].to_numpy()
        progress[hz] = np.minimum(1.0, cum[kk, last["month"].to_numpy()])
        main[hz] = kk
    return Allocation(survey_area, clear_share, progress, main)


@dataclass
class History:
    """What the store says about the past, for calibration."""

    released_m2: float = 0.0
    cleared_m2: float = 0.0
    releases: int = 0
    casualties: float = 0.0
    years: float = 0.0

    @property
    def needed_clearance_share(self) -> float | None:
        return self.cleared_m2 / self.released_m2 if self.released_m2 > 0 else None


def history_from(
    releases: pd.DataFrame | None,
    accidents: pd.DataFrame | None,
    victims: pd.DataFrame | None,
    start: dt.date,
) -> History:
    h = History()
    if releases is not None and len(releases):
        if "area_m2" in releases:
            area = pd.to_numeric(releases["area_m2"], errors="coerce").fillna(0.0)
        else:
            area = pd.Series(0.0, index=releases.index)
        if "geometry" in releases and (area <= 0).all():
            area = releases.geometry.area
        h.released_m2 = float(area.sum())
        h.cleared_m2 = float(area[releases["method"].astype(str) == "cleared"].sum())
        h.releases = len(releases)
    if accidents is not None and len(accidents):
        dates = pd.to_datetime(accidents["occurred_on"], errors="coerce").dropna()
        if len(dates):
            first = dates.min().date()
            h.years = max(1.0, (start - first).days / 365.25)
        if victims is not None and len(victims):
            h.casualties = float(len(victims))
        else:
            h.casualties = float(len(accidents))
    return h


@dataclass
class Forecast:
    draws: int
    seed: int
    start: dt.date
    completion_months: np.ndarray  # (D,) months from start (inf: not within the horizon)
    curve: np.ndarray  # (D, L) cumulative ha released by the end of each month
    casualties: np.ndarray  # (D, Y) expected casualties per year
    exposure_weight: np.ndarray  # per hazard
    total_ha: float
    notes: list[str] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)

    def quantile_month(self, q: float) -> float:
        return float(np.quantile(self.completion_months, q, method="inverted_cdf"))

    def date(self, q: float) -> str | None:
        m = self.quantile_month(q)
        if not math.isfinite(m):
            return None
        from minemap.plan.inputs import add_months

        # completion at the end of that month
        return (add_months(self.start, int(m) + 1) - dt.timedelta(days=1)).isoformat()

    def to_json(self, *, curve_months: int | None = None) -> dict[str, Any]:
        from minemap.plan.inputs import add_months

        L = self.curve.shape[1]
        upto = L if curve_months is None else min(L, curve_months)
        finite = self.completion_months[np.isfinite(self.completion_months)]
        last = int(np.quantile(finite, 0.9)) + 2 if len(finite) else L
        upto = min(upto, max(12, last))
        q = np.quantile(self.curve[:, :upto], [0.1, 0.5, 0.9], axis=0)
        curve = [
            {
                "month": add_months(self.start, m).strftime("%Y-%m"),
                "released_m2_p10": round(float(q[0, m] * HA), 1),
                "released_m2_p50": round(float(q[1, m] * HA), 1),
                "released_m2_p90": round(float(q[2, m] * HA), 1),
            }
            for m in range(upto)
        ]
        cq = np.quantile(self.casualties, [0.1, 0.5, 0.9], axis=0)
        casualties = [
            {
                "year": self.start.year + y,
                "expected": round(float(self.casualties[:, y].mean()), 3),
                "p10": round(float(cq[0, y]), 3),
                "p50": round(float(cq[1, y]), 3),
                "p90": round(float(cq[2, y]), 3),
            }
            for y in range(self.casualties.shape[1])
        ]
        return {
            "p10": self.date(0.1),
            "p50": self.date(0.5),
            "p90": self.date(0.9),
            "months_p50": self.quantile_month(0.5) + 1
            if math.isfinite(self.quantile_month(0.5))
            else None,
            "share_done_in_horizon": round(float(np.isfinite(self.completion_months).mean()), 4),
            "draws": self.draws,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "area_m2": round(self.total_ha * HA, 1),
            "monthly_released": curve,
            "casualties_per_year": casualties,
            "casualties_total_expected": round(float(self.casualties.sum(axis=1).mean()), 3),
            "inputs": self.inputs,
            "notes": self.notes,
        }


def extend(inst: Instance, months: int) -> Instance:
    """The instance over ``months`` months, the fleet's last month repeated (season kept)."""
    if months <= inst.months:
        return replace(
            inst, asset_days=inst.asset_days[:, :months], discount=inst.discount[:months]
        )
    extra = months - inst.months
    # repeat the last twelve months so that seasons carry on
    tail = inst.asset_days[:, -12:] if inst.months >= 12 else inst.asset_days[:, -1:]
    reps = math.ceil(extra / tail.shape[1])
    days = np.concatenate([inst.asset_days, np.tile(tail, reps)[:, :extra]], axis=1)
    from minemap.plan.model import discount_factors

    return replace(inst, asset_days=days, discount=discount_factors(months, 0.06))


def _exposure(hazards: pd.DataFrame, priorities: pd.DataFrame | None) -> np.ndarray:
    """Per hazard: expected contaminated ha x (1 + people and returning displaced nearby)."""
    expected = hazards["expected_m2"].to_numpy(dtype="float64") / HA
    if priorities is None:
        return expected
    by_id = priorities.set_index("hazard_id")
    people = by_id["people_raw"].reindex(hazards["id"]).fillna(0).to_numpy()
    displaced = by_id["displaced_raw"].reindex(hazards["id"]).fillna(0).to_numpy()
    return expected * (1.0 + people + displaced)


def run_forecast(
    inst: Instance,
    hazards: pd.DataFrame,
    *,
    history: History,
    priorities: pd.DataFrame | None = None,
    draws: int = 1000,
    seed: int = 42,
    horizon: int = DEFAULT_HORIZON,
    casualty_years: int = 10,
    allocation: Allocation | None = None,
    alternatives: list[Allocation] | None = None,
    cv_of: np.ndarray | None = None,
    stoppage_of: np.ndarray | None = None,
) -> Forecast:
    """Monte Carlo forecast of ``inst`` (see the module docstring).

    ``alternatives``: other allocations of the same work; each draw takes the
    one that finishes first (a re-plan after a change of fleet). The random
    numbers depend only on ``seed``, ``draws`` and the sizes, so two fleets
    forecast with one seed are compared draw by draw.
    """
    if draws < 1:
        msg = f"--draws must be at least 1, got {draws}"
        raise ConfigError(msg)
    long = extend(inst, horizon)
    allocation = allocation or base_allocation(long)
    rng = np.random.default_rng(seed)
    D, H, K, L = draws, inst.n_hazards, len(inst.types), horizon
    p = inst.p
    area = inst.area
    map_share = float((p * area).sum() / area.sum())
    hist_share = history.needed_clearance_share
    level_mean = map_share if hist_share is None else 0.5 * map_share + 0.5 * hist_share
    level_mean = min(max(level_mean, 1e-4), 0.999)
    kappa = min(history.releases, 200) + 2.0
    level = rng.beta(level_mean * kappa, (1 - level_mean) * kappa, size=D)
    local = rng.lognormal(-0.125, 0.5, size=(D, H))  # mean 1
    q = np.clip(p[None, :] * (level / max(map_share, 1e-9))[:, None] * local, 0.0, 1.0)
    cv = cv_of if cv_of is not None else np.full(K, 0.25)
    sigma = np.sqrt(np.log1p(cv**2))
    mult = rng.lognormal(-(sigma**2) / 2, sigma, size=(D, K))
    stop_mean = stoppage_of if stoppage_of is not None else np.full(K, 0.05)
    stop_mean = np.clip(stop_mean, 1e-4, 0.95)
    stops = rng.beta(
        (stop_mean * 20)[None, :, None], ((1 - stop_mean) * 20)[None, :, None], size=(D, K, L)
    )
    cap_month = long.type_capacity()  # (K, L) reference ha
    cumcap = np.cumsum(cap_month[None, :, :] * mult[:, :, None] * (1.0 - stops), axis=2)

    def replay(alloc: Allocation) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        phi = np.where(inst.factor > 0, inst.factor, np.inf)
        survey_work = (alloc.survey_area / phi).sum(axis=1)  # (K,)
        share = inst.release_share
        released_by_survey = (1.0 - q) * (alloc.survey_area * share[:, None]).sum(axis=0)[None, :]
        need = np.maximum(area[None, :] - released_by_survey, 0.0)  # (D, H)
        work = need @ (alloc.clear_share / phi).T + survey_work[None, :]  # (D, K)
        finish = np.zeros((D, K))
        for k in range(K):
            if not np.any(work[:, k] > 1e-12):
                continue
            for d in range(D):
                finish[d, k] = np.searchsorted(cumcap[d, k], work[d, k] - 1e-9)
        finish = np.where(finish >= L, np.inf, finish)
        finish = np.where(work > 1e-12, finish, -1)
        return finish.max(axis=1), work, need, released_by_survey

    completion, work, need, rel_survey = replay(allocation)
    for alt in alternatives or []:
        completion = np.minimum(completion, replay(alt)[0])
    # cumulative release curve: survey releases spread over its types' pace, clearance likewise
    frac = np.minimum(cumcap / np.maximum(work[:, :, None], 1e-12), 1.0)  # (D, K, L)
    clear_by_type = need @ allocation.clear_share.T  # (D, K)
    survey_weight = allocation.survey_area / np.maximum(allocation.survey_area.sum(axis=0), 1e-12)
    survey_by_type = rel_survey @ survey_weight.T  # (D, K)
    curve = np.einsum("dk,dkl->dl", clear_by_type + survey_by_type, frac)
    # each hazard is released when its main type reaches its place in the plan
    when = np.full((D, H), np.inf)
    for k in range(K):
        members = np.flatnonzero(allocation.main_type == k)
        if not members.size:
            continue
        targets = allocation.progress[members][None, :] * work[:, k][:, None]
        for d in range(D):
            when[d, members] = np.searchsorted(cumcap[d, k], targets[d] - 1e-9)
    when[when >= L] = np.inf
    exposure = _exposure(hazards, priorities)
    # calibration: casualties per year now, per unit of today's residual exposure
    e0 = float(exposure.sum())
    rate_draws = (
        rng.gamma(history.casualties + 0.5, 1.0 / max(history.years, 1.0), size=D) / max(e0, 1e-12)
        if history.years > 0
        else np.zeros(D)
    )
    years = casualty_years
    casualties = np.zeros((D, years))
    for y in range(years):
        mid = 12 * y + 6
        residual = (when > mid) @ exposure  # (D,)
        # the draw's contaminated share scales what is truly left
        casualties[:, y] = rate_draws * residual
    notes = []
    if hist_share is None:
        notes.append("no releases in the store: the contaminated share comes from the map alone")
    if history.years == 0:
        notes.append("no accidents in the store: casualties cannot be calibrated and are zero")
    undone = float(np.mean(~np.isfinite(completion)))
    if undone > 0:
        notes.append(f"{undone:.0%} of draws do not finish within {horizon} months")
    return Forecast(
        draws=D,
        seed=seed,
        start=inst.start,
        completion_months=completion,
        curve=curve,
        casualties=casualties,
        exposure_weight=exposure,
        total_ha=float(area.sum()),
        notes=notes,
        inputs={
            "map_contaminated_share": round(map_share, 5),
            "historical_share_needing_clearance": None
            if hist_share is None
            else round(hist_share, 5),
            "contaminated_share_level_mean": round(level_mean, 5),
            "releases_in_history": history.releases,
            "casualties_in_history": history.casualties,
            "history_years": round(history.years, 2),
            "horizon_months": horizon,
        },
    )
