"""Planner benchmark: schedule 5,000 hazards x 300 assets x 120 months; forecast 1,000 draws.

Prints wall and CPU seconds (median of runs), the schedule's objective, bound
and gap, and the forecast's P10/P50/P90. The instance is synthetic
(:mod:`minemap.plan.synthetic`). The simulation against a scenario's truth
has its own benchmark, ``benchmarks/plan_simulation.py``.

Reproduce: ``nice .venv/bin/python benchmarks/plan.py [--runs 3]``
Targets: schedule <= 60 s within 5% of the bound; forecast <= 30 s (2 cores;
timings on a shared machine are noisy).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from minemap.plan.forecast import context_history, run_forecast
from minemap.plan.model import build_instance
from minemap.plan.prioritise import prioritise_context, priority_scores
from minemap.plan.schedule import make_schedule
from minemap.plan.synthetic import synthetic_context


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hazards", type=int, default=5000)
    parser.add_argument("--assets", type=int, default=300)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ctx = synthetic_context(args.hazards, args.assets, Path(tmp), seed=1)
        pr = prioritise_context(ctx)
        scores = priority_scores(pr, ctx.hazards["id"].to_numpy())
        inst = build_instance(
            ctx.hazards, ctx.assets, ctx.catalogue, ctx.start, args.months, benefit=scores
        )
        print(
            f"instance: {inst.n_hazards} hazards, {inst.n_assets} assets, {inst.months} months "
            f"({time.perf_counter() - t0:.1f} s to build, not timed below)"
        )
        times, cpu, last = [], [], None
        for _ in range(args.runs):
            t, c = time.perf_counter(), time.process_time()
            last = make_schedule(inst, time_limit=60)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        assert last is not None
        print(
            f"schedule: median {statistics.median(times):.1f} s wall, "
            f"{statistics.median(cpu):.1f} s CPU over {args.runs} run(s) "
            f"[{last.method}; bound {last.bound_seconds:.1f} s; "
            f"{inst.n_items} work items]"
        )
        print(
            f"  objective {last.objective:.3f}  bound {last.bound:.3f}  gap {last.gap:.2%}  "
            f"({'; '.join(last.notes)})"
        )
        cat = ctx.catalogue
        ftimes, fcpu, forecast = [], [], None
        for _ in range(args.runs):
            t, c = time.perf_counter(), time.process_time()
            forecast = run_forecast(
                build_instance(ctx.hazards, ctx.assets, cat, ctx.start, 120, benefit=scores),
                ctx.hazards,
                history=context_history(ctx),
                priorities=pr.table,
                draws=args.draws,
                seed=1,
            )
            ftimes.append(time.perf_counter() - t)
            fcpu.append(time.process_time() - c)
        assert forecast is not None
        data = forecast.to_json()
        print(
            f"forecast: median {statistics.median(ftimes):.1f} s wall, "
            f"{statistics.median(fcpu):.1f} s CPU for {args.draws} draws "
            f"(P10 {data['p10']}, P50 {data['p50']}, P90 {data['p90']})"
        )


if __name__ == "__main__":
    main()
