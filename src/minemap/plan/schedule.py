"""Clearance and survey scheduling: which asset works which hazard, month by month.

The model (see :mod:`minemap.plan.model` for the arrays): every asset gives
its effective working days of each month in *slots* (a working week for a
team, a day for a drone; the catalogue's ``slot_days``). A slot is spent on
one item of work (a hazard's NTS, or its TS and clearance); what the slot
cannot use when the item is finished is lost (moving the team). TS and
clearance work only land that NTS has already covered. The objective is the
benefit released, time-discounted by month: releasing part of a hazard
releases that share of its benefit. Capabilities (zero factors), seasons
(monthly factors) and capacity (working days) are constraints.

Solvers
-------
* :func:`lp_bound`: the LP relaxation (slots made divisible, assets of a type
  pooled, NTS before TS kept period by period) solved with HiGHS. It bounds
  every schedule of the model from above; on long horizons later months are
  pooled by quarter and then by year (still a valid bound: pooled capacity
  and the period's first-month discount only relax the model).
* :func:`lagrangian_bound`: for instances too large for the LP, capacity
  priced by subgradient steps and the NTS-first order dropped: a weaker but
  valid bound.
* :func:`solve_mip`: the exact model per asset as a mixed-integer programme
  (HiGHS), for small instances.
* :func:`heuristic`: list scheduling guided by the LP solution (which type
  takes which item, and when), month by month and slot by slot; fast for
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
    pairs: np.ndarray  # (P, 2) of (type, item)
    amount: np.ndarray  # (P, periods) ha released
    period_of_month: np.ndarray
    status: str


@dataclass
class Schedule:
    """A schedule: one row per asset and item worked without a break."""

    tasks: pd.DataFrame  # asset, hazard (item index), month, day0, day1, worked_ha, released_ha
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


def period_grouping(
    months: int, monthly_first: int | None, quarterly_until: int | None = None
) -> np.ndarray:
    """Period index of each month: monthly for ``monthly_first`` months, then quarters
    (up to month ``quarterly_until`` when given), then years."""
    if monthly_first is None or monthly_first >= months:
        return np.arange(months)
    m = np.arange(months)
    period = m.copy()
    q_end = months if quarterly_until is None else max(monthly_first, min(quarterly_until, months))
    quarters = (m >= monthly_first) & (m < q_end)
    period[quarters] = monthly_first + (m[quarters] - monthly_first) // 3
    n_quarters = (q_end - monthly_first + 2) // 3
    years = m >= q_end
    period[years] = monthly_first + n_quarters + (m[years] - q_end) // 12
    return period


def lp_columns(inst: Instance, periods: int) -> int:
    return int(inst.capable().sum()) * periods


def lp_bound(
    inst: Instance,
    *,
    monthly_first: int | None = None,
    quarterly_until: int | None = None,
    time_limit: float = 120.0,
) -> LPResult:
    """Solve the LP relaxation with HiGHS; its optimum bounds every schedule from above.

    Variables are the hectares *released* by type ``k`` on item ``i`` in
    period ``p``; releasing ``y`` uses ``y / (release * factor)`` of the type's
    capacity, and an item releases at most its ``releasable`` hectares. NTS
    comes first: up to each period, a TS and clearance item releases at most
    the share of its land that its NTS item has covered (a stock variable per
    item and period carries what NTS has opened and clearance not yet used).
    The LP has a column per capable type, item and period: fine for hundreds of
    hazards; for thousands use :func:`lagrangian_bound`.
    """
    import highspy
    from scipy import sparse

    t0 = time.perf_counter()
    n_items, K = inst.n_items, len(inst.types)
    period = period_grouping(inst.months, monthly_first, quarterly_until)
    n_periods = int(period.max()) + 1
    cap = np.zeros((K, n_periods))
    np.add.at(cap.T, period, inst.type_capacity().T)
    # the first month of each period carries the largest discount: an upper bound
    first_month = np.array([np.flatnonzero(period == p)[0] for p in range(n_periods)])
    disc = inst.discount[first_month]
    ok = inst.capable() & (cap.sum(axis=1) > 0)[:, None]
    ks, items = np.nonzero(ok)
    P = len(ks)
    empty = np.zeros((0, n_periods))
    if P == 0:
        return LPResult(0.0, 0.0, np.zeros((0, 2), int), empty, period, "empty")
    n_y = P * n_periods
    col_pair = np.repeat(np.arange(P), n_periods)
    col_period = np.tile(np.arange(n_periods), P)
    ck, ci = ks[col_pair], items[col_pair]
    use = 1.0 / (inst.factor[ck, ci] * inst.release[ck, ci])
    rows = [ck * n_periods + col_period, K * n_periods + ci]
    cols = [np.arange(n_y), np.arange(n_y)]
    vals = [use, np.ones(n_y)]
    # NTS first: stock s[j, p] of land opened by NTS for gated item j and not yet released
    gated = np.flatnonzero(inst.gate >= 0)
    J = len(gated)
    base = K * n_periods + n_items
    if J:
        ratio = inst.releasable[gated] / np.maximum(inst.releasable[inst.gate[gated]], 1e-300)
        pos = np.full(n_items, -1)
        pos[gated] = np.arange(J)
        gate_pos = np.full(n_items, -1)
        gate_pos[inst.gate[gated]] = np.arange(J)
        sel = np.flatnonzero(pos[ci] >= 0)
        rows.append(base + pos[ci[sel]] * n_periods + col_period[sel])
        cols.append(sel)
        vals.append(np.ones(len(sel)))
        sel = np.flatnonzero(gate_pos[ci] >= 0)
        rows.append(base + gate_pos[ci[sel]] * n_periods + col_period[sel])
        cols.append(sel)
        vals.append(-ratio[gate_pos[ci[sel]]])
        s_col = n_y + np.arange(J * n_periods)
        s_row = base + np.arange(J * n_periods)
        rows.append(s_row)
        cols.append(s_col)
        vals.append(np.ones(J * n_periods))
        nxt = (np.arange(J * n_periods) % n_periods) < n_periods - 1
        rows.append(s_row[nxt] + 1)
        cols.append(s_col[nxt])
        vals.append(-np.ones(int(nxt.sum())))
    n_cols = n_y + J * n_periods
    n_rows = base + J * n_periods
    matrix = sparse.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_rows, n_cols)
    )
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_rows
    lp.col_cost_ = np.concatenate([inst.density[ci] * disc[col_period], np.zeros(J * n_periods)])
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.full(n_cols, inf)
    lp.row_lower_ = np.concatenate([np.full(base, -inf), np.zeros(J * n_periods)])
    lp.row_upper_ = np.concatenate([cap.ravel(), inst.releasable, np.zeros(J * n_periods)])
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    solver = _highs()
    solver.setOptionValue("time_limit", float(time_limit))
    # the interior point method (with crossover) is several times faster than the
    # simplex on this shape: many columns, few entries each, long precedence chains
    solver.setOptionValue("solver", "ipm")
    solver.passModel(lp)
    solver.run()
    status = solver.modelStatusToString(solver.getModelStatus())
    if status != "Optimal":
        # a bound must come from a proven optimum: say so rather than guess
        log.warning("LP relaxation ended with status %s; no bound", status)
        bound = math.nan
    else:
        bound = float(solver.getInfo().objective_function_value)
    amount = np.asarray(solver.getSolution().col_value)[:n_y].reshape(P, n_periods)
    return LPResult(
        bound=bound,
        seconds=time.perf_counter() - t0,
        pairs=np.column_stack([ks, items]),
        amount=amount,
        period_of_month=period,
        status=status,
    )


def lagrangian_value(inst: Instance, lam: np.ndarray) -> tuple[float, np.ndarray]:
    """The Lagrangian dual function at capacity prices ``lam`` (K, M), and a subgradient.

    Pricing every type's capacity in every month at ``lam`` leaves one small
    problem per hazard, solved exactly: an item alone is released whole at
    its best net profit per hectare (or not at all); a hazard's NTS item and
    its TS and clearance item are released in months ``p <= q`` (NTS first),
    the pair of months with the best total, or NTS alone, or nothing. By weak
    duality the value bounds the LP relaxation, hence every schedule, from
    above, for any ``lam >= 0``.
    """
    K, M, n = len(inst.types), inst.months, inst.n_items
    capable = inst.capable()
    best = np.full((n, M), -np.inf)  # best net profit per ha released, by item and month
    arg = np.full((n, M), -1, dtype=np.int64)  # the type that gives it
    for k in range(K):
        items = np.flatnonzero(capable[k])
        if not len(items):
            continue
        use = 1.0 / (inst.factor[k, items] * inst.release[k, items])
        profit = inst.density[items, None] * inst.discount[None, :] - lam[k][None, :] * use[:, None]
        better = profit > best[items]
        best[items] = np.where(better, profit, best[items])
        arg[items] = np.where(better, k, arg[items])
    gain = inst.releasable[:, None] * best  # (n, M) value of releasing the whole item in month m
    chosen = np.full((n, 1), -1, dtype=np.int64)  # month of release per item, -1: not released
    value = 0.0
    gated = np.flatnonzero(inst.gate >= 0)
    gates = inst.gate[gated]
    alone = np.ones(n, dtype=bool)
    alone[gated] = False
    alone[gates] = False
    # items with no order to keep: their best month, if it pays
    idx = np.flatnonzero(alone)
    if len(idx):
        m = gain[idx].argmax(axis=1)
        g = gain[idx, m]
        on = g > 0
        value += float(g[on].sum())
        chosen[idx[on], 0] = m[on]
    if len(gated):
        # TS and clearance in the best month q >= p of NTS: a running maximum from the end
        later = np.maximum.accumulate(gain[gated, ::-1], axis=1)[:, ::-1]
        total = gain[gates] + np.maximum(later, 0.0)
        p = total.argmax(axis=1)
        t = total[np.arange(len(gated)), p]
        on = t > 0
        value += float(t[on].sum())
        chosen[gates[on], 0] = p[on]
        clear_on = on & (later[np.arange(len(gated)), p] > 0)
        # the month of the clearance item: the argmax of gain over months >= p
        q = _argmax_from(gain[gated], p)
        chosen[gated[clear_on], 0] = q[clear_on]
    usage = np.zeros_like(lam)
    rel = np.flatnonzero(chosen[:, 0] >= 0)
    if len(rel):
        m = chosen[rel, 0]
        k = arg[rel, m]
        amount = inst.releasable[rel] / (inst.factor[k, rel] * inst.release[k, rel])
        np.add.at(usage, (k, m), amount)
    cap = inst.type_capacity()
    return float((lam * cap).sum()) + value, cap - usage


def _argmax_from(values: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Per row, the column of the largest value at or after ``start``."""
    cols = np.arange(values.shape[1])[None, :]
    masked = np.where(cols >= start[:, None], values, -np.inf)
    return masked.argmax(axis=1)


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
    items: np.ndarray
    ptr: int = 0  # every item before it is finished (or spent)


def _guided_lists(inst: Instance, lp: LPResult) -> tuple[list[_TypeList], np.ndarray]:
    """Per type: the items the LP gave it, in the LP's order; and the quotas.

    The quota ``[k, i]`` is the hectares the LP has type ``k`` release on item ``i``.
    """
    K = len(inst.types)
    quota = np.zeros((K, inst.n_items))
    lists = []
    if not len(lp.pairs):
        return [_TypeList(np.zeros(0, int)) for _ in range(K)], quota
    total = lp.amount.sum(axis=1)
    first = np.where(lp.amount > EPS, np.arange(lp.amount.shape[1])[None, :], 10**9).min(axis=1)
    quota[lp.pairs[:, 0], lp.pairs[:, 1]] = total
    for k in range(K):
        sel = np.flatnonzero((lp.pairs[:, 0] == k) & (total > EPS))
        order = np.lexsort((-inst.density[lp.pairs[sel, 1]], first[sel]))
        lists.append(_TypeList(lp.pairs[sel[order], 1].astype(np.int64)))
    return lists, quota


def _fallback_lists(inst: Instance, order: np.ndarray | None) -> list[_TypeList]:
    """Per type: every item it can work, best value per slot first (or in ``order``)."""
    capable = inst.capable()
    out = []
    for k in range(len(inst.types)):
        if order is not None:
            i = order[capable[k, order]]
        else:
            i = np.flatnonzero(capable[k])
            value = inst.density[i] * inst.release[k, i] * inst.factor[k, i]
            i = i[np.argsort(-value, kind="stable")]
        out.append(_TypeList(i.astype(np.int64)))
    return out


def item_order(inst: Instance, hazard_order: np.ndarray) -> np.ndarray:
    """Items ranked by the rank of their hazard in ``hazard_order`` (NTS item first)."""
    rank = np.empty(inst.n_hazards, dtype=np.int64)
    rank[np.asarray(hazard_order, dtype=np.int64)] = np.arange(inst.n_hazards)
    return np.lexsort((~inst.item_survey, rank[inst.item_hazard]))


def heuristic(
    inst: Instance, lp: LPResult | None = None, *, order: np.ndarray | None = None
) -> Schedule:
    """Slot-by-slot list scheduling, month by month.

    With an LP solution each type first works the items the LP gave it, in
    the LP's order; with ``order`` (a ranking of *hazard* indices) every type
    works the items it can in that order (the simulation's fixed strategies).
    An asset stays on its item while the item has work for it; TS and
    clearance take only land that NTS has covered, so an item waiting for its
    NTS is passed over, not dropped.
    """
    t0 = time.perf_counter()
    todo = inst.area.copy()  # land of each item not yet worked (ha)
    area = inst.area
    gate = inst.gate
    guided, quota = (
        _guided_lists(inst, lp) if lp is not None and order is None else (None, np.zeros((0, 0)))
    )
    fallback = _fallback_lists(inst, None if order is None else item_order(inst, order))
    current = np.full(inst.n_assets, -1)
    records: list[tuple[int, int, int, float, float, float, float]] = []
    density = inst.density
    release = inst.release
    factor = inst.factor
    # survey progress changes what TS can take: remember each type's fruitless search until then
    progress = 0
    fruitless = np.full((len(inst.types), 2), -1, dtype=np.int64)

    def available(i: int) -> float:
        g = gate[i]
        if g < 0:
            return todo[i]
        # land NTS has not covered yet stays closed to TS and clearance
        return todo[i] - area[i] * (todo[g] / area[g])

    def scan(tl: _TypeList, k: int, use_quota: bool) -> int:
        j = tl.ptr
        items = tl.items
        n = len(items)
        while j < n:
            i = int(items[j])
            spent = todo[i] <= EPS or (use_quota and quota[k, i] <= EPS)
            if spent and j == tl.ptr:
                tl.ptr += 1
            elif not spent and available(i) > EPS:
                return i
            j += 1
        return -1

    def next_item(k: int) -> int:
        if fruitless[k, 0] == progress:
            return -1
        if guided is not None:
            i = scan(guided[k], k, True)
            if i >= 0:
                return i
        i = scan(fallback[k], k, False)
        if i < 0:
            fruitless[k, 0] = progress
        return i

    objective = 0.0
    for m in range(inst.months):
        if todo.max(initial=0.0) <= EPS:
            break
        disc = inst.discount[m]
        for a in range(inst.n_assets):
            days = inst.asset_days[a, m]
            if days <= EPS:
                continue
            k = int(inst.asset_type[a])
            rate = inst.asset_rate[a]
            slot = float(inst.slot_days[k])
            surveying = bool(inst.survey[k])
            used = 0.0
            while used < days - EPS:
                i = int(current[a])
                spent = guided is not None and i >= 0 and quota[k, i] <= EPS
                if i < 0 or spent or available(i) <= EPS:
                    i = next_item(k)
                    current[a] = i
                    if i < 0:
                        break
                length = min(slot, days - used)
                capacity = rate * length * factor[k, i]
                work = min(available(i), capacity)
                released = work * release[k, i]
                todo[i] = max(todo[i] - work, 0.0)
                if surveying:
                    progress += 1
                if guided is not None:
                    quota[k, i] -= released
                objective += density[i] * released * disc
                # a finished item leaves the rest of the slot unused (moving on)
                records.append((a, i, m, used, used + length, work, released))
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
    """The per-asset model as a MIP (integer slots per asset, item and month), with HiGHS.

    NTS comes first month by month (cumulative shares). Returns None when the
    instance is too large for it (see ``MIP_MAX_COLUMNS``).
    """
    import highspy
    from scipy import sparse

    t0 = time.perf_counter()
    capable = inst.capable()
    # size first: the model has two columns per asset, month and capable item
    per_type = capable.sum(axis=1)
    size = int(((inst.asset_days > EPS).sum(axis=1) * per_type[inst.asset_type]).sum())
    if size == 0 or 2 * size > MIP_MAX_COLUMNS:
        return None
    trips = [
        (a, i, m)
        for a in range(inst.n_assets)
        for m in range(inst.months)
        if inst.asset_days[a, m] > EPS
        for i in np.flatnonzero(capable[inst.asset_type[a]])
    ]
    n = len(trips)
    A, n_items, M = inst.n_assets, inst.n_items, inst.months
    t = np.array(trips)
    a_, i_, m_ = t[:, 0], t[:, 1], t[:, 2]
    k_ = inst.asset_type[a_]
    phi = inst.factor[k_, i_]
    f = inst.release[k_, i_]
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
    # an item's land is worked once
    rows += [r + i_]
    cols += [x_cols]
    vals += [np.ones(n)]
    upper.append(inst.area)
    r += n_items
    # NTS first: by the end of each month, the share of a gated item worked is at most
    # the share of its NTS item worked
    gated = np.flatnonzero(inst.gate >= 0)
    if len(gated):
        pos = np.full(n_items, -1)
        pos[gated] = np.arange(len(gated))
        gate_pos = np.full(n_items, -1)
        gate_pos[inst.gate[gated]] = np.arange(len(gated))
        for sign, where in ((1.0, pos), (-1.0, gate_pos)):
            sel = np.flatnonzero(where[i_] >= 0)
            j = where[i_[sel]]
            # column (a, i, m) counts in the rows of months m..M-1
            reps = M - m_[sel]
            rows.append(r + np.repeat(j * M, reps) + _ranges(m_[sel], M))
            cols.append(np.repeat(x_cols[sel], reps))
            vals.append(np.repeat(sign / inst.area[i_[sel]], reps))
        upper.append(np.zeros(len(gated) * M))
        r += len(gated) * M
    matrix = sparse.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, 2 * n)
    )
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = 2 * n
    lp.num_row_ = r
    lp.col_cost_ = np.concatenate([inst.density[i_] * f * inst.discount[m_], np.zeros(n)])
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
        # within a month NTS goes first, then the best value
        idx = idx[np.lexsort((-inst.density[i_[idx]], ~inst.item_survey[i_[idx]]))]
        a, m = int(key // M), int(key % M)
        used = 0.0
        for j in idx:
            length = min(s[j] * slot[j], inst.asset_days[a, m] - used)
            records.append((a, int(i_[j]), m, used, used + length, x[j], x[j] * f[j]))
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


def _ranges(starts: np.ndarray, stop: int) -> np.ndarray:
    """``concatenate([arange(s, stop) for s in starts])``, vectorised."""
    lengths = stop - starts
    total = int(lengths.sum())
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(total) - offsets + np.repeat(starts, lengths)


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
    lp = None
    # the finest periods whose LP stays small: months, then quarters after a year, then years
    for first, quarters in ((None, None), (12, 36)):
        periods = int(period_grouping(inst.months, first, quarters).max()) + 1
        if lp_columns(inst, periods) <= lp_max_columns:
            lp = lp_bound(
                inst, monthly_first=first, quarterly_until=quarters, time_limit=time_limit
            )
            candidates.append(heuristic(inst, lp))
            break
    if method in ("auto", "mip"):
        remaining = time_limit - (time.perf_counter() - t0)
        mip = solve_mip(inst, time_limit=max(1.0, min(20.0, remaining)))
        if mip is None and method == "mip":
            notes.append("the instance is too large for the exact MIP; list scheduling was used")
        if mip is not None:
            candidates.append(mip)
    best = max(candidates, key=lambda s: s.objective)
    if lp is not None and math.isfinite(lp.bound):
        pooled = "" if lp.amount.shape[1] == inst.months else ", later months pooled"
        bound, seconds, kind = lp.bound, lp.seconds, f"LP relaxation (HiGHS{pooled})"
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


#: The columns of ``schedule.csv`` (:func:`task_table` adds the month and days worked).
TASK_COLUMNS = [
    "asset_id",
    "asset_ref",
    "asset_type",
    "hazard_id",
    "hazard_ref",
    "work",
    "start",
    "end",
    "area_m2",
    "released_m2",
]


def task_table(inst: Instance, sched: Schedule) -> pd.DataFrame:
    """The schedule as rows of asset, hazard, work (NTS or TS/clearance), dates and areas (m²)."""
    t = sched.tasks
    if t.empty:
        return pd.DataFrame(columns=[*TASK_COLUMNS, "month", "day0", "day1"])
    a = t["asset"].to_numpy()
    i = t["hazard"].to_numpy()
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
            "hazard_id": inst.hazard_ids[i],
            "hazard_ref": inst.hazard_refs[i],
            "work": np.where(inst.item_survey[i], "NTS", "TS/clearance"),
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
        h = inst.item_hazard[t["hazard"].to_numpy()]
        g = t.assign(h=h).groupby("h")
        rows["start_month"] = g["month"].min().reindex(rows["hazard"]).to_numpy()
        released = g["released_ha"].sum().reindex(rows["hazard"]).fillna(0.0).to_numpy()
        rows["released_ha"] = released
        total = np.bincount(inst.item_hazard, weights=inst.releasable, minlength=inst.n_hazards)
        done = released >= total * (1 - 1e-6)
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
