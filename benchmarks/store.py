"""Benchmark of the records store: import 100,000 hazard polygons, then bounding-box reads.

For each engine (GeoPackage file; PostGIS on a throwaway local cluster unless
``--postgis URL`` is given) a fresh process imports N synthetic hazard polygons
in one batch through ``Store.insert`` (validation, audit entry and history row
per record, one transaction), then runs bounding-box reads of map-view size
(2 km and 10 km squares) at random places. It prints the import time, the
peak memory (RSS) of that process, and the median and 95th percentile of the
reads. Targets (issue 3): import under 30 s on GeoPackage; bbox p95 under
50 ms on both engines.

    .venv/bin/python benchmarks/store.py [--n 100000] [--queries 200] [--engines gpkg,postgis]

The throwaway PostGIS cluster runs with fsync off, which flatters its import
time; the GeoPackage runs as in production (WAL, synchronous=NORMAL).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXTENT = (560_000.0, 4_330_000.0, 760_000.0, 4_480_000.0)  # 200 x 150 km of UTM 38N


def synthetic_hazards(n: int, seed: int = 7) -> object:
    """N irregular heptagons of 30 to 400 m radius over the extent, with typical fields."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    rng = np.random.default_rng(seed)
    x = rng.uniform(EXTENT[0], EXTENT[2], n)
    y = rng.uniform(EXTENT[1], EXTENT[3], n)
    radius = rng.uniform(30, 400, n)
    angles = np.sort(rng.uniform(0, 2 * np.pi, (n, 7)), axis=1)
    reach = radius[:, None] * rng.uniform(0.6, 1.0, (n, 7))
    ring = np.stack([x[:, None] + reach * np.cos(angles), y[:, None] + reach * np.sin(angles)], -1)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    days = rng.integers(0, 3000, n)
    return gpd.GeoDataFrame(
        {
            "name": [f"Area {i}" for i in range(n)],
            "type": rng.choice(["SHA", "CHA"], n, p=[0.8, 0.2]),
            "contamination": rng.choice(["AP", "AT", "UXO", "mixed"], n),
            "evidence": rng.choice(["observed", "verbal", "records"], n),
            "status": "open",
            "land_use": rng.choice(["farmland", "pasture", "road", "housing"], n),
            "recorded_on": pd.Timestamp("2015-01-01") + pd.to_timedelta(days, unit="D"),
        },
        geometry=shapely.polygons(ring),
        crs="EPSG:32638",
        index=pd.RangeIndex(1, n + 1),
    )


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(url: str, n: int, queries: int) -> dict[str, float]:
    """Run in a fresh process: import, then time bbox reads; return the figures."""
    from minemap.store import open_store

    frame = synthetic_hazards(n)
    base_rss = _rss_mb()
    store = open_store(url)
    store.init(crs="EPSG:32638")
    t0, cpu0 = time.perf_counter(), time.process_time()
    ids = store.insert("hazards", frame, user="benchmark")  # type: ignore[arg-type]
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert len(ids) == n
    rng = np.random.default_rng(11)
    figures: dict[str, float] = {
        "import_s": seconds,
        "import_cpu_s": cpu,
        "peak_rss_mb": peak,
        "base_rss_mb": base_rss,
    }
    for size in (2_000.0, 10_000.0):
        times, hits = [], []
        for _ in range(queries):
            x = rng.uniform(EXTENT[0], EXTENT[2] - size)
            y = rng.uniform(EXTENT[1], EXTENT[3] - size)
            t = time.perf_counter()
            got = store.read("hazards", bbox=(x, y, x + size, y + size))
            times.append(time.perf_counter() - t)
            hits.append(len(got))
        key = f"{int(size / 1000)}km"
        figures[f"bbox_{key}_p50_ms"] = float(np.median(times) * 1000)
        figures[f"bbox_{key}_p95_ms"] = float(np.percentile(times, 95) * 1000)
        figures[f"bbox_{key}_hits"] = float(np.mean(hits))
    store.close()
    return figures


def run_child(url: str, n: int, queries: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", url, "--n", str(n), "--queries", str(queries)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--engines", default="gpkg,postgis")
    parser.add_argument("--postgis", default=None, help="an existing postgresql:// URL")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.n, args.queries)))
        return 0

    results: dict[str, dict[str, float]] = {}
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    with tempfile.TemporaryDirectory(prefix="minemap-bench-") as tmp:
        if "gpkg" in engines:
            results["gpkg"] = run_child(str(Path(tmp) / "bench.gpkg"), args.n, args.queries)
        if "postgis" in engines:
            server = None
            url = args.postgis
            if url is None:
                sys.path.insert(0, str(ROOT))
                from tests.fixtures.stores import postgis_available, start_postgis_server

                if not postgis_available():
                    print("postgis: skipped (PostgreSQL 15 with PostGIS is not installed)")
                else:
                    server = start_postgis_server()
                    server.create_database("bench")
                    url = server.url("bench")
            try:
                if url is not None:
                    results["postgis"] = run_child(url, args.n, args.queries)
            finally:
                if server is not None:
                    server.stop()

    print(f"store benchmark: {args.n:,} hazard polygons, {args.queries} reads per box size")
    print(
        "(wall-clock timings on a shared machine are noisy; 'cpu s' is the importing "
        "process's own CPU time, without the PostgreSQL server's)"
    )
    header = (
        f"{'engine':<8} {'import s':>9} {'cpu s':>6} {'peak MB':>8} "
        f"{'2km p50':>8} {'2km p95':>8} {'hits':>5} {'10km p50':>9} {'10km p95':>9} {'hits':>6}"
    )
    print(header)
    for engine, f in results.items():
        two = (
            f"{f['bbox_2km_p50_ms']:>8.1f} {f['bbox_2km_p95_ms']:>8.1f} {f['bbox_2km_hits']:>5.0f}"
        )
        ten = (
            f"{f['bbox_10km_p50_ms']:>9.1f} {f['bbox_10km_p95_ms']:>9.1f} "
            f"{f['bbox_10km_hits']:>6.0f}"
        )
        print(
            f"{engine:<8} {f['import_s']:>9.1f} {f['import_cpu_s']:>6.1f} "
            f"{f['peak_rss_mb']:>8.0f} {two} {ten}"
        )
    if "gpkg" in results:
        ok = results["gpkg"]["import_s"] < 30
        print(f"target import < 30 s on GeoPackage: {'met' if ok else 'NOT met'}")
    for engine, f in results.items():
        ok = f["bbox_2km_p95_ms"] < 50
        print(f"target bbox p95 < 50 ms on {engine} (2 km view): {'met' if ok else 'NOT met'}")
    print("reproduce: .venv/bin/python benchmarks/store.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
