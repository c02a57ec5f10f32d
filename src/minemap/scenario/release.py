"""Land release from 2021 to the snapshot: what each step releases, which team does it, and when.

What
    Each year's national release, scaled by area, sets how much suspected land
    is put to survey: hazards are taken in priority order (near settlements
    whose people are returning, near roads, on farmland) until the year's
    land to cancel and reduce is used up, their non-technical survey spread
    over the year. NTS cancels the parts of a hazard with no device nearby
    (in blocks, as evidence allows; a few tasks cancel land that still holds
    devices); technical survey reduces what lies farther than a few tens of
    metres from any device and finds a sample of devices, which makes the
    hazard a CHA; clearance clears the rest, month by month within the year's
    land to clear, and finds (nearly) every device in it. Released land is
    outlined on a 25 m grid and clipped to the hazard, so the cancelled,
    reduced and cleared polygons of a hazard never overlap. EOD teams answer
    call-outs for items found by the public outside hazards.
Who and when
    Every task goes to the team able to do it that can start first
    (:class:`~minemap.scenario.operators.Fleet`; a new team is fielded when
    the wait is too long), and a team works one task at a time. A task
    takes ``area / (rate x factor x speed)`` effective working days, with
    rate and factors from the planner's catalogue (terrain band from the
    hazard's mean slope on the DEM, cover from its land use, contamination),
    speed ``ts_speedup`` for technical survey and ``release_share`` for
    survey types, the team's own pace, the catalogue's productivity spread
    and stoppages; the days run on the catalogue's calendar (seasons). A
    team gives one site at most ``max_task_days``: larger sites are cut into
    strips worked by several teams. So the records show each type working at
    the pace the planner expects of it on that ground. A task not finished
    by the snapshot is ongoing (released nothing yet), and the hazard's
    later steps wait.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from affine import Affine
from rasterio import features
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from minemap.plan.catalogue import Catalogue
from minemap.plan.inputs import COVER_OF_LAND_USE
from minemap.scenario.frame import Frame, Grid, pick, uniform
from minemap.scenario.mining import Truth
from minemap.scenario.operators import Booking, Fleet, Operators, Task, WorkCalendar
from minemap.scenario.places import Settlements
from minemap.scenario.presets import OperatorsParams, SurveyParams
from minemap.scenario.survey import Activity, Hazard, Observations, Release, as_multi

WORKS = ("NTS", "TS", "clearance", "EOD")
_CALLOUT_RADIUS_M = 10.0


class _Cells:
    """A hazard rasterised on the work grid, with each cell's distance to the nearest device."""

    def __init__(self, poly: BaseGeometry, cell: float, tree: cKDTree | None, reach: float) -> None:
        x0, y0, x1, y1 = poly.bounds
        self.x0 = np.floor(x0 / cell) * cell
        self.y1 = np.ceil(y1 / cell) * cell
        self.cols = max(1, int(np.ceil((x1 - self.x0) / cell)))
        self.rows = max(1, int(np.ceil((self.y1 - y0) / cell)))
        self.cell = cell
        self.transform = Affine(cell, 0.0, self.x0, 0.0, -cell, self.y1)
        inside = features.geometry_mask(
            [poly], (self.rows, self.cols), self.transform, invert=True, all_touched=True
        )
        r, c = np.nonzero(inside)
        self.r, self.c = r, c
        self.index = np.full((self.rows, self.cols), -1, dtype=np.int64)
        self.index[r, c] = np.arange(r.size)
        xs = self.x0 + (c + 0.5) * cell
        ys = self.y1 - (r + 0.5) * cell
        if tree is None or len(r) == 0:
            self.dist = np.full(len(r), np.inf)
        else:
            self.dist, _ = tree.query(np.column_stack([xs, ys]), distance_upper_bound=reach)

    def __len__(self) -> int:
        return int(self.r.size)

    def block(self, size: int) -> np.ndarray:
        return (self.r // size) * (self.cols // size + 1) + self.c // size

    def cells_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of the cell holding each point (-1 outside the hazard's cells)."""
        c = np.clip(np.floor((x - self.x0) / self.cell).astype(np.int64), 0, self.cols - 1)
        r = np.clip(np.floor((self.y1 - y) / self.cell).astype(np.int64), 0, self.rows - 1)
        return self.index[r, c]

    def strips(self, flags: np.ndarray) -> np.ndarray:
        """Indices of the flagged cells, west to east: a prefix of them is a strip of the site."""
        idx = np.flatnonzero(flags)
        return idx[np.lexsort((self.r[idx], self.c[idx]))]

    def strip_region(self, part: np.ndarray) -> BaseGeometry:
        """The ground of a strip (a run of cells in :meth:`strips` order): whole columns
        between its first and last cell, part of those two columns."""
        ca, ra = int(self.c[part[0]]), int(self.r[part[0]])
        cb, rb = int(self.c[part[-1]]), int(self.r[part[-1]])
        x0, y1, cell = self.x0, self.y1, self.cell
        bottom = y1 - self.rows * cell
        if ca == cb:
            return shapely.box(
                x0 + ca * cell, y1 - (rb + 1) * cell, x0 + (ca + 1) * cell, y1 - ra * cell
            )
        boxes = [
            shapely.box(x0 + ca * cell, bottom, x0 + (ca + 1) * cell, y1 - ra * cell),
            shapely.box(x0 + cb * cell, y1 - (rb + 1) * cell, x0 + (cb + 1) * cell, y1),
        ]
        if cb > ca + 1:
            boxes.append(shapely.box(x0 + (ca + 1) * cell, bottom, x0 + cb * cell, y1))
        return shapely.union_all(boxes)

    def polygon(self, flags: np.ndarray, clip: BaseGeometry) -> shapely.MultiPolygon:
        if not flags.any():
            return shapely.MultiPolygon()
        # polygonise only the window the flagged cells occupy (a strip is narrow)
        r, c = self.r[flags], self.c[flags]
        r0, c0 = int(r.min()), int(c.min())
        grid = np.zeros((int(r.max()) - r0 + 1, int(c.max()) - c0 + 1), dtype=np.uint8)
        grid[r - r0, c - c0] = 1
        window = self.transform * Affine.translation(c0, r0)
        shapes = [
            shapely.geometry.shape(g)
            for g, v in features.shapes(grid, mask=grid == 1, transform=window)
            if v == 1
        ]
        return as_multi(shapely.intersection(shapely.union_all(shapes), clip))


@dataclass
class _Site:
    """A hazard put to survey: what each step will release, and what is released so far."""

    cells: _Cells
    cancel: np.ndarray  # cell flags NTS cancels
    reduce: np.ndarray  # cell flags TS reduces
    remain: np.ndarray  # cell flags left for clearance
    ts_found: np.ndarray  # devices TS finds
    left: np.ndarray  # devices in the land left for clearance, not found by TS
    m2_per_cell: float  # the hazard's area per cell of the work grid
    released: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    ts_ends: list[int] = field(default_factory=list)
    ground: dict[str, shapely.MultiPolygon] = field(default_factory=dict)  # see land()
    blocked: bool = False  # a step was not finished by the snapshot: later steps wait

    def land(self, what: str, clip: BaseGeometry) -> shapely.MultiPolygon:
        """The hazard's land TS works (``rest``), TS reduces or clearance clears, outlined once."""
        if what not in self.ground:
            flags = {"rest": self.reduce | self.remain, "reduce": self.reduce}.get(
                what, self.remain
            )
            self.ground[what] = self.cells.polygon(flags, clip)
        return self.ground[what]

    def strip(self, what: str, part: np.ndarray, clip: BaseGeometry) -> shapely.MultiPolygon:
        """The part of that land lying in a strip of cells."""
        land = self.land(what, clip)
        if land.is_empty:
            return land
        return as_multi(shapely.intersection(land, self.cells.strip_region(part)))

    @property
    def potential_m2(self) -> float:
        """Land NTS and TS release here (the year's programme counts it when it is tasked)."""
        return float(self.cancel.sum() + self.reduce.sum()) * self.m2_per_cell


@dataclass
class _Pending:
    hazard: int
    ready: int  # ordinal day TS finished


def _devices_in(poly: BaseGeometry, truth: Truth, tree: cKDTree | None) -> np.ndarray:
    if tree is None:
        return np.zeros(0, dtype=np.int64)
    x0, y0, x1, y1 = poly.bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    cand = np.asarray(
        tree.query_ball_point([cx, cy], np.hypot(x1 - x0, y1 - y0) / 2 + 1.0), dtype=np.int64
    )
    if cand.size == 0:
        return cand
    cand.sort()
    return cand[shapely.contains_xy(poly, truth.x[cand], truth.y[cand])]


def _find_details(
    truth: Truth, devices: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Condition, depth (cm) and disposal of found devices."""
    n = devices.size
    cat = truth.category[devices]
    condition = pick(
        rng, (("armed", 0.7), ("damaged", 0.1), ("unarmed", 0.05), ("unknown", 0.15)), n
    )
    loose = np.where(rng.random(n) < 0.5, rng.uniform(0.0, 30.0, n), 0.0)
    depth = np.select(
        [cat == "AP", cat == "AT", cat == "IED"],
        [rng.uniform(1.0, 10.0, n), rng.uniform(5.0, 25.0, n), rng.uniform(0.0, 10.0, n)],
        loose,
    )
    heavy = np.isin(cat, ["AT", "UXO", "AXO", "submunition"])
    r = rng.random(n)
    disposal = np.where(
        heavy,
        np.where(r < 0.7, "destroyed_in_situ", "removed"),
        np.where(r < 0.6, "removed", "destroyed_in_situ"),
    ).astype(object)
    disposal[rng.random(n) < 0.04] = "rendered_safe"
    return condition, np.round(depth, 1), disposal


def hazard_terrain(
    hazards: list[Hazard], slope: np.ndarray, grid: Grid, catalogue: Catalogue
) -> list[str]:
    """The catalogue's terrain band of each hazard, from its mean slope (as the planner does)."""
    n = len(hazards)
    if n == 0:
        return []
    labels = features.rasterize(
        ((h.polygon, i + 1) for i, h in enumerate(hazards)),
        out_shape=grid.shape,
        transform=grid.transform,
        fill=0,
        dtype="int32",
    ).ravel()
    flat = slope.ravel()
    sums = np.bincount(labels, weights=flat, minlength=n + 1)[1:]
    counts = np.bincount(labels, minlength=n + 1)[1:]
    mean = np.divide(sums, counts, out=np.zeros(n), where=counts > 0)
    for i in np.flatnonzero(counts == 0).tolist():
        p = hazards[i].polygon.representative_point()
        mean[i] = float(grid.sample(slope, p.x, p.y))
    return [catalogue.terrain_class(float(s)) for s in mean]


Speeds = dict[str, dict[str, float]]  # per work, the able types and their speed


def _speeds(catalogue: Catalogue, terrain: str, cover: str, contamination: str) -> Speeds:
    """Per work, the able types and their multiplier of the base rate on this ground."""
    out: Speeds = {w: {} for w in WORKS}
    for key, t in catalogue.types.items():
        f = t.factor(terrain, cover, contamination)
        if f <= 0:
            continue
        if t.role == "survey":
            out["NTS"][key] = f * t.release_share
        else:
            if t.ts_speedup > 0:
                out["TS"][key] = f * t.ts_speedup
            out["clearance"][key] = f
    return out


class _Programme:
    """The release of 2021 to the snapshot, task by task in the order tasks become ready."""

    def __init__(
        self,
        obs: Observations,
        truth: Truth,
        fleet: Fleet,
        calendar: WorkCalendar,
        *,
        speeds: list[Speeds],
        survey: SurveyParams,
        operators: OperatorsParams,
        end: dt.date,
        rng: np.random.Generator,
    ) -> None:
        self.obs = obs
        self.truth = truth
        self.fleet = fleet
        self.calendar = calendar
        self.speeds = speeds
        self.survey = survey
        self.ops = operators
        self.snapshot = end.toordinal()
        self.rng = rng
        self.sites: dict[int, _Site] = {}
        self.pending: list[_Pending] = []
        self.budgets: dict[int, tuple[int, int, float]] = {}
        self.spent_cl: dict[int, float] = {}
        self._events: list[tuple[int, int, str, Any]] = []
        self._seq = itertools.count()
        self.max_task = dict(operators.max_task_days)

    def push(self, day: int, kind: str, payload: Any) -> None:
        heapq.heappush(self._events, (day, next(self._seq), kind, payload))

    def run(self) -> None:
        while self._events:
            day, _, kind, payload = heapq.heappop(self._events)
            if kind == "tick":
                self.tick(day)
            elif kind == "nts":
                self.nts(int(payload), day)
            elif kind == "eod":
                self.callout(int(payload), day)
            else:
                h, todo, first = payload
                self.work(kind, h, todo, day, first=first)

    # --- one activity -----------------------------------------------------------------

    def _activity(
        self,
        kind: str,
        h: int,
        team: int,
        *,
        start: int,
        last: int,
        geometry: shapely.MultiPolygon,
        depth: float | None,
    ) -> int:
        """Record an activity; returns its index, or -1 when it did not finish by the snapshot."""
        if last > self.snapshot:
            status = "ongoing" if start <= self.snapshot else "planned"
            qa = "pending" if kind == "clearance" else "not_required"
            self.obs.activities.append(
                Activity(
                    kind, h, team, dt.date.fromordinal(start), None, status, depth, qa, geometry
                )
            )
            return -1
        if kind == "clearance":
            qa = (
                "pending"
                if self.snapshot - last < 60
                else ("failed" if self.rng.random() < 0.02 else "passed")
            )
        else:
            qa = "not_required"
        self.obs.activities.append(
            Activity(
                kind,
                h,
                team,
                dt.date.fromordinal(start),
                dt.date.fromordinal(last),
                "completed",
                depth,
                qa,
                geometry,
            )
        )
        return len(self.obs.activities) - 1

    def _release(self, a: int, method: str, last: int, geom: shapely.MultiPolygon) -> None:
        if geom.is_empty:
            return
        act = self.obs.activities[a]
        setattr(act, method, getattr(act, method) + geom.area)
        self.obs.releases.append(Release(a, method, dt.date.fromordinal(last), geom))

    def _finds(self, a: int, h: int, devices: np.ndarray, start: int, last: int) -> None:
        n = devices.size
        if n == 0:
            return
        days = start + self.rng.integers(0, max(last - start, 0) + 1, n)
        add_finds(
            self.obs,
            np.full(n, a),
            np.full(n, h),
            devices,
            days,
            truth=self.truth,
            rng=self.rng,
        )
        self.obs.hazards[h].type = "CHA"

    # --- the steps ----------------------------------------------------------------------

    def nts(self, h: int, ready: int) -> None:
        hz = self.obs.hazards[h]
        site = self.sites[h]
        poly = hz.polygon
        booking = self.fleet.book(Task("NTS", poly.area, self.speeds[h]["NTS"], ready))
        if booking is None:
            site.blocked = True
            return
        last = self.calendar.finish(booking.kind, booking.start, booking.work_days)
        self.fleet.occupy(booking.team, last)
        a = self._activity(
            "NTS",
            h,
            booking.team,
            start=booking.start,
            last=last,
            geometry=as_multi(poly),
            depth=None,
        )
        if a < 0:
            site.blocked = True
            return
        self._release(a, "cancelled", last, site.cells.polygon(site.cancel, poly))
        site.released = site.cancel.copy()
        rest = site.reduce | site.remain
        if not rest.any() or site.land("rest", poly).is_empty:
            # what NTS left is slivers along the edge of the grid cells: nothing to survey
            site.released[:] = True
            return
        lo, hi = self.ops.nts_to_ts_days
        self.push(
            last + int(self.rng.integers(lo, hi + 1)), "TS", (h, site.cells.strips(rest), True)
        )

    def work(self, kind: str, h: int, todo: np.ndarray, ready: int, *, first: bool) -> None:
        """TS or clearance of the cells ``todo`` of hazard ``h`` (or of a strip of them)."""
        hz = self.obs.hazards[h]
        site = self.sites[h]
        task = Task(
            kind,
            todo.size * site.m2_per_cell,
            self.speeds[h][kind],
            ready,
            commission=first and ready <= self.snapshot,
        )
        booking = self.fleet.book(task)
        if booking is None:
            site.blocked = True
            return
        share = 1.0
        if ready <= self.snapshot and booking.work_days > 0:
            share = min(1.0, self.max_task.get(kind, math.inf) / booking.work_days)
        k = max(1, math.ceil(share * todo.size))
        part, rest = todo[:k], todo[k:]
        flags = np.zeros(len(site.cells), dtype=bool)
        flags[part] = True
        worked = site.strip("rest" if kind == "TS" else "remain", part, hz.polygon)
        if worked.is_empty:
            # slivers of cells along the hazard's edge: no land to work there
            site.released |= flags if kind == "clearance" else flags & site.reduce
        else:
            self._strip(kind, h, booking, part, worked, share=k / todo.size, ready=ready)
        if rest.size:
            # the rest of the site goes to the next free team; only the site's first strip
            # may make an organisation field a new team
            self.push(ready, kind, (h, rest, False))
        elif kind == "TS" and not site.blocked and site.remain.any():
            self.pending.append(_Pending(h, max(site.ts_ends, default=ready)))

    def _strip(
        self,
        kind: str,
        h: int,
        booking: Booking,
        part: np.ndarray,
        worked: shapely.MultiPolygon,
        *,
        share: float,
        ready: int,
    ) -> None:
        """One team's activity on the cells ``part`` of a site: its share of the task."""
        hz = self.obs.hazards[h]
        site = self.sites[h]
        flags = np.zeros(len(site.cells), dtype=bool)
        flags[part] = True
        last = self.calendar.finish(booking.kind, booking.start, booking.work_days * share)
        self.fleet.occupy(booking.team, last)
        depth = 15.0 if kind == "TS" else 30.0 if hz.contamination in ("AT", "mixed") else 20.0
        a = self._activity(
            kind, h, booking.team, start=booking.start, last=last, geometry=worked, depth=depth
        )
        if a < 0:
            # not finished by the snapshot (tasked after it: one planned activity stands for
            # the whole rest of the site)
            site.blocked = True
        elif kind == "TS":
            self._release(a, "reduced", last, site.strip("reduce", part, hz.polygon))
            site.released |= flags & site.reduce
            cells = site.cells.cells_of(self.truth.x[site.ts_found], self.truth.y[site.ts_found])
            found = site.ts_found[(cells >= 0) & flags[np.maximum(cells, 0)]]
            self._finds(a, h, found, booking.start, last)
            site.ts_ends.append(last)
        else:
            self._release(a, "cleared", last, worked)
            site.released |= flags
            left = site.left[self.truth.found_on[site.left] == 0]
            cells = site.cells.cells_of(self.truth.x[left], self.truth.y[left])
            here = left[(cells >= 0) & flags[np.maximum(cells, 0)]]
            found = here[self.rng.random(here.size) >= self.survey.clearance_miss_rate]
            self._finds(a, h, found, booking.start, last)

    def tick(self, day: int) -> None:
        """First of a month: sites whose TS is done go to clearance, within the year's land."""
        year = dt.date.fromordinal(day).year
        if year not in self.budgets:
            return
        day0, span, budget = self.budgets[year]
        allowed = budget * min(1.0, max(day - day0 + 31, 0) / max(span, 1))
        hazards = self.obs.hazards
        self.pending.sort(key=lambda p: -hazards[p.hazard].priority)
        still: list[_Pending] = []
        for p in self.pending:
            if self.spent_cl.get(year, 0.0) >= allowed or p.ready > day or hazards[p.hazard].waits:
                still.append(p)
                continue
            site = self.sites[p.hazard]
            ready = max(day, p.ready + self.ops.ts_to_clearance_days)
            self.push(ready, "clearance", (p.hazard, site.cells.strips(site.remain), True))
            self.spent_cl[year] = (
                self.spent_cl.get(year, 0.0) + float(site.remain.sum()) * site.m2_per_cell
            )
        self.pending = still

    def callout(self, device: int, day: int) -> None:
        """An item reported by the public: an EOD team removes it the day it gets there."""
        speed = {k: 1.0 for k in ("eod",) if k in self.fleet.catalogue}
        if not speed:
            return
        area = math.pi * _CALLOUT_RADIUS_M**2
        booking = self.fleet.book(Task("EOD", area, speed, day, fixed_days=1.0))
        if booking is None or booking.start > self.snapshot:
            return
        self.fleet.occupy(booking.team, booking.start)
        x, y = float(self.truth.x[device]), float(self.truth.y[device])
        circle = shapely.Point(x, y).buffer(_CALLOUT_RADIUS_M, quad_segs=8)
        spot = as_multi(circle.intersection(shapely.box(*self.obs.bounds)))
        a = self._activity(
            "EOD",
            -1,
            booking.team,
            start=booking.start,
            last=booking.start,
            geometry=spot,
            depth=None,
        )
        add_finds(
            self.obs,
            np.array([a]),
            np.array([-1]),
            np.array([device]),
            np.array([booking.start]),
            truth=self.truth,
            rng=self.rng,
        )


def add_finds(
    obs: Observations,
    activities: np.ndarray,
    hazards: np.ndarray,
    devices: np.ndarray,
    days: np.ndarray,
    *,
    truth: Truth,
    rng: np.random.Generator,
) -> None:
    """Record found devices (a GPS error of a few metres) and mark them found in the truth."""
    n = devices.size
    bounds = obs.bounds
    condition, depth, disposal = _find_details(truth, devices, rng)
    obs.finds.add(
        activity=activities.astype(np.int64),
        hazard=hazards.astype(np.int64),
        device=devices.astype(np.int64),
        day=days.astype(np.int64),
        x=np.clip(truth.x[devices] + rng.normal(0, 2.0, n), bounds[0], bounds[2]),
        y=np.clip(truth.y[devices] + rng.normal(0, 2.0, n), bounds[1], bounds[3]),
        condition=condition,
        depth_cm=depth,
        disposal=disposal,
    )
    truth.found_on[devices] = days


def _plan_site(
    hz: Hazard,
    truth: Truth,
    tree: cKDTree | None,
    *,
    params: SurveyParams,
    reach: float,
    rng: np.random.Generator,
) -> _Site | None:
    """What NTS, TS and clearance of a hazard will release and find (from the truth)."""
    poly = hz.polygon
    cells = _Cells(poly, params.work_cell_m, tree, reach)
    n = len(cells)
    if n == 0:
        return None
    r_cancel = uniform(rng, params.cancel_distance_m)
    r_reduce = uniform(rng, params.reduce_distance_m)
    blocks = cells.block(8)
    uniq, inv = np.unique(blocks, return_inverse=True)
    p_cancel = rng.uniform(0.35, 1.0)
    cancellable = (rng.random(uniq.size) < p_cancel)[inv]
    if rng.random() < params.wrong_cancel_share:
        cancel = cancellable  # evidence misread: devices remain in cancelled land
    else:
        cancel = cancellable & (cells.dist > r_cancel)
    reduce = ~cancel & (cells.dist > r_reduce)
    remain = ~cancel & ~reduce
    devices = _devices_in(poly, truth, tree)
    where = cells.cells_of(truth.x[devices], truth.y[devices])
    in_remain = devices[(where >= 0) & remain[np.maximum(where, 0)]]
    found = in_remain[rng.random(in_remain.size) < params.ts_find_rate][: params.ts_find_cap]
    if in_remain.size and found.size == 0:
        found = in_remain[: 1 + int(rng.integers(0, min(3, in_remain.size)))]
    return _Site(
        cells=cells,
        cancel=cancel,
        reduce=reduce,
        remain=remain,
        ts_found=found,
        left=np.setdiff1d(in_remain, found),
        m2_per_cell=poly.area / n,
        released=np.zeros(n, dtype=bool),
    )


def _callouts(
    obs: Observations,
    truth: Truth,
    settlements: Settlements,
    end: dt.date,
    rng: np.random.Generator,
) -> list[tuple[int, int]]:
    """Items of UXO the public reports near inhabited places, outside recorded hazards."""
    if len(truth) == 0:
        return []
    loose = np.isin(truth.category, ["UXO", "AXO", "submunition"]) & (truth.found_on == 0)
    recorded = [as_multi(h.polygon) for h in obs.hazards]
    if recorded:
        in_hazard = np.zeros(len(truth), dtype=bool)
        tree = shapely.STRtree(recorded)
        idx = np.flatnonzero(loose)
        pi, _ = tree.query(shapely.points(truth.x[idx], truth.y[idx]), predicate="intersects")
        in_hazard[idx[np.unique(pi)]] = True
        loose &= ~in_hazard
    people = np.flatnonzero(settlements.population > 0)
    if people.size == 0:
        return []
    d, _ = cKDTree(np.column_stack([settlements.x[people], settlements.y[people]])).query(
        np.column_stack([truth.x, truth.y])
    )
    candidates = np.flatnonzero(loose & (d < 3_000.0))
    reported = candidates[rng.random(candidates.size) < 0.3]
    days = rng.integers(dt.date(2021, 2, 1).toordinal(), end.toordinal(), reported.size)
    return list(zip(reported.tolist(), days.tolist(), strict=True))


def release_land(
    frame: Frame,
    hazards: list[Hazard],
    truth: Truth,
    *,
    terrain: list[str],
    catalogue: Catalogue,
    settlements: Settlements,
    survey: SurveyParams,
    operators: OperatorsParams,
    reference_area_km2: float,
    end: dt.date,
    rng: np.random.Generator,
    rng_teams: np.random.Generator,
) -> tuple[Observations, Operators]:
    """Survey and clearance from 2021 to ``end`` and the teams that did them.

    ``terrain`` is each hazard's terrain band (:func:`hazard_terrain`). Fills
    finds into ``truth.found_on``.
    """
    obs = Observations(hazards, frame.bounds)
    tree = cKDTree(np.column_stack([truth.x, truth.y])) if len(truth) else None
    calendar = WorkCalendar(catalogue, dt.date(2018, 1, 1), dt.date(end.year + 8, 12, 31))
    fleet = Fleet(catalogue, operators, settlements, survey.org_release_mix, rng_teams, calendar)
    speeds = [
        _speeds(catalogue, terrain[i], COVER_OF_LAND_USE.get(h.land_use, "open"), h.contamination)
        for i, h in enumerate(hazards)
    ]
    prog = _Programme(
        obs,
        truth,
        fleet,
        calendar,
        speeds=speeds,
        survey=survey,
        operators=operators,
        end=end,
        rng=rng,
    )
    # what: each year's programme of survey, in priority order until the year's land is used
    survey_kind = next(
        (k for k in ("nts", *catalogue.types) if k in catalogue and catalogue[k].role == "survey"),
        next(iter(catalogue.types)),
    )
    scale = frame.area_km2 / reference_area_km2
    per_year = dict(survey.released_ha_per_year)
    last_year = max(per_year)
    order = sorted(range(len(hazards)), key=lambda h: -hazards[h].priority)
    reach = survey.cancel_distance_m[1] + 1.0
    surveyed: set[int] = set()
    for year in range(2021, end.year + 1):
        ha = per_year.get(year, per_year[last_year])
        day0 = dt.date(year, 1, 10)
        day1 = min(dt.date(year, 12, 20), end)
        if day1 <= day0:
            break
        span = (day1 - day0).days
        budget = ha * 1e4 * scale * (span / 344.0)
        budget_sr = budget * (1.0 - survey.cleared_share)
        prog.budgets[year] = (day0.toordinal(), span, budget * survey.cleared_share)
        spent = 0.0
        chosen: list[int] = []
        for h in order:
            if spent >= budget_sr:
                break
            hz = hazards[h]
            if h in surveyed or hz.recorded_on > day1 - dt.timedelta(days=20):
                continue
            surveyed.add(h)
            site = _plan_site(hz, truth, tree, params=survey, reach=reach, rng=rng)
            if site is None:
                continue
            prog.sites[h] = site
            chosen.append(h)
            spent += site.potential_m2
        # the year's surveys, in order, spread over the survey season by their work (the
        # area to visit): fewer are tasked in winter, when teams do less
        area = np.array([hazards[h].polygon.area for h in chosen])
        done = (np.cumsum(area) - area) / max(float(area.sum()), 1.0)
        days = calendar.spread(survey_kind, day0.toordinal(), day1.toordinal(), done)
        for h, day in zip(chosen, days.tolist(), strict=True):
            earliest = (hazards[h].recorded_on + dt.timedelta(days=14)).toordinal()
            prog.push(max(int(day), earliest), "nts", h)
    for device, day in _callouts(obs, truth, settlements, end, rng):
        prog.push(day, "eod", device)
    month = dt.date(2021, 1, 1)
    while month <= end:
        prog.push(month.toordinal(), "tick", None)
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    prog.run()
    for h, site in prog.sites.items():
        if site.released.any():
            hazards[h].current = site.cells.polygon(~site.released, hazards[h].polygon)
    settle_hazards(obs, truth)
    return obs, fleet.operators(end)


_CONTAMINATION = {
    "AP": "AP",
    "AT": "AT",
    "submunition": "CMR",
    "UXO": "UXO",
    "AXO": "UXO",
    "IED": "IED",
}


def settle_hazards(obs: Observations, truth: Truth) -> None:
    """Status and contamination after the work: closed when nothing is left."""
    found_cats: dict[int, set[str]] = {}
    table = obs.finds.frame
    with_hazard = table[table["hazard"] >= 0]
    cats = truth.category[with_hazard["device"].to_numpy(dtype=np.int64)]
    for h, c in zip(with_hazard["hazard"].tolist(), cats.tolist(), strict=True):
        found_cats.setdefault(int(h), set()).add(_CONTAMINATION[c])
    for h, hz in enumerate(obs.hazards):
        if hz.current is not None and hz.current.area < 1.0:
            hz.status = "closed"
        found = found_cats.get(h)
        if found:
            hz.contamination = next(iter(found)) if len(found) == 1 else "mixed"
