"""What-if: the completion forecast with assets added, removed or bought with a budget.

Each option is a list of fleet changes (``TYPE=N@YYYY-MM``; N negative removes
assets). The option's forecast uses the same random numbers as the baseline
(same seed, draw by draw) and, in each draw, the better of two plans: the
baseline's division of work among types (so more assets can only help) and a
division remade for the new fleet. So adding assets never makes a draw, or
P50, later.

A budget becomes one option per asset type: as many assets of that type as
the budget buys and runs until the baseline's P50 completion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from minemap.errors import ConfigError
from minemap.plan.forecast import (
    DEFAULT_HORIZON,
    Forecast,
    History,
    context_instance,
    run_forecast,
)
from minemap.plan.inputs import PlanContext
from minemap.plan.model import FleetChange, apply_changes


@dataclass
class Option:
    label: str
    changes: list[FleetChange]


def _summary(f: Forecast) -> dict[str, Any]:
    months = f.quantile_month(0.5)
    return {
        "p10": f.date(0.1),
        "p50": f.date(0.5),
        "p90": f.date(0.9),
        "months_p50": months + 1 if math.isfinite(months) else None,
        "casualties_expected": round(float(f.casualties.sum(axis=1).mean()), 3),
    }


def _months(f: Forecast, q: float) -> float:
    return f.quantile_month(q)


def option_cost(option: Option, context: PlanContext, months_running: float) -> float:
    """Buying plus running cost over ``months_running`` months (removals save running costs)."""
    total = 0.0
    for change in option.changes:
        t = context.catalogue[change.type]
        running = t.cost_run_day * t.working_days_per_month * max(months_running, 0.0)
        if change.count > 0:
            total += change.count * (t.cost_buy + running)
        else:
            total += change.count * running
    return total


def budget_options(context: PlanContext, budget: float, months_running: float) -> list[Option]:
    """One option per asset type: what ``budget`` buys and runs for ``months_running`` months."""
    if budget <= 0:
        msg = f"--budget must be positive, got {budget}"
        raise ConfigError(msg)
    options = []
    for key, t in context.catalogue.types.items():
        unit = t.cost_buy + t.cost_run_day * t.working_days_per_month * months_running
        if unit <= 0:
            continue
        n = int(budget // unit)
        if n >= 1:
            options.append(Option(f"budget: {n} {key}", [FleetChange(key, n, context.start)]))
    if not options:
        msg = f"--budget {budget:,.0f} buys no asset of any type in the catalogue"
        raise ConfigError(msg)
    return options


def run_whatif(
    context: PlanContext,
    options: list[Option],
    *,
    history: History,
    benefit: np.ndarray,
    priorities: Any = None,
    draws: int = 500,
    seed: int = 42,
    horizon: int = DEFAULT_HORIZON,
    budget: float | None = None,
) -> dict[str, Any]:
    """Baseline and every option side by side (the ``whatif.json`` content)."""
    cat = context.catalogue
    base_inst = context_instance(context, horizon, benefit, history)
    common: dict[str, Any] = {
        "history": history,
        "priorities": priorities,
        "draws": draws,
        "seed": seed,
        "horizon": horizon,
    }
    baseline = run_forecast(base_inst, context.hazards, **common)
    base_p50 = _months(baseline, 0.5)
    if budget is not None:
        running = base_p50 + 1 if math.isfinite(base_p50) else horizon
        options = [*options, *budget_options(context, budget, running)]
    if not options:
        msg = "give at least one --add TYPE=N@YYYY-MM or a --budget"
        raise ConfigError(msg)
    rows = []
    for option in options:
        assets = apply_changes(context.assets, option.changes, cat, context.start)
        inst = context_instance(context, horizon, benefit, history, assets=assets)
        f = run_forecast(inst, context.hazards, baseline=baseline, **common)
        p50 = _months(f, 0.5)
        saved = base_p50 - p50 if math.isfinite(base_p50) and math.isfinite(p50) else None
        averted = float(baseline.casualties.sum(axis=1).mean() - f.casualties.sum(axis=1).mean())
        running = p50 + 1 if math.isfinite(p50) else horizon
        cost = option_cost(option, context, running)
        row = {
            "option": option.label,
            "changes": [c.label() for c in option.changes],
            **_summary(f),
            "months_saved": saved,
            "casualties_averted": round(averted, 3),
            "cost": round(cost, 0),
            "cost_per_month_saved": round(cost / saved, 0) if saved and saved > 0 else None,
        }
        rows.append(row)
    first = rows[0]
    ranked = [r for r in rows if r["cost_per_month_saved"] is not None]
    best = min(ranked, key=lambda r: r["cost_per_month_saved"])["option"] if ranked else None
    return {
        "baseline": _summary(baseline),
        "scenario": {
            k: first[k] for k in ("p10", "p50", "p90", "months_p50", "casualties_expected")
        },
        "scenario_option": first["option"],
        "months_saved": first["months_saved"],
        "casualties_averted": first["casualties_averted"],
        "cost_per_month_saved": first["cost_per_month_saved"],
        "options": rows,
        "best_value_option": best,
        "draws": draws,
        "seed": seed,
        "notes": [
            "costs use the catalogue's buying and running costs "
            "(mostly assumptions; see its sources)",
            "casualties are expected values over the forecast's casualty years",
        ],
    }
