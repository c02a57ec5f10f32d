"""Clearance and survey scheduling: which asset works which hazard, month by month.

The model (see :mod:`minemap.plan.model` for the arrays): every asset gives
its effective working days of each month in *slots* (a working week for a
team, a day for a drone; the catalogue's ``slot_days``). A slot is spent on
one hazard; what the slot cannot use when the hazard is finished is lost
(moving the team). The objective is the benefit released, time-discounted by
month: releasing part of a hazard releases that share of its benefit.
Capabilities (zero factors), seasons (monthly factors) and capacity (working
days) are constraints.

Solvers
-------
* :func:`lp_bound`: the LP relaxation (slots made divisible, assets of a type
  pooled) solved with HiGHS. It bounds every schedule of the model from above;
  on long horizons months after the first year are pooled by quarter (still
  a valid bound: pooled capacity and the quarter's first-month discount only
  relax the model).
* :func:`solve_mip`: the exact model per asset as a mixed-integer programme
  (HiGHS), for small instances.
* :func:`heuristic`: list scheduling guided by the LP solution (which type
  takes which hazard, and when), month by month and slot by slot; fast for
  thousands of hazards and hundreds of assets.

:func:`make_schedule` runs them and reports the schedule with its objective,
the bound and the gap between them.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from calendar import monthrange
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from minemap.errors import ConfigError
from minemap.plan.model import HA, Instance

log = logging.getLogger(__name__)

EPS = 1e-9
MIP_MAX_COLUMNS = 40_000


@dataclass
class LPResult:
    bound: float
    seconds: float
    pairs: np.ndarray  # (P, 2) of (type, group)
    amount: np.ndarray  # (P, periods) ha released
    period_of_month: np.ndarray
    status: str
    group_of_hazard: np.ndarray  # (H,) group index of each hazard
    groups: int


@dataclass
class Schedule:
    """A schedule: one row per asset and hazard worked without a break."""

    tasks: pd.DataFrame  # asset, hazard (indices), month, day0, day1, worked_ha, released_ha
    objective: float
    method: str
    seconds: float
    bound: float = math.nan
    bound_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def gap(self) -> float:
        if not math.isfinite(self.bound) or self.bound <= 0:
            return 0.0
        return max(0.0, (self.bound - self.objective) / self.bound)


# --- the LP relaxation -----------------------------------------------------------------


def period_grouping(months: int, monthly_first: int | None) -> np.ndarray:
    """Period index of each month: monthly for ``monthly_first`` months, quarters after."""
    if monthly_first is None or monthly_first >= months:
        return np.arange(months)
    head = np.arange(monthly_first)
    tail = monthly_first + (np.arange(months - monthly_first) // 3)
    return np.concatenate([head, tail])


def lp_bound(
    inst: Instance,
    *,
    monthly_first: int | None = None,
    time_limit: float = 120.0,
) -> LPResult:
    """Solve the LP relaxation with HiGHS; its optimum bounds every schedule from above.

    Variables are the hectares *released* by type ``k`` on group ``g`` in
    period ``p``. Survey work on hazard ``h`` releases ``f = share_k (1 - p_h)``
    of what it surveys, so releasing ``y`` uses ``y / (f * factor)`` of the
    type's capacity and ``y / share_k`` of the hazard's clean land
    ``(1 - p_h) * area`` (survey passes over land once). The LP has a column per
    capable type, hazard and period: fine for hundreds of hazards; for thousands
    use :func:`lagrangian_bound`.
    """
    import highspy
    from scipy import sparse

    t0 = time.perf_counter()
    H, K = inst.n_hazards, len(inst.types)
    group = np.arange(H)
    G = int(group.max()) + 1
    g_area = np.bincount(group, weights=inst.area, minlength=G)
    g_clean = np.bincount(group, weights=(1.0 - inst.p) * inst.area, minlength=G)
    g_density = np.full(G, -np.inf)
    np.maximum.at(g_density, group, inst.density)
    g_pmin = np.full(G, np.inf)
    np.minimum.at(g_pmin, group, inst.p)
    first_member = np.zeros(G, dtype=np.int64)
    first_member[group[::-1]] = np.arange(H)[::-1]
    g_factor = inst.factor[:, first_member]
    share = inst.release_share
    g_release = np.where(inst.survey[:, None], share[:, None] * (1.0 - g_pmin)[None, :], 1.0)

    period = period_grouping(inst.months, monthly_first)
    n_periods = int(period.max()) + 1
    cap = np.zeros((K, n_periods))
    np.add.at(cap.T, period, inst.type_capacity().T)
    # the first month of each period carries the largest discount: an upper bound
    first_month = np.array([np.flatnonzero(period == p)[0] for p in range(n_periods)])
    disc = inst.discount[first_month]
    ok = (g_factor > 0) & (g_release > 0) & (cap.sum(axis=1) > 0)[:, None]
    ks, gs = np.nonzero(ok)
    P = len(ks)
    empty = np.zeros((0, n_periods))
    if P == 0:
        return LPResult(0.0, 0.0, np.zeros((0, 2), int), empty, period, "empty", group, G)
    n_cols = P * n_periods
    col_pair = np.repeat(np.arange(P), n_periods)
    col_period = np.tile(np.arange(n_periods), P)
    ck, cg = ks[col_pair], gs[col_pair]
    cost = g_density[cg] * disc[col_period]
    use = 1.0 / (g_factor[ck, cg] * g_release[ck, cg])
    is_survey = inst.survey[ck]
    # rows: capacity (k, p); release per group; clean land surveyed per group
    rows = np.concatenate(
        [ck * n_periods + col_period, K * n_periods + cg, K * n_periods + G + cg[is_survey]]
    )
    cols = np.concatenate([np.arange(n_cols), np.arange(n_cols), np.flatnonzero(is_survey)])
    vals = np.concatenate([use, np.ones(n_cols), 1.0 / share[ck[is_survey]]])
    n_rows = K * n_periods + 2 * G
    matrix = sparse.csc_matrix((vals, (rows, cols)), shape=(n_rows, n_cols))
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_rows
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.full(n_cols, inf)
    lp.row_lower_ = np.full(n_rows, -inf)
    lp.row_upper_ = np.concatenate([cap.ravel(), g_area, g_clean])
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    solver = _highs()
    solver.setOptionValue("time_limit", float(time_limit))
    # the primal simplex suits this shape: few rows, many columns of three entries
    solver.setOptionValue("simplex_strategy", 4)
    solver.passModel(lp)
    solver.run()
    status = solver.modelStatusToString(solver.getModelStatus())
    if status != "Optimal":
        # a bound must come from a proven optimum: say so rather than guess
        log.warning("LP relaxation ended with status %s; no bound", status)
        bound = math.nan
    else:
        bound = float(solver.getInfo().objective_function_value)
    amount = np.asarray(solver.getSolution().col_value).reshape(P, n_periods)
    return LPResult(
        bound=bound,
        seconds=time.perf_counter() - t0,
        pairs=np.column_stack([ks, gs]),
        amount=amount,
        period_of_month=period,
        status=status,
        group_of_hazard=group,
        groups=G,
    )


def lagrangian_value(inst: Instance, lam: np.ndarray) -> tuple[float, np.ndarray]:
    """The Lagrangian dual function at capacity prices ``lam`` (K, M), and a subgradient.

    Pricing every type's capacity in every month at ``lam`` leaves one small
    problem per hazard, solved in closed form: clearance releases at the best
    net profit ``c``, survey (if better) covers the clean land at its best net
    profit per unit of clean land. By weak duality the value bounds the LP
    relaxation, hence every schedule, from above, for any ``lam >= 0``.
    """
    ks, hs = np.nonzero(inst.capable())
    H = inst.n_hazards
    use = 1.0 / (inst.factor[ks, hs] * inst.release[ks, hs])
    profit = inst.density[hs, None] * inst.discount[None, :] - lam[ks, :] * use[:, None]
    when = profit.argmax(axis=1)
    best = profit[np.arange(len(ks)), when]
    surv = inst.survey[ks]
    share = inst.release_share[ks]
    clear_best = np.full(H, -np.inf)
    np.maximum.at(clear_best, hs[~surv], best[~surv])
    c = np.maximum(clear_best, 0.0)
    net = np.where(surv, (best - c[hs]) * share, -np.inf)
    survey_best = np.full(H, -np.inf)
    np.maximum.at(survey_best, hs, net)
    sv = np.maximum(survey_best, 0.0)
    clean = (1.0 - inst.p) * inst.area
    cap = inst.type_capacity()
    value = float((lam * cap).sum() + (inst.area * c).sum() + (clean * sv).sum())

    def argmax_pair(mask: np.ndarray, score: np.ndarray) -> np.ndarray:
        idx = np.flatnonzero(mask)
        order = idx[np.lexsort((-score[idx], hs[idx]))]
        hazard, first = np.unique(hs[order], return_index=True)
        out = np.full(H, -1)
        out[hazard] = order[first]
        return out

    s_pair = argmax_pair(surv, net)
    c_pair = argmax_pair(~surv, best)
    surveyed = np.where((sv > 0) & (s_pair >= 0), clean * share[np.maximum(s_pair, 0)], 0.0)
    cleared = np.where((c > 0) & (c_pair >= 0), inst.area - surveyed, 0.0)
    usage = np.zeros_like(lam)
    for pair, amount in ((s_pair, surveyed), (c_pair, cleared)):
        ok = (pair >= 0) & (amount > 0)
        p = pair[ok]
        np.add.at(usage, (ks[p], when[p]), amount[ok] * use[p])
    return value, cap - usage


def lagrangian_bound(
    inst: Instance, *, target: float, iterations: int = 200, time_limit: float = 20.0
) -> tuple[float, float]:
    """Best Lagrangian bound after projected subgradient steps (Polyak steps toward ``target``).

    Returns (bound, seconds). ``target`` is the best schedule's objective, a
    lower estimate of the optimum.
    """
    t0 = time.perf_counter()
    lam = np.zeros((len(inst.types), inst.months))
    best = math.inf
    scale = 1.0
    stall = 0
    for _ in range(iterations):
        value, grad = lagrangian_value(inst, lam)
        if value < best - 1e-9 * abs(best if math.isfinite(best) else 1.0):
            best, stall = value, 0
        else:
            stall += 1
            if stall >= 20:  # halve the step when it stops helping
                scale, stall = scale / 2.0, 0
        norm = float((grad**2).sum())
        if norm <= 1e-18 or time.perf_counter() - t0 > time_limit:
            break
        lam = np.maximum(0.0, lam - scale * (value - target) / norm * grad)
    return best, time.perf_counter() - t0


def _highs() -> Any:
    """A quiet HiGHS solver: its licence banner goes to the C-level stdout on creation,
    which would corrupt output piped from the command line, so that is muted meanwhile."""
    import os
    import sys

    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        solver = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("log_to_console", False)
    return solver


# --- the list-scheduling heuristic -----------------------------------------------------------


@dataclass
class _TypeList:
    hazards: np.ndarray
    quota: np.ndarray
    ptr: int = 0


def _guided_lists(inst: Instance, lp: LPResult) -> tuple[list[_TypeList], np.ndarray]:
    """Per type: the hazards of the groups the LP gave it, in the LP's order; and the quotas.

    The quota ``[k, g]`` is the hectares the LP has type ``k`` release in group ``g``.
    """
    K = len(inst.types)
    quota = np.zeros((K, lp.groups))
    lists = []
    members_of = (
        pd.Series(np.arange(inst.n_hazards))
        .groupby(lp.group_of_hazard)
        .apply(lambda s: s.to_numpy()[np.argsort(-inst.density[s.to_numpy()], kind="stable")])
    )
    if len(lp.pairs):
        total = lp.amount.sum(axis=1)
        first = np.where(lp.amount > EPS, np.arange(lp.amount.shape[1])[None, :], 10**9).min(axis=1)
        quota[lp.pairs[:, 0], lp.pairs[:, 1]] = total
    for k in range(K):
        if not len(lp.pairs):
            lists.append(_TypeList(np.zeros(0, int), np.zeros(0)))
            continue
        sel = np.flatnonzero((lp.pairs[:, 0] == k) & (total > EPS))
        g = lp.pairs[sel, 1]
        order = np.lexsort((-total[sel], first[sel]))
        parts = [members_of[int(x)] for x in g[order]]
        hazards = np.concatenate(parts) if parts else np.zeros(0, int)
        lists.append(_TypeList(hazards, np.zeros(len(hazards))))
    return lists, quota


def _fallback_lists(inst: Instance, order: np.ndarray | None) -> list[_TypeList]:
    """Per type: every hazard it can work, best value per slot first (or in ``order``)."""
    capable = inst.capable()
    out = []
    for k in range(len(inst.types)):
        if order is not None:
            h = order[capable[k, order]]
        else:
            h = np.flatnonzero(capable[k])
            value = inst.density[h] * inst.release[k, h] * inst.factor[k, h]
            h = h[np.argsort(-value, kind="stable")]
        out.append(_TypeList(h, np.full(len(h), np.inf)))
    return out


def heuristic(
    inst: Instance, lp: LPResult | None = None, *, order: np.ndarray | None = None
) -> Schedule:
    """Slot-by-slot list scheduling, month by month.

    With an LP solution each type first works the hazards the LP gave it, in
    the LP's order; with ``order`` (a ranking of hazard indices) every type
    works capable hazards in that order (the simulation's fixed strategies).
    An asset stays on its hazard until the hazard's work for its type is done.
    """
    t0 = time.perf_counter()
    remaining = inst.area.copy()  # not yet released
    unsurveyed = inst.area.copy()  # not yet surveyed (survey cannot go over land twice)
    guided, quota = (
        _guided_lists(inst, lp) if lp is not None and order is None else (None, np.zeros((0, 0)))
    )
    group = lp.group_of_hazard if lp is not None else np.zeros(inst.n_hazards, dtype=np.int64)
    fallback = _fallback_lists(inst, order)
    current = np.full(inst.n_assets, -1)
    records: list[tuple[int, int, int, float, float, float, float]] = []
    density = inst.density
    survey = inst.survey

    def available(k: int, h: int) -> float:
        return unsurveyed[h] if survey[k] else remaining[h]

    def next_hazard(k: int) -> int:
        if guided is not None:
            tl = guided[k]
            while tl.ptr < len(tl.hazards):
                h = int(tl.hazards[tl.ptr])
                if quota[k, group[h]] > EPS and available(k, h) > EPS:
                    return h
                tl.ptr += 1
        tl = fallback[k]
        while tl.ptr < len(tl.hazards):
            h = int(tl.hazards[tl.ptr])
            if available(k, h) > EPS:
                return h
            tl.ptr += 1
        return -1

    objective = 0.0
    for m in range(inst.months):
        if remaining.max(initial=0.0) <= EPS:
            break
        disc = inst.discount[m]
        for a in range(inst.n_assets):
            days = inst.asset_days[a, m]
            if days <= EPS:
                continue
            k = int(inst.asset_type[a])
            rate = inst.asset_rate[a]
            slot = float(inst.slot_days[k])
            used = 0.0
            while used < days - EPS:
                h = int(current[a])
                spent = guided is not None and quota[k, group[h]] <= EPS
                if h < 0 or spent or available(k, h) <= EPS:
                    h = next_hazard(k)
                    current[a] = h
                    if h < 0:
                        break
                length = min(slot, days - used)
                capacity = rate * length * inst.factor[k, h]
                work = min(available(k, h), capacity)
                released = work * inst.release[k, h]
                if survey[k]:
                    unsurveyed[h] -= work
                    remaining[h] -= released
                else:
                    remaining[h] -= work
                    unsurveyed[h] = min(unsurveyed[h], remaining[h])
                remaining[h] = max(remaining[h], 0.0)
                unsurveyed[h] = max(unsurveyed[h], 0.0)
                if guided is not None:
                    quota[k, group[h]] -= released
                objective += density[h] * released * disc
                # a finished hazard leaves the rest of the slot unused (moving on)
                records.append((a, h, m, used, used + length, work, released))
                used += length
    tasks = _merge(records)
    return Schedule(
        tasks=tasks,
        objective=objective,
        method="lp-guided list scheduling" if guided is not None else "list scheduling",
        seconds=time.perf_counter() - t0,
    )


def _merge(records: list[tuple[int, int, int, float, float, float, float]]) -> pd.DataFrame:
    """Slots of one asset on one hazard, one after another, become one task per month."""
    columns = ["asset", "hazard", "month", "day0", "day1", "worked_ha", "released_ha"]
    frame = pd.DataFrame(records, columns=columns)
    if frame.empty:
        return frame
    frame = frame.sort_values(["asset", "month", "day0"], kind="stable")
    run = (
        (frame["asset"] != frame["asset"].shift())
        | (frame["hazard"] != frame["hazard"].shift())
        | (frame["month"] != frame["month"].shift())
    ).cumsum()
    merged = frame.groupby(run, sort=False).agg(
        asset=("asset", "first"),
        hazard=("hazard", "first"),
        month=("month", "first"),
        day0=("day0", "first"),
        day1=("day1", "last"),
        worked_ha=("worked_ha", "sum"),
        released_ha=("released_ha", "sum"),
    )
    return merged.reset_index(drop=True)


# --- the exact model for small instances -------------------------------------------------------


def solve_mip(inst: Instance, *, time_limit: float = 20.0) -> Schedule | None:
    """The per-asset model as a MIP (integer slots per asset, hazard and month), with HiGHS.

    Returns None when the instance is too large for it (see ``MIP_MAX_COLUMNS``).
    """
    import highspy
    from scipy import sparse

    t0 = time.perf_counter()
    capable = inst.capable()
    # size first: the model has two columns per asset, month and capable hazard
    per_type = capable.sum(axis=1)
    size = int(((inst.asset_days > EPS).sum(axis=1) * per_type[inst.asset_type]).sum())
    if size == 0 or 2 * size > MIP_MAX_COLUMNS:
        return None
    trips = [
        (a, h, m)
        for a in range(inst.n_assets)
        for m in range(inst.months)
        if inst.asset_days[a, m] > EPS
        for h in np.flatnonzero(capable[inst.asset_type[a]])
    ]
    n = len(trips)
    if n == 0 or 2 * n > MIP_MAX_COLUMNS:
        return None
    A, H, M = inst.n_assets, inst.n_hazards, inst.months
    t = np.array(trips)
    a_, h_, m_ = t[:, 0], t[:, 1], t[:, 2]
    k_ = inst.asset_type[a_]
    phi = inst.factor[k_, h_]
    f = inst.release[k_, h_]
    days = inst.asset_days[a_, m_]
    slot = inst.slot_days[k_]
    rate = inst.asset_rate[a_]
    # columns: x (work, ha) 0..n-1, s (slots, integer) n..2n-1
    x_cols = np.arange(n)
    s_cols = n + np.arange(n)
    rows, cols, vals, upper = [], [], [], []
    r = 0
    # x - slotcap * phi * s <= 0
    rows += [r + np.arange(n), r + np.arange(n)]
    cols += [x_cols, s_cols]
    vals += [np.ones(n), -rate * slot * phi]
    upper.append(np.zeros(n))
    r += n
    am = a_ * M + m_
    # slots per asset-month, and working days per asset-month
    rows += [r + am, r + A * M + am]
    cols += [s_cols, x_cols]
    vals += [np.ones(n), 1.0 / (phi * rate)]
    n_slots = np.ceil(inst.asset_days / inst.slot_days[inst.asset_type][:, None] - 1e-9)
    upper += [n_slots.ravel(), inst.asset_days.ravel()]
    r += 2 * A * M
    rows += [r + h_]
    cols += [x_cols]
    vals += [f]
    upper.append(inst.area)
    r += H
    sv = inst.survey[k_]
    rows += [r + h_[sv]]
    cols += [x_cols[sv]]
    vals += [np.ones(int(sv.sum()))]
    upper.append(inst.area)
    r += H
    matrix = sparse.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, 2 * n)
    )
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = 2 * n
    lp.num_row_ = r
    lp.col_cost_ = np.concatenate([inst.density[h_] * f * inst.discount[m_], np.zeros(n)])
    lp.col_lower_ = np.zeros(2 * n)
    lp.col_upper_ = np.concatenate([np.full(n, inf), np.ceil(days / slot - 1e-9)])
    lp.row_lower_ = np.full(r, -inf)
    lp.row_upper_ = np.concatenate(upper)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.integrality_ = [highspy.HighsVarType.kContinuous] * n + [highspy.HighsVarType.kInteger] * n
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    solver = _highs()
    solver.setOptionValue("time_limit", float(time_limit))
    solver.setOptionValue("mip_rel_gap", 1e-4)
    solver.passModel(lp)
    solver.run()
    status = solver.modelStatusToString(solver.getModelStatus())
    info = solver.getInfo()
    if info.primal_solution_status < 2:  # no feasible solution found in time
        log.warning("MIP found no solution (%s)", status)
        return None
    value = np.asarray(solver.getSolution().col_value)
    x, s = value[:n], np.round(value[n:])
    records = []
    for key in np.unique(am):
        idx = np.flatnonzero((am == key) & (s > 0.5) & (x > EPS))
        idx = idx[np.argsort(-inst.density[h_[idx]], kind="stable")]
        a, m = int(key // M), int(key % M)
        used = 0.0
        for i in idx:
            length = min(s[i] * slot[i], inst.asset_days[a, m] - used)
            records.append((a, int(h_[i]), m, used, used + length, x[i], x[i] * f[i]))
            used += length
    tasks = _merge(records)
    objective = (
        float(
            (
                tasks["released_ha"] * inst.density[tasks["hazard"]] * inst.discount[tasks["month"]]
            ).sum()
        )
        if len(tasks)
        else 0.0
    )
    sched = Schedule(
        tasks=tasks,
        objective=objective,
        method=f"MIP (HiGHS, {status})",
        seconds=time.perf_counter() - t0,
    )
    sched.bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else math.nan
    return sched


# --- the whole step ----------------------------------------------------------------------------


def make_schedule(
    inst: Instance,
    *,
    method: str = "auto",
    time_limit: float = 60.0,
    lp_max_columns: int = 150_000,
) -> Schedule:
    """Schedule ``inst`` and bound it.

    ``auto``: the exact MIP on small instances; list scheduling (greedy, and
    guided by the LP relaxation when that is small enough to solve) otherwise;
    the best schedule found is returned. The bound is the LP relaxation when it
    has at most ``lp_max_columns`` columns, else the Lagrangian bound; the MIP's
    own dual bound replaces it when tighter.
    """
    if method not in ("auto", "mip", "heuristic"):
        msg = f"unknown scheduling method {method!r} (auto, mip or heuristic)"
        raise ConfigError(msg)
    if inst.n_assets == 0 or inst.asset_days.sum() <= 0:
        msg = "no asset is available in the horizon: nothing can be scheduled"
        raise ConfigError(msg)
    t0 = time.perf_counter()
    notes: list[str] = []
    candidates = [heuristic(inst)]
    columns = int(inst.capable().sum()) * inst.months
    lp = None
    if columns <= lp_max_columns:
        lp = lp_bound(inst, time_limit=time_limit)
        candidates.append(heuristic(inst, lp))
    if method in ("auto", "mip"):
        remaining = time_limit - (time.perf_counter() - t0)
        mip = solve_mip(inst, time_limit=max(1.0, min(20.0, remaining)))
        if mip is None and method == "mip":
            notes.append("the instance is too large for the exact MIP; list scheduling was used")
        if mip is not None:
            candidates.append(mip)
    best = max(candidates, key=lambda s: s.objective)
    if lp is not None and math.isfinite(lp.bound):
        bound, seconds, kind = lp.bound, lp.seconds, "LP relaxation (HiGHS)"
    else:
        remaining = max(5.0, min(20.0, time_limit - (time.perf_counter() - t0)))
        bound, seconds = lagrangian_bound(inst, target=best.objective, time_limit=remaining)
        kind = "Lagrangian relaxation of the LP (subgradient)"
    for c in candidates:
        if "MIP" in c.method and math.isfinite(c.bound) and c.bound < bound:
            bound, kind = c.bound, "MIP dual bound (HiGHS)"
    best.bound = max(bound, best.objective)
    best.bound_seconds = seconds
    best.notes = [f"bound: {kind}", *notes]
    best.seconds = time.perf_counter() - t0
    return best


# --- what a schedule says ---------------------------------------------------------------------


def _calendar(inst: Instance, month: int, day: float, asset: int) -> dt.date:
    """Calendar date of effective working day ``day`` of an asset in ``month``."""
    first = inst.month_start(month)
    length = monthrange(first.year, first.month)[1]
    days = inst.asset_days[asset, month]
    offset = 0 if days <= 0 else min(length - 1, int(day / days * length))
    return first + dt.timedelta(days=offset)


def task_table(inst: Instance, sched: Schedule) -> pd.DataFrame:
    """The schedule as rows of asset, hazard, dates and areas (m²)."""
    t = sched.tasks
    if t.empty:
        return pd.DataFrame(
            columns=[
                "asset_id",
                "asset_ref",
                "asset_type",
                "hazard_id",
                "hazard_ref",
                "start",
                "end",
                "area_m2",
                "released_m2",
            ]
        )
    a = t["asset"].to_numpy()
    h = t["hazard"].to_numpy()
    m = t["month"].to_numpy()
    starts = [
        _calendar(inst, int(mm), float(d0), int(aa))
        for aa, mm, d0 in zip(a, m, t["day0"], strict=True)
    ]
    ends = [
        max(s, _calendar(inst, int(mm), max(float(d1) - 1e-6, 0.0), int(aa)))
        for s, aa, mm, d1 in zip(starts, a, m, t["day1"], strict=True)
    ]
    table = pd.DataFrame(
        {
            "asset_id": inst.asset_ids[a],
            "asset_ref": inst.asset_refs[a],
            "asset_type": [inst.types[k] for k in inst.asset_type[a]],
            "hazard_id": inst.hazard_ids[h],
            "hazard_ref": inst.hazard_refs[h],
            "start": starts,
            "end": ends,
            "area_m2": np.round(t["worked_ha"].to_numpy() * HA, 1),
            "released_m2": np.round(t["released_ha"].to_numpy() * HA, 1),
            "month": m,
            "day0": t["day0"].to_numpy(),
            "day1": t["day1"].to_numpy(),
        }
    )
    # one task per asset and hazard across consecutive months reads better in a plan
    return table.sort_values(["asset_ref", "start"], kind="stable").reset_index(drop=True)


def hazard_dates(inst: Instance, sched: Schedule) -> pd.DataFrame:
    """Per hazard: planned start, end (when all of it is released) and released area."""
    t = sched.tasks
    rows = pd.DataFrame({"hazard": np.arange(inst.n_hazards)})
    if t.empty:
        rows["start_month"] = np.nan
        rows["end_month"] = np.nan
        rows["released_ha"] = 0.0
    else:
        g = t.groupby("hazard")
        rows["start_month"] = g["month"].min().reindex(rows["hazard"]).to_numpy()
        released = g["released_ha"].sum().reindex(rows["hazard"]).fillna(0.0).to_numpy()
        rows["released_ha"] = released
        done = released >= inst.area * (1 - 1e-6)
        rows["end_month"] = np.where(
            done, g["month"].max().reindex(rows["hazard"]).to_numpy(), np.nan
        )
    rows["planned_start"] = [
        None if not np.isfinite(s) else inst.month_start(int(s)).isoformat()
        for s in rows["start_month"]
    ]
    rows["planned_end"] = [
        None
        if not np.isfinite(e)
        else (inst.month_start(int(e) + 1) - dt.timedelta(days=1)).isoformat()
        for e in rows["end_month"]
    ]
    return rows


def monthly_release(inst: Instance, sched: Schedule) -> np.ndarray:
    """Hectares released in each month of the horizon."""
    out = np.zeros(inst.months)
    if not sched.tasks.empty:
        np.add.at(out, sched.tasks["month"].to_numpy(), sched.tasks["released_ha"].to_numpy())
    return out
