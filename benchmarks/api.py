"""Benchmark of the web API under load: bounding-box GeoJSON, vector tiles and risk tiles.

A store of N synthetic hazards (100,000 by default, the same polygons as
``benchmarks/store.py``) and a synthetic 50 m risk raster over the same
200 x 150 km are served by ``minemap serve`` in its own process(es) on
loopback. This process is the load generator (asyncio + httpx2): first each
request type alone, one at a time, every request a new view (unloaded, cold
latency); then all three mixed, with ``--concurrency`` requests in flight,
for ``--seconds`` (at least two minutes by default), over ``--views``
distinct views per type that repeat (officers working the same districts;
the server keeps answers while the records are unchanged), counting requests
per second and errors (any answer but 200, or 204 for an empty tile).

Targets (issue 6): bbox p95 under 50 ms, risk tile p95 under 100 ms, at
least 300 requests/s sustained with zero errors, on 2 cores.

    .venv/bin/python benchmarks/api.py [--n 100000] [--seconds 120] [--concurrency 16]
                                        [--workers 2] [--data DIR]

The store and raster are made once into ``--data`` (default
/tmp/minemap-bench-api) and reused. The load generator shares the machine's
cores with the server, so the figures are a floor for a server with its own.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
# the store benchmark's polygons
from store import EXTENT, synthetic_hazards

CRS = "EPSG:32638"
CELL = 50.0


# --- data ---------------------------------------------------------------------------------


def make_store(folder: Path, n: int) -> str:
    from minemap.store import open_store

    url = str(folder / f"hazards-{n}.gpkg")
    if Path(url).exists():
        return url
    part = url + ".part.gpkg"
    Path(part).unlink(missing_ok=True)
    with open_store(part) as store:
        store.init(crs=CRS)
        started = time.perf_counter()
        store.insert("hazards", synthetic_hazards(n), user="benchmark")  # type: ignore[arg-type]
        print(f"  imported {n:,} hazards in {time.perf_counter() - started:.0f} s")
    os.replace(part, url)
    return url


def make_risk(folder: Path) -> Path:
    """A smooth synthetic probability surface at 50 m over the extent (a COG)."""
    import rasterio
    from affine import Affine
    from scipy.ndimage import zoom

    map_dir = folder / "map"
    path = map_dir / "risk.tif"
    if path.exists():
        return map_dir
    map_dir.mkdir(parents=True, exist_ok=True)
    width = int((EXTENT[2] - EXTENT[0]) / CELL)
    height = int((EXTENT[3] - EXTENT[1]) / CELL)
    rng = np.random.default_rng(11)
    coarse = rng.random((height // 100 + 2, width // 100 + 2))
    risk = zoom(coarse, 100, order=3)[:height, :width]
    risk = np.clip((risk - 0.3) * 1.6, 0, 1).astype("float32") ** 3
    profile = {
        "driver": "COG",
        "height": height,
        "width": width,
        "count": 1,
        "dtype": "float32",
        "crs": CRS,
        "transform": Affine(CELL, 0.0, EXTENT[0], 0.0, -CELL, EXTENT[3]),
        "nodata": float("nan"),
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(risk, 1)
    return map_dir


# --- requests ---------------------------------------------------------------------------------


def wgs84_extent() -> tuple[float, float, float, float]:
    from pyproj import Transformer

    t = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    return tuple(t.transform_bounds(*EXTENT))  # type: ignore[return-value]


def tile_at(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int(
        (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    )


def request_paths(kind: str, count: int, seed: int) -> list[str]:
    """Random requests of one kind inside the data's extent (map views of a field office)."""
    rng = np.random.default_rng(seed)
    w, s, e, n = wgs84_extent()
    lon = rng.uniform(w + 0.05, e - 0.05, count)
    lat = rng.uniform(s + 0.05, n - 0.05, count)
    if kind == "bbox":
        half = 0.012  # about 2 km across
        return [
            f"/api/hazards?bbox={x - half:.5f},{y - half:.5f},{x + half:.5f},{y + half:.5f}"
            for x, y in zip(lon, lat, strict=True)
        ]
    paths = []
    zooms = rng.choice([12, 13, 14], count)
    for x, y, z in zip(lon, lat, zooms, strict=True):
        tx, ty = tile_at(x, y, int(z))
        paths.append(
            f"/api/tiles/hazards/{z}/{tx}/{ty}.pbf"
            if kind == "vector_tile"
            else f"/api/risk/tiles/{z}/{tx}/{ty}.png"
        )
    return paths


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    count: int = 0


async def run_load(
    base: str, paths: dict[str, list[str]], seconds: float, concurrency: int
) -> tuple[Tally, float]:
    import httpx2 as httpx

    tally = Tally({k: [] for k in paths})
    kinds = list(paths)
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker(w: int) -> None:
            i = w
            while time.perf_counter() < deadline:
                kind = kinds[i % len(kinds)]
                path = paths[kind][(i // len(kinds)) % len(paths[kind])]
                i += concurrency
                started = time.perf_counter()
                try:
                    r = await client.get(path)
                    await r.aread()
                    ok = r.status_code == 200 or (r.status_code == 204 and kind != "bbox")
                except httpx.HTTPError as exc:
                    ok, r = False, None
                    tally.errors.append(f"{path}: {exc!r}")
                tally.latencies[kind].append(time.perf_counter() - started)
                tally.count += 1
                if not ok and r is not None:
                    tally.errors.append(f"{path}: HTTP {r.status_code}")

        started = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        elapsed = time.perf_counter() - started
    return tally, elapsed


def ms(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q)) if values else float("nan")


# --- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    db: str, map_dir: Path, workers: int, log: Path
) -> tuple[subprocess.Popen[bytes], str]:
    import httpx2 as httpx

    port = free_port()
    command = [
        sys.executable, "-m", "minemap.cli.main", "serve", "--db", db, "--map", str(map_dir),
        "--port", str(port), "--workers", str(workers),
    ]  # fmt: skip
    server = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/health", timeout=5).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            break
        time.sleep(0.5)
    server.kill()
    raise SystemExit(f"the server did not start; see {log}")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="hazards in the store")
    parser.add_argument("--seconds", type=float, default=120.0, help="sustained load duration")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--unloaded", type=int, default=100, help="sequential requests per type")
    parser.add_argument(
        "--views",
        type=int,
        default=400,
        help="distinct requests per type in the sustained phase (map views that repeat, as "
        "when officers work the same districts); a large value makes every request new",
    )
    parser.add_argument("--data", type=Path, default=Path("/tmp/minemap-bench-api"))
    args = parser.parse_args()

    args.data.mkdir(parents=True, exist_ok=True)
    print(f"data in {args.data}")
    db = make_store(args.data, args.n)
    map_dir = make_risk(args.data)
    server, base = start_server(db, map_dir, args.workers, args.data / "serve.log")
    try:
        kinds = ("bbox", "vector_tile", "risk_tile")
        paths = {k: request_paths(k, args.views, seed=i) for i, k in enumerate(kinds)}
        # warm each worker's store connection and raster readers (with other views)
        warm = {k: request_paths(k, 50, seed=100 + i) for i, k in enumerate(kinds)}
        asyncio.run(run_load(base, warm, 5.0, 4))

        print(
            f"\nunloaded latency, every request new ({args.unloaded} one after another per type):"
        )
        for i, kind in enumerate(kinds):
            cold = request_paths(kind, args.unloaded, seed=200 + i)
            lat = asyncio.run(sequential(base, cold))
            print(f"  {kind:12s} p50 {ms(lat, 50):7.1f} ms   p95 {ms(lat, 95):7.1f} ms")

        print(
            f"\nsustained mixed load: {args.concurrency} in flight, {args.seconds:.0f} s, "
            f"{args.views} distinct views per type, {args.workers} server workers, "
            f"{os.cpu_count()} cores shared with this client"
        )
        tally_load, elapsed = asyncio.run(run_load(base, paths, args.seconds, args.concurrency))
        for kind in kinds:
            lat = tally_load.latencies[kind]
            counts = f"{len(lat):7,d} requests"
            print(f"  {kind:12s} {counts}   p50 {ms(lat, 50):7.1f} ms   p95 {ms(lat, 95):7.1f} ms")
        rps = tally_load.count / elapsed
        total = f"{tally_load.count:7,d} requests in {elapsed:.0f} s"
        print(f"  total        {total} = {rps:.0f} requests/s")
        print(f"  errors       {len(tally_load.errors)}")
        for line in tally_load.errors[:5]:
            print(f"    {line}")
        print("\ntargets: bbox p95 < 50 ms, risk tile p95 < 100 ms, >= 300 requests/s, 0 errors")
        options = f"--n {args.n} --seconds {args.seconds:.0f} --views {args.views}"
        more = f"--concurrency {args.concurrency} --workers {args.workers}"
        print(f"command: .venv/bin/python benchmarks/api.py {options} {more}")
    finally:
        stop_server(server)


async def sequential(base: str, paths: list[str]) -> list[float]:
    """Latencies of the requests sent one after another."""
    import httpx2 as httpx

    out = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for path in paths:
            started = time.perf_counter()
            r = await client.get(path)
            await r.aread()
            out.append(time.perf_counter() - started)
            if r.status_code not in (200, 204):
                raise SystemExit(f"{path}: HTTP {r.status_code} {r.text[:200]}")
    return out


if __name__ == "__main__":
    main()
