"""Scenario generation: time (median of runs) and peak memory at 2,400 and 12,000 km².

Each run generates the karabakh preset (seed 42, 30 m rasters) into a
temporary folder in a child process, so its memory is its own: the child
reports its wall-clock and CPU seconds and its peak resident memory, and the
parent reads ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` as a check
(the peak over every child so far: sizes run smallest first). The target is
12,000 km² within 8 GiB. Timings on a shared machine are noisy: CPU seconds
are printed beside wall-clock seconds for that reason.

Reproduce: ``.venv/bin/python benchmarks/scenario.py [--runs N] [--areas 2400 12000]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, resource, sys, time
from minemap.scenario import generate
area, seed, out = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
wall, cpu = time.perf_counter(), time.process_time()
meta = generate(out, preset="karabakh", seed=seed, area_km2=area)
print(json.dumps({
    "wall_s": time.perf_counter() - wall,
    "cpu_s": time.process_time() - cpu,
    "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "devices": meta["counts"]["truth"]["mines"],
    "hazards": meta["counts"]["observed"]["hazards"],
    "finds": meta["counts"]["observed"]["finds"],
    "activities": meta["counts"]["observed"]["activities"],
    "teams": meta["counts"]["observed"]["teams"],
}))
"""


def run_once(area: float, seed: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="minemap-bench-") as tmp:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(area), str(seed), str(Path(tmp) / "world")],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "MINEMAP_PROGRESS": "0"},
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per area (median reported)")
    parser.add_argument("--areas", type=float, nargs="+", default=[2_400.0, 12_000.0])
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    print("minemap scenario generate --preset karabakh --seed 42 --area-km2 A (30 m rasters)")
    print(
        f"{'area km2':>9} {'runs':>4} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} "
        f"{'children MiB':>12} {'devices':>9} {'hazards':>8} {'finds':>8} {'activities':>10} "
        f"{'teams':>6}"
    )
    for area in sorted(args.areas):
        results = [run_once(area, args.seed) for _ in range(args.runs)]
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        last = results[-1]
        print(
            f"{area:>9.0f} {len(results):>4} "
            f"{statistics.median(r['wall_s'] for r in results):>8.1f} "
            f"{statistics.median(r['cpu_s'] for r in results):>8.1f} "
            f"{max(r['peak_mib'] for r in results):>9.0f} {children:>12.0f} "
            f"{last['devices']:>9,.0f} {last['hazards']:>8,.0f} {last['finds']:>8,.0f} "
            f"{last['activities']:>10,.0f} {last['teams']:>6,.0f}",
            flush=True,
        )
    print("peak MiB: the run's own ru_maxrss; children MiB: RUSAGE_CHILDREN so far (a check)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
