"""Completion forecast by Monte Carlo: dates P10/P50/P90, released-area curve, casualties.

Each draw replays land release as practice does it (:mod:`minemap.plan.release`:
NTS cancels, TS reduces, clearance clears what stays confirmed), with what is
uncertain drawn anew:

* the share of the open land that needs **clearance**: an overall level
  (lognormal spanning the map's and the history's estimates) times a
  per-hazard lognormal factor around the map's share; confirmed hazards are
  cleared whole;
* the share of the clean land that **NTS cancels**: a Beta around the
  store's historical share, tighter with more hazards released; TS reduces
  the rest;
* **productivity**: one lognormal multiplier per asset type (the catalogue
  figure is uncertain for the whole fleet, not only per team), coefficient
  of variation from the catalogue;
* **stoppages**: a Beta share of each month lost per type (mean from the catalogue).

The work is then divided among the types that can do it as a programme
manager would re-divide it: a small LP per draw over *classes* of hazards
(same terrain, cover, contamination and stage) finds the division that
finishes soonest at each type's pace in that draw (two passes, the second at
the pace up to the first's finish, so later arrivals and removals count).
Each type works its share of the hazards in priority order, and a hazard's TS
and clearance end no earlier than its NTS. So each hazard gets a release date
in each draw: completion is the last one, the curve sums them, and the
expected casualties per year follow from the residual hazard near people:
rate x residual exposure, the rate calibrated on the accident history
against today's exposure (expected contaminated area x people and
returning displaced nearby).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from minemap.errors import ConfigError
from minemap.plan.catalogue import Catalogue
from minemap.plan.inputs import PlanContext, add_months
from minemap.plan.model import (
    HA,
    Instance,
    build_instance,
    clearance_work,
    discount_factors,
    hazard_land,
)
from minemap.plan.release import (
    DEFAULT_CANCEL_SHARE,
    LOCAL_SIGMA,
    STAGE_CONFIRMED,
    STAGE_NEW,
    LandRelease,
    ReleaseHistory,
    release_history,
)

DEFAULT_HORIZON = 600  # months searched for completion (50 years)
NEVER = np.iinfo(np.int64).max // 4  # a month index that stands for "not within the horizon"


@dataclass
class History:
    """What the store says about the past, for calibration."""

    released_m2: float = 0.0
    cleared_m2: float = 0.0
    releases: int = 0
    casualties: float = 0.0
    years: float = 0.0
    shares: ReleaseHistory | None = None  # released land by method and hazard type
    last_year_m2: float | None = None  # released in the 12 months before the plan starts
    pace: list[dict[str, Any]] = field(default_factory=list)  # see recorded_pace

    @property
    def needed_clearance_share(self) -> float | None:
        return self.cleared_m2 / self.released_m2 if self.released_m2 > 0 else None

    def release_history(self) -> ReleaseHistory | None:
        """The releases by method; from the totals alone when no split is known."""
        if self.shares is not None:
            return self.shares
        if self.released_m2 <= 0:
            return None
        clean = max(self.released_m2 - self.cleared_m2, 0.0)
        return ReleaseHistory(
            area={
                ("all", "cleared"): self.cleared_m2,
                ("all", "cancelled"): DEFAULT_CANCEL_SHARE * clean,
                ("all", "reduced"): (1.0 - DEFAULT_CANCEL_SHARE) * clean,
            },
            hazards={"all": self.releases},
            releases=self.releases,
        )


def history_from(
    releases: pd.DataFrame | None,
    accidents: pd.DataFrame | None,
    victims: pd.DataFrame | None,
    start: dt.date,
    *,
    activities: pd.DataFrame | None = None,
    assets: pd.DataFrame | None = None,
    catalogue: Catalogue | None = None,
) -> History:
    """Released land by method (and hazard type, when the releases carry it) and casualties;
    with ``activities``, ``assets`` and ``catalogue``, the fleet's recorded pace too."""
    h = History()
    if activities is not None and assets is not None and catalogue is not None:
        h.pace = recorded_pace(activities, assets, catalogue, start)
    if releases is not None and len(releases):
        shares = release_history(releases)
        h.shares = shares
        h.released_m2 = shares.total()
        h.cleared_m2 = shares.area.get(("all", "cleared"), 0.0)
        h.releases = shares.releases
        if "released_on" in releases:
            day = pd.to_datetime(releases["released_on"], errors="coerce")
            since = pd.Timestamp(start) - pd.DateOffset(years=1)
            recent = ((day >= since) & (day < pd.Timestamp(start))).to_numpy()
            if recent.any() and "area_m2" in releases:
                area = pd.to_numeric(releases["area_m2"], errors="coerce").to_numpy(dtype="float64")
                h.last_year_m2 = float(np.nansum(area[recent]))
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


def context_history(context: PlanContext) -> History:
    """:func:`history_from` on everything a plan's inputs hold, the fleet's pace included."""
    return history_from(
        context.releases,
        context.accidents,
        context.victims,
        context.start,
        activities=context.activities,
        assets=context.assets,
        catalogue=context.catalogue,
    )


def context_instance(
    context: PlanContext,
    months: int,
    benefit: np.ndarray,
    history: History,
    *,
    assets: pd.DataFrame | None = None,
) -> Instance:
    """The planning instance of a plan's inputs (or of another fleet), released as the
    history says land is released."""
    return build_instance(
        context.hazards,
        context.assets if assets is None else assets,
        context.catalogue,
        context.start,
        months,
        benefit=benefit,
        history=history.release_history(),
    )


_WORK = {"NTS": "NTS", "TS": "TS", "clearance": "clearance", "EOD": "clearance"}


def recorded_pace(
    activities: pd.DataFrame,
    assets: pd.DataFrame,
    catalogue: Catalogue,
    start: dt.date,
    months: int = 12,
) -> list[dict[str, Any]]:
    """Area worked per team and working day in the ``months`` before ``start``, from the
    store's activities, beside the catalogue's rate for the same work on reference ground.

    An activity counts for the share of its days inside the window (an ongoing one
    up to ``start``); its team's type is that of the team's assets. A ratio far from
    1 says the catalogue (or the records) should be looked at: on real ground, with
    slopes and vegetation, the catalogue's rate is lower still.
    """
    needed = {"team_id", "type", "start_date"}
    if not len(activities) or not needed <= set(activities.columns) or "team_id" not in assets:
        return []
    from minemap.plan.inputs import add_months

    begin_day = add_months(dt.date(start.year, start.month, 1), -months)
    end, begin = np.datetime64(start, "D"), np.datetime64(begin_day, "D")
    acts = activities[activities["type"].astype(str).isin(list(_WORK))]
    if "status" in acts:
        acts = acts[acts["status"].astype(str).isin(["completed", "ongoing"])]
    a0 = pd.to_datetime(acts["start_date"], errors="coerce").to_numpy().astype("datetime64[D]")
    a1 = (
        pd.to_datetime(acts["end_date"], errors="coerce").to_numpy().astype("datetime64[D]")
        if "end_date" in acts
        else np.full(len(acts), np.datetime64("NaT"), dtype="datetime64[D]")
    )
    a1 = np.where(np.isnat(a1), end, a1)
    # days of each activity inside the window, both ends counted (the plan's first day is not)
    days = (np.minimum(a1, end - 1) - np.maximum(a0, begin)).astype("float64") + 1.0
    span = (a1 - a0).astype("float64") + 1.0
    share = np.nan_to_num(np.clip(days, 0.0, None) / np.maximum(span, 1.0))
    area = np.asarray(acts.geometry.area, dtype="float64") if "geometry" in acts else None
    if area is None:
        return []
    team_type = (
        assets.dropna(subset=["team_id"])
        .assign(team=lambda f: pd.to_numeric(f["team_id"], errors="coerce"))
        .drop_duplicates("team")
        .set_index("team")["type"]
        .astype(str)
    )
    kind = team_type.reindex(pd.to_numeric(acts["team_id"], errors="coerce").to_numpy())
    frame = pd.DataFrame(
        {
            "type": kind.to_numpy(),
            "work": acts["type"].astype(str).map(_WORK).to_numpy(),
            "m2": area * share,
        }
    ).dropna(subset=["type"])
    month_numbers = [add_months(begin_day, m).month for m in range(months)]
    rows = []
    for (key, work), part in frame.groupby(["type", "work"]):
        if key not in catalogue or part["m2"].sum() <= 0:
            continue
        t = catalogue[str(key)]
        teams = int((team_type == str(key)).sum())
        days = teams * sum(t.days_in_month(m) for m in month_numbers)
        fleet = assets.loc[assets["type"].astype(str) == key, "rate_m2_day"]
        rate = float(fleet.mean()) if "rate_m2_day" in assets and len(fleet) else t.base_rate()
        if work == "TS" and t.ts_speedup > 0:
            rate *= t.ts_speedup
        elif work == "NTS":
            rate *= t.survey_rate_factor()
        recorded = float(part["m2"].sum()) / days if days > 0 else math.nan
        rows.append(
            {
                "type": str(key),
                "work": str(work),
                "teams": teams,
                "recorded_m2": round(float(part["m2"].sum()), 1),
                "recorded_m2_per_team_day": round(recorded, 1),
                "catalogue_m2_per_team_day": round(rate, 1),
                "ratio": round(recorded / rate, 3) if rate > 0 else None,
            }
        )
    return rows


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
    by_method: np.ndarray | None = None  # (D, 3) ha cancelled, reduced, cleared
    type_finish: np.ndarray | None = None  # (D, K) month each type finishes its work
    types: list[str] = field(default_factory=list)
    plans: list[_DrawPlan] = field(default_factory=list)  # per draw, for what-if replays

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
        out: dict[str, Any] = {
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
        }
        if self.by_method is not None:
            mean = self.by_method.mean(axis=0)
            total = float(mean.sum())
            out["released_by_method"] = {
                name: {
                    "m2_mean": round(float(mean[j] * HA), 1),
                    "share": round(float(mean[j] / total), 4) if total else 0.0,
                }
                for j, name in enumerate(("cancelled", "reduced", "cleared"))
            }
        if self.type_finish is not None and self.types:
            last = self.type_finish.max(axis=1, keepdims=True)
            busy = self.type_finish >= 0
            out["finish_by_type"] = {
                k: {
                    "months_p50": _month_quantile(self.type_finish[:, j], 0.5),
                    "share_of_draws_last": round(
                        float(((self.type_finish[:, j] == last[:, 0]) & busy[:, j]).mean()), 4
                    ),
                }
                for j, k in enumerate(self.types)
                if busy[:, j].any()
            }
        out |= {
            "monthly_released": curve,
            "casualties_per_year": casualties,
            "casualties_total_expected": round(float(self.casualties.sum(axis=1).mean()), 3),
            "inputs": self.inputs,
            "notes": self.notes,
        }
        return out


def bottleneck(finish_by_type: dict[str, dict[str, Any]], start: str) -> str | None:
    """One sentence naming the asset types that finish last, from ``finish_by_type``.

    The types that are last in at least a quarter of the draws bind completion;
    more of any other type shortens nothing, it only releases its share sooner.
    """
    if not finish_by_type:
        return None
    binding = {k: v for k, v in finish_by_type.items() if v["share_of_draws_last"] >= 0.25}
    if not binding:
        return None
    first = dt.date.fromisoformat(start[:10])

    def month(value: float | None) -> str:
        return "never" if value is None else f"{add_months(first, int(value)):%Y-%m}"

    keys = list(binding)
    names = keys[0] if len(keys) == 1 else ", ".join(keys[:-1]) + " and " + keys[-1]
    shares = ", ".join(f"{v['share_of_draws_last']:.0%}" for v in binding.values())
    others = ", ".join(
        f"{k} by {month(v['months_p50'])}" for k, v in finish_by_type.items() if k not in binding
    )
    text = f"Bottleneck: {names} teams finish last ({shares} of draws)"
    return text + (f"; the others finish their share (P50): {others}" if others else "")


def _month_quantile(months: np.ndarray, q: float) -> float | None:
    value = float(np.quantile(months, q, method="inverted_cdf"))
    return value + 1 if math.isfinite(value) and value >= 0 else None


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


# --- dividing the work among types -----------------------------------------------------------


class _Makespan:
    """Smallest common finish of divisible classes of work on parallel asset types (HiGHS LP).

    ``u[k, c]`` is the months type ``k`` needs for all of class ``c`` (inf:
    cannot); the LP divides each class among types so that the busiest type
    finishes first: min T such that every class is divided whole and each
    type's share takes at most T.
    """

    def __init__(self) -> None:
        from minemap.plan.schedule import _highs

        self.solver = _highs()

    def divide(self, u: np.ndarray) -> np.ndarray:
        """Shares ``y[k, c]`` (each column sums to 1 where some type can do the class)."""
        import highspy
        from scipy import sparse

        K, C = u.shape
        y = np.zeros((K, C))
        doable = np.isfinite(u).any(axis=0)
        ks, cs = np.nonzero(np.isfinite(u) & doable[None, :])
        if not len(ks):
            return y
        # a class only one type can do needs no choice
        only = np.isfinite(u).sum(axis=0) == 1
        if np.all(only[cs]):
            y[ks, cs] = 1.0
            return y
        classes = np.unique(cs)
        row_of = np.full(C, -1)
        row_of[classes] = np.arange(len(classes))
        nc, P = len(classes), len(ks)
        rows = np.concatenate([row_of[cs], nc + ks, nc + np.arange(K)])
        cols = np.concatenate([np.arange(P), np.arange(P), np.full(K, P)])
        vals = np.concatenate([np.ones(P), u[ks, cs], -np.ones(K)])
        matrix = sparse.csc_matrix((vals, (rows, cols)), shape=(nc + K, P + 1))
        inf = highspy.kHighsInf
        lp = highspy.HighsLp()
        lp.num_col_ = P + 1
        lp.num_row_ = nc + K
        lp.col_cost_ = np.concatenate([np.zeros(P), [1.0]])
        lp.col_lower_ = np.zeros(P + 1)
        lp.col_upper_ = np.full(P + 1, inf)
        lp.row_lower_ = np.concatenate([np.ones(nc), np.full(K, -inf)])
        lp.row_upper_ = np.concatenate([np.ones(nc), np.zeros(K)])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr
        lp.a_matrix_.index_ = matrix.indices
        lp.a_matrix_.value_ = matrix.data
        self.solver.clearModel()
        self.solver.passModel(lp)
        self.solver.run()
        if self.solver.modelStatusToString(self.solver.getModelStatus()) != "Optimal":
            # fall back to the fastest type for each class
            best = np.argmin(np.where(np.isfinite(u), u, np.inf), axis=0)
            y[best[doable], np.flatnonzero(doable)] = 1.0
            return y
        value = np.clip(np.asarray(self.solver.getSolution().col_value)[:P], 0.0, 1.0)
        y[ks, cs] = value
        return y / np.maximum(y.sum(axis=0, keepdims=True), 1e-12)


@dataclass
class _DrawPlan:
    """How one draw divided its work: survey and clearance shares per type and class."""

    survey: np.ndarray  # (K, C)
    clearance: np.ndarray  # (K, C)


@dataclass
class _Hazards:
    """What a forecast needs per hazard, fixed across draws."""

    land: LandRelease
    area: np.ndarray  # ha
    order: np.ndarray  # priority order (best first)
    survey_needed: np.ndarray  # (H,) bool: NTS goes first
    klass: np.ndarray  # (H,) class index
    n_classes: int
    base: np.ndarray  # (K, H)


def _hazard_classes(inst: Instance, land: LandRelease) -> tuple[np.ndarray, int]:
    key = np.vstack([inst.base_factor, (land.stage >= STAGE_CONFIRMED)[None, :].astype(float)])
    _, klass = np.unique(key.T, axis=0, return_inverse=True)
    klass = np.asarray(klass).ravel()
    return klass, int(klass.max()) + 1 if len(klass) else 0


def _prepare(inst: Instance, land: LandRelease) -> _Hazards:
    area = land.area_m2 / HA
    density = inst.benefit / np.maximum(area, 1e-300)
    order = np.argsort(-density, kind="stable")
    fleet = inst.type_capacity().sum(axis=1)
    can_survey = ((inst.base_factor > 0) & (inst.survey & (fleet > 0))[:, None]).any(axis=0)
    survey_needed = (land.stage == STAGE_NEW) & (land.cancel > 0) & can_survey
    klass, n = _hazard_classes(inst, land)
    return _Hazards(land, area, order, survey_needed, klass, n, inst.base_factor)


def _finish(cumcap: np.ndarray, work: np.ndarray) -> np.ndarray:
    """Month in which each type's cumulative capacity covers its work (NEVER past the end)."""
    out = np.full(len(work), -1, dtype=np.int64)
    for k in np.flatnonzero(work > 1e-12):
        m = int(np.searchsorted(cumcap[k], work[k] - 1e-9))
        out[k] = m if m < cumcap.shape[1] else NEVER
    return out


def _divide(
    solver: _Makespan, u_work: np.ndarray, cumcap: np.ndarray, mask: np.ndarray
) -> np.ndarray:
    """Shares per type and class for work ``u_work[k, c]`` (reference ha), in two passes."""
    L = cumcap.shape[1]
    avg = cumcap[:, -1] / L
    best_y, best_t = None, math.inf
    for _ in range(2):
        rate = np.where(mask & (avg > 0), avg, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            months = np.where(rate[:, None] > 0, u_work / rate[:, None], np.inf)
        months = np.where(np.isfinite(u_work), months, np.inf)
        y = solver.divide(months)
        finish = _finish(cumcap, (y * np.nan_to_num(u_work, posinf=0.0)).sum(axis=1))
        t = float(finish.max(initial=-1))
        if t < best_t or best_y is None:
            best_y, best_t = y, t
        if not 0 <= t < NEVER:
            break
        # the pace up to that finish: arrivals, removals and seasons in the window
        avg = cumcap[:, int(t)] / (t + 1.0)
    assert best_y is not None
    return best_y


def _times(
    y: np.ndarray, w: np.ndarray, klass: np.ndarray, order: np.ndarray, cumcap: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per hazard, the month its work is done (each type works its shares in ``order``).

    ``w[k, h]`` is type ``k``'s work for all of hazard ``h`` (reference ha).
    Returns the month per hazard (NEVER past the horizon, -1 with no work) and
    each type's total work.
    """
    H = w.shape[1]
    share = y[:, klass] * np.where(np.isfinite(w), w, 0.0)  # (K, H)
    done = np.full(H, -1, dtype=np.int64)
    L = cumcap.shape[1]
    for k in np.flatnonzero(share.sum(axis=1) > 1e-12):
        pos = np.empty(H)
        pos[order] = np.cumsum(share[k, order])
        m = np.searchsorted(cumcap[k], pos - 1e-9)
        m = np.where(m >= L, NEVER, m)
        done = np.where(share[k] > 1e-12, np.maximum(done, m), done)
    return done, share.sum(axis=1)


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
    baseline: Forecast | None = None,
) -> Forecast:
    """Monte Carlo forecast of ``inst`` (see the module docstring).

    ``baseline``: a forecast of the same hazards with another fleet; each draw
    also replays the baseline's division of work on this fleet and keeps the
    better of the two (a change of fleet is never planned worse than keeping
    the old plan). The random numbers depend only on ``seed``, ``draws`` and
    the sizes, so two fleets forecast with one seed are compared draw by draw.
    """
    if draws < 1:
        msg = f"--draws must be at least 1, got {draws}"
        raise ConfigError(msg)
    long = extend(inst, horizon)
    shares = history.release_history()
    land = hazard_land(hazards, shares) if shares is not None else inst.land
    hz = _prepare(long, land)
    rng = np.random.default_rng(seed)
    D, H, K, L = draws, len(hz.area), len(inst.types), horizon
    C = hz.n_classes
    # --- the draws (all drawn up front so fleets compare draw by draw)
    z = rng.standard_normal(D)
    level = land.level * np.exp(land.sigma * z)
    local = rng.lognormal(-(LOCAL_SIGMA**2) / 2, LOCAL_SIGMA, size=(D, H))  # mean 1
    g_mean = min(max(land.cancel_share, 1e-4), 1 - 1e-4)
    kappa = min(land.cancel_evidence, 200) + 2.0
    g = rng.beta(g_mean * kappa, (1 - g_mean) * kappa, size=D) / g_mean
    sigma = np.sqrt(np.log1p(inst.productivity_cv**2))
    mult = rng.lognormal(-(sigma**2) / 2, sigma, size=(D, K))
    stop_mean = np.clip(inst.stoppage_share, 1e-4, 0.95)
    stops = rng.beta(
        (stop_mean * 20)[None, :, None], ((1 - stop_mean) * 20)[None, :, None], size=(D, K, L)
    )
    cap_month = long.type_capacity()  # (K, L) reference ha
    # --- per hazard, fixed: survey work per survey type
    survey_types = long.survey
    base = hz.base
    with np.errstate(divide="ignore"):
        inv = np.where(base > 0, 1.0 / base, np.inf)
    survey_w = np.where(
        survey_types[:, None] & hz.survey_needed[None, :],
        hz.area[None, :] * inv / np.maximum(long.release_share, 1e-12)[:, None],
        np.inf,
    )
    survey_w[:, ~hz.survey_needed] = 0.0
    exposure = _exposure(hazards, priorities)
    e0 = float(exposure.sum())
    rate_draws = (
        rng.gamma(history.casualties + 0.5, 1.0 / max(history.years, 1.0), size=D) / max(e0, 1e-12)
        if history.years > 0
        else np.zeros(D)
    )
    completion = np.full(D, np.inf)
    curve = np.zeros((D, L))
    casualties = np.zeros((D, casualty_years))
    by_method = np.zeros((D, 3))
    type_finish = np.full((D, K), -1.0)
    plans: list[_DrawPlan] = []
    solver = _Makespan()
    mid = np.minimum(12 * np.arange(casualty_years) + 6, NEVER)
    for d in range(D):
        cumcap = np.cumsum(cap_month * mult[d][:, None] * (1.0 - stops[d]), axis=1)
        x = land.clear_shares(float(level[d]), local[d])
        cancel = np.where(hz.survey_needed, np.clip(land.cancel * g[d], 0.0, 1.0), 0.0)
        cancelled = cancel * (1.0 - x) * hz.area
        rest = hz.area - cancelled
        cleared = x * hz.area
        clear_w = np.full((K, H), np.inf)
        for k in np.flatnonzero(~survey_types):
            work = clearance_work(rest, cleared, land.stage, float(long.ts_speedup[k]))
            clear_w[k] = np.where(base[k] > 0, work / np.where(base[k] > 0, base[k], 1.0), np.inf)
            clear_w[k, work <= 1e-12] = 0.0
        by_method[d] = (cancelled.sum(), np.maximum(rest - cleared, 0.0).sum(), cleared.sum())

        plan = _DrawPlan(
            _divide(solver, _class_work(survey_w, hz), cumcap, survey_types),
            _divide(solver, _class_work(clear_w, hz), cumcap, ~survey_types),
        )
        result = _play(plan, survey_w=survey_w, clear_w=clear_w, hz=hz, cumcap=cumcap, rest=rest)
        if baseline is not None and d < len(baseline.plans):
            other = _play(
                baseline.plans[d],
                survey_w=survey_w,
                clear_w=clear_w,
                hz=hz,
                cumcap=cumcap,
                rest=rest,
            )
            # keep the baseline's division when it is no worse on completion and casualties
            if other[0] <= result[0] and _residual(other[2], exposure, mid).sum() <= (
                _residual(result[2], exposure, mid).sum()
            ):
                plan, result = baseline.plans[d], other
        plans.append(plan)
        end, t_s, t_c, finish = result
        completion[d] = end
        type_finish[d] = np.where(finish >= NEVER, np.inf, finish)
        monthly = np.zeros(L + 1)
        for t, amount in ((t_s, cancelled), (t_c, rest)):
            ok = (t >= 0) & (t < L)
            np.add.at(monthly, np.where(ok, t, L), np.where(ok, amount, 0.0))
        # land with no work left (rest below the item size) counts when NTS is done
        curve[d] = np.cumsum(monthly[:L])
        casualties[d] = rate_draws[d] * _residual(t_c, exposure, mid)
    notes = list(land.notes)
    for row in history.pace:
        if row["ratio"] is not None and not 0.5 <= row["ratio"] <= 2.0:
            notes.append(
                f"the store's records show {row['type']} teams doing {row['work']} at "
                f"{row['ratio']:.1f} times the catalogue's rate on reference ground "
                f"({row['recorded_m2_per_team_day']:,.0f} against "
                f"{row['catalogue_m2_per_team_day']:,.0f} m² per team-day, last 12 months): "
                "check the records (above 1: activities overlapping in a team; below 1: idle "
                "teams) or edit the catalogue (MINEMAP_CATALOGUE)"
            )
    if history.years == 0:
        notes.append("no accidents in the store: casualties cannot be calibrated and are zero")
    undone = float(np.mean(~np.isfinite(completion)))
    if undone > 0:
        notes.append(f"{undone:.0%} of draws do not finish within {horizon} months")
    unserved = _unserved(long, hz)
    if unserved:
        notes.append(unserved)
    return Forecast(
        draws=D,
        seed=seed,
        start=inst.start,
        completion_months=completion,
        curve=curve,
        casualties=casualties,
        exposure_weight=exposure,
        total_ha=float(hz.area.sum()),
        notes=notes,
        inputs={
            **land.summary(),
            "map_contaminated_share": round(land.map_share, 5),
            "historical_share_needing_clearance": None
            if land.history_share is None
            else round(land.history_share, 5),
            "releases_in_history": history.releases,
            "casualties_in_history": history.casualties,
            "history_years": round(history.years, 2),
            # a check on realism: the fleet's recent pace beside the forecast's first year
            "released_last_12_months_m2": None
            if history.last_year_m2 is None
            else round(history.last_year_m2, 1),
            "forecast_first_12_months_m2_p50": round(
                float(np.median(curve[:, min(11, L - 1)])) * HA, 1
            ),
            "horizon_months": horizon,
            "hazard_classes": C,
            "recorded_pace_last_12_months": history.pace,
        },
        by_method=by_method,
        type_finish=type_finish,
        types=list(inst.types),
        plans=plans,
    )


def _unserved(inst: Instance, hz: _Hazards) -> str | None:
    """A note on the hazards no clearance type of the fleet can work, and who could."""
    fleet = inst.type_capacity().sum(axis=1) > 0
    clearing = ~inst.survey
    served = ((hz.base > 0) & (clearing & fleet)[:, None]).any(axis=0)
    lost = (hz.area > 0) & ~served
    if not lost.any():
        return None
    could = [
        inst.types[k] for k in np.flatnonzero(clearing & ~fleet) if (hz.base[k, lost] > 0).any()
    ]
    text = (
        f"{int(lost.sum())} of {len(lost)} open hazards ({hz.area[lost].sum():,.0f} ha) "
        "can be cleared by no asset type in service"
    )
    if not could:
        return text + ": no type in the catalogue can work them (check its capability limits)"
    return (
        text + f"; the catalogue allows {' or '.join(could)} teams there. Completion waits for "
        "them: "
        f"'minemap plan whatif --add {could[0]}=N@YYYY-MM' shows what adding some gives"
    )


def _play(
    plan: _DrawPlan,
    *,
    survey_w: np.ndarray,
    clear_w: np.ndarray,
    hz: _Hazards,
    cumcap: np.ndarray,
    rest: np.ndarray,
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Completion month, NTS and final month per hazard, and each type's finish, of a plan."""
    t_s, work_s = _times(plan.survey, survey_w, hz.klass, hz.order, cumcap)
    t_c, work_c = _times(plan.clearance, clear_w, hz.klass, hz.order, cumcap)
    unworkable = (t_c < 0) & (rest > 1e-9)  # no type can do its TS and clearance
    t_c = np.where(hz.survey_needed, np.maximum(t_c, t_s), t_c)
    t_c = np.where(unworkable, NEVER, t_c)
    ends = np.maximum(t_c, t_s)
    end = NEVER if unworkable.any() else int(ends.max(initial=-1))
    work = work_s + work_c
    finish = np.where(work > 1e-12, 0, -1).astype(np.int64)
    busy = np.flatnonzero(finish >= 0)
    finish[busy] = _finish(cumcap, work)[busy]
    return (math.inf if end >= NEVER else float(end)), t_s, t_c, finish


def _class_work(w: np.ndarray, hz: _Hazards) -> np.ndarray:
    """(K, C) reference ha per type and class (inf where the type cannot do a hazard of it)."""
    K = w.shape[0]
    out = np.zeros((K, hz.n_classes))
    finite = np.isfinite(w)
    np.add.at(out.T, hz.klass, np.where(finite, w, 0.0).T)
    blocked = np.zeros((K, hz.n_classes), dtype=bool)
    np.logical_or.at(blocked.T, hz.klass, (~finite & (w != 0)).T)
    # a class with no work at all needs no type
    has_work = out.sum(axis=0) > 1e-12
    out = np.where(blocked, np.inf, out)
    out[:, ~has_work] = np.inf
    return out


def _residual(t_c: np.ndarray, exposure: np.ndarray, mid: np.ndarray) -> np.ndarray:
    """Exposure not yet cleared at each mid-year month."""
    return np.array([float(exposure[t_c > m].sum()) for m in mid])
