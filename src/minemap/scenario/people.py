"""People meeting mines: accidents, victims, and risk education.

Each year from the 2020 ceasefire the expected number of victims follows the
published Azerbaijani rate scaled by area (and declines after 2023). Each
accident is given a victim group and an activity, and is then *found*
rather than placed: people are simulated doing that activity where it is
done (farmers on cropland around inhabited and returning villages, herders
on pasture, drivers on roads and tracks, scrap collectors at old positions,
soldiers at positions and battle areas, deminers on clearance sites) and an
accident happens where one of them passes within ``hit_radius_m`` of a device
that is live on that day (laid already, not yet found, not already set off).
So accidents fall where people and mines truly meet, and their device is the
one that was there. Outcomes follow the published killed share, adjusted by
device (anti-tank and bounding fragmentation mines kill more often).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from minemap.scenario.conflict import Battles, Positions
from minemap.scenario.frame import Frame, pick
from minemap.scenario.landcover import CROPLAND, PASTURE
from minemap.scenario.mining import Truth
from minemap.scenario.places import Roads, Settlements
from minemap.scenario.presets import PeopleParams
from minemap.scenario.survey import Hazard, Observations
from minemap.scenario.terrain import Grid

INJURIES = (
    "lower-limb amputation",
    "upper-limb amputation",
    "fragmentation wounds",
    "eye injury",
    "burns",
    "hearing loss",
)
ASSISTANCE = (
    "emergency medical care",
    "prosthetics and rehabilitation",
    "psychosocial support",
    "economic reintegration",
)
# how much more often a device kills than the average (blast AP mines less, AT more)
_LETHALITY = {"AT": 2.6, "submunition": 1.5, "UXO": 1.3, "AXO": 1.3, "IED": 1.6, "AP": 0.75}
_BOUNDING = {"OZM-72": 1.8, "MON-50": 1.6, "POMZ-2M": 1.4}


def lethality(category: str, model: str) -> float:
    if category == "AP" and model in _BOUNDING:
        return _BOUNDING[model]
    return _LETHALITY.get(category, 1.0)


@dataclass
class Accident:
    date: dt.date
    x: float
    y: float
    activity: str
    group: str
    device: int
    reported_category: str | None
    reported_model: str | None
    hazard: int
    district: int
    settlement: int
    description: str


@dataclass
class Victim:
    accident: int
    outcome: str
    sex: str
    age: int
    group: str
    injuries: str
    assistance: str | None


def victim_groups(params: PeopleParams) -> tuple[tuple[str, float], ...]:
    """Shares of civilians, military and deminers among victims.

    The published split is of the killed (50 civilians, 15 military); it is
    taken for all victims, and deminers are carved out of the civilians.
    """
    military = (params.killed_total - params.killed_civilians) / params.killed_total
    return (
        ("civilian", 1.0 - military - params.deminer_share),
        ("military", military),
        ("deminer", params.deminer_share),
    )


def yearly_victims(params: PeopleParams, area_scale: float, end: dt.date) -> dict[int, float]:
    """Expected victims per year: the published rate scaled by area, declining after it."""
    start = dt.date.fromisoformat(params.victims_from)
    stop = dt.date.fromisoformat(params.victims_to)
    per_day = params.victims_total / max((stop - start).days, 1) * area_scale
    out: dict[int, float] = {}
    for year in range(start.year, end.year + 1):
        a = max(start, dt.date(year, 1, 1))
        b = min(end, dt.date(year, 12, 31))
        days = max((b - a).days + 1, 0)
        decline = params.yearly_decline_after ** max(0, year - stop.year)
        out[year] = per_day * days * decline
    return out


class _Exposure:
    """Where and when people doing one activity are, as candidate points."""

    def __init__(
        self,
        frame: Frame,
        settlements: Settlements,
        roads: Roads,
        positions: Positions,
        battles: Battles,
        *,
        landcover: np.ndarray,
        fine: Grid,
        start: dt.date,
        end: dt.date,
    ) -> None:
        self.frame = frame
        self.s = settlements
        self.positions = positions
        self.battles = battles
        self.landcover = landcover
        self.fine = fine
        self.start = start.toordinal()
        self.end = end.toordinal()
        weight = {"main": 1.0, "secondary": 2.0, "track": 3.0}
        self.roads = roads.geometries
        w = np.array(
            [g.length * weight[c] for g, c in zip(roads.geometries, roads.classes, strict=True)]
        )
        self.road_p = w / w.sum() if w.size else w

    def _around(
        self, rng: np.random.Generator, weights: np.ndarray, m: int, scale: float
    ) -> tuple[np.ndarray, np.ndarray]:
        if weights.sum() <= 0:
            return np.zeros(0), np.zeros(0)
        i = rng.choice(weights.size, size=m, p=weights / weights.sum())
        r = rng.gamma(2.0, scale / 2.0, m)
        a = rng.uniform(0, 2 * np.pi, m)
        return self.s.x[i] + r * np.cos(a), self.s.y[i] + r * np.sin(a)

    def draw(
        self, activity: str, year: int, m: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lo = max(self.start, dt.date(year, 1, 1).toordinal())
        hi = min(self.end, dt.date(year, 12, 31).toordinal())
        if hi < lo:
            return np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
        people = self.s.people_in(year)
        if activity in ("farming", "herding"):
            # east-side villagers now farm and graze the land of the old no-man's land
            scale = 1_800.0 if activity == "farming" else 3_500.0
            x, y = self._around(rng, people, m, scale)
            wanted = (CROPLAND,) if activity == "farming" else (PASTURE,)
            ok = np.isin(self.fine.sample(self.landcover, x, y), wanted)
            x, y = x[ok], y[ok]
        elif activity == "playing":
            x, y = self._around(rng, people, m, 500.0)
        elif activity == "construction":
            due = np.array(
                [r is not None and r <= year + 1 for r in self.s.planned_return_year], dtype=bool
            )
            x, y = self._around(rng, np.where(due, self.s.former_population, 0.0), m, 600.0)
        elif activity == "travel":
            if not self.roads:
                return np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
            gi = rng.choice(len(self.roads), size=m, p=self.road_p)
            lengths = np.array([self.roads[i].length for i in gi])
            pts = shapely.get_coordinates(
                shapely.line_interpolate_point(
                    np.asarray(self.roads, dtype=object)[gi], rng.random(m) * lengths
                )
            )
            spread = np.where(rng.random(m) < 0.1, 30.0, 2.5)
            x = pts[:, 0] + rng.normal(0, 1, m) * spread
            y = pts[:, 1] + rng.normal(0, 1, m) * spread
        elif activity in ("scrap_collection", "military_duty"):
            n_pos = int(m * 0.7)
            k = rng.integers(0, len(self.positions), n_pos)
            r = rng.gamma(2.0, 60.0 if activity == "scrap_collection" else 120.0, n_pos)
            a = rng.uniform(0, 2 * np.pi, n_pos)
            x = self.positions.x[k] + r * np.cos(a)
            y = self.positions.y[k] + r * np.sin(a)
            if self.battles.areas:
                n_b = m - n_pos
                b = rng.integers(0, len(self.battles.areas), n_b)
                bx = np.empty(n_b)
                by = np.empty(n_b)
                for j, poly in enumerate(self.battles.areas):
                    sel = b == j
                    c = _uniform_in(poly, int(sel.sum()), rng)
                    bx[sel], by[sel] = c[:, 0], c[:, 1]
                x, y = np.concatenate([x, bx]), np.concatenate([y, by])
        else:
            return np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
        inside = self.frame.inside(x, y)
        x, y = x[inside], y[inside]
        days = rng.integers(lo, hi + 1, x.size)
        return x, y, days


def _uniform_in(poly: shapely.Polygon, n: int, rng: np.random.Generator) -> np.ndarray:
    x0, y0, x1, y1 = poly.bounds
    out = np.zeros((0, 2))
    for _ in range(40):
        if len(out) >= n:
            break
        pts = np.column_stack([rng.uniform(x0, x1, 3 * n + 8), rng.uniform(y0, y1, 3 * n + 8)])
        out = np.vstack([out, pts[shapely.contains_xy(poly, pts[:, 0], pts[:, 1])]])
    if len(out) < n:
        c = poly.representative_point()
        out = np.vstack([out, np.tile([c.x, c.y], (n - len(out), 1))])
    return out[:n]


def live_from(truth: Truth) -> np.ndarray:
    """First day (ordinal) each device is in the ground."""
    year = truth.laid_year
    day = np.array([dt.date(int(y), 7, 1).toordinal() for y in range(1990, 2031)])
    out = day[np.clip(year - 1990, 0, day.size - 1)]
    war = truth.period == "2020"
    out[war] = dt.date(2020, 10, 1).toordinal()
    old = year < 2020
    out[old & ~war] = dt.date(1994, 5, 12).toordinal()
    return out


def _hits(
    truth: Truth,
    tree: cKDTree,
    live: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    *,
    days: np.ndarray,
    radius: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate points that meet a live device: (point index, device index)."""
    if x.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    k = min(6, len(truth))
    dist, idx = tree.query(np.column_stack([x, y]), k=k, distance_upper_bound=radius)
    dist = dist.reshape(x.size, k)
    idx = idx.reshape(x.size, k)
    ok = np.isfinite(dist)
    safe = np.where(ok, idx, 0)
    found = truth.found_on[safe]
    gone = truth.detonated_on[safe]
    alive = (
        ok & (live[safe] <= days[:, None]) & ((found == 0) | (found > days[:, None])) & (gone == 0)
    )
    any_alive = alive.any(axis=1)
    first = alive.argmax(axis=1)
    pts = np.flatnonzero(any_alive)
    return pts, idx[pts, first[pts]]


def simulate_accidents(
    frame: Frame,
    truth: Truth,
    obs: Observations,
    settlements: Settlements,
    roads: Roads,
    *,
    positions: Positions,
    battles: Battles,
    landcover: np.ndarray,
    fine: Grid,
    district_of: Callable[[np.ndarray, np.ndarray], np.ndarray],
    params: PeopleParams,
    area_scale: float,
    end: dt.date,
    rng: np.random.Generator,
) -> tuple[list[Accident], list[Victim]]:
    """Accidents and their victims from the 2020 ceasefire to ``end``."""
    accidents: list[Accident] = []
    if len(truth) == 0:
        return accidents, []
    tree = cKDTree(np.column_stack([truth.x, truth.y]))
    live = live_from(truth)
    start = dt.date.fromisoformat(params.victims_from)
    exposure = _Exposure(
        frame,
        settlements,
        roads,
        positions,
        battles,
        landcover=landcover,
        fine=fine,
        start=start,
        end=end,
    )
    per_accident = dict(params.victims_per_accident)
    mean_victims = sum(int(k) * v for k, v in per_accident.items()) / sum(per_accident.values())
    group_mix = victim_groups(params)
    civ_activities = [a for a, _ in params.civilian_activity_mix]
    s_tree = cKDTree(np.column_stack([settlements.x, settlements.y]))

    for year, expected in sorted(yearly_victims(params, area_scale, end).items()):
        n_acc = int(rng.poisson(expected / mean_victims))
        groups = pick(rng, group_mix, n_acc)
        pools: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        for g in groups.tolist():
            if g == "deminer":
                acc = _deminer_accident(obs, truth, year, rng)
                if acc is not None:
                    accidents.append(acc)
                    continue
                g = "civilian"
            if g == "military":
                order = ["military_duty", *civ_activities]
                group = "military"
            else:
                first = str(pick(rng, params.civilian_activity_mix, 1)[0])
                order = [first] + [a for a in civ_activities if a != first]
                group = "civilian"
            for activity in order:
                hit = _draw_hit(
                    activity,
                    year,
                    pools,
                    exposure,
                    truth,
                    tree=tree,
                    live=live,
                    params=params,
                    rng=rng,
                )
                if hit is None:
                    continue
                x, y, day, dev = hit
                truth.detonated_on[dev] = day
                accidents.append(
                    Accident(
                        dt.date.fromordinal(day),
                        x,
                        y,
                        "military_duty" if group == "military" else activity,
                        group,
                        dev,
                        None,
                        None,
                        -1,
                        -1,
                        -1,
                        "",
                    )
                )
                break

    accidents.sort(key=lambda a: (a.date, a.x, a.y))
    for a in accidents:
        spread = 250.0 if rng.random() < 0.1 else 15.0
        a.x = float(truth.x[a.device] + rng.normal(0, spread))
        a.y = float(truth.y[a.device] + rng.normal(0, spread))
        a.x = float(np.clip(a.x, frame.x0 + 1, frame.x1 - 1))
        a.y = float(np.clip(a.y, frame.y0 + 1, frame.y1 - 1))
        cat = str(truth.category[a.device])
        model = str(truth.model[a.device])
        a.reported_category = cat if rng.random() < 0.85 else None
        a.reported_model = model if a.reported_category and rng.random() < 0.7 else None
        a.district = int(district_of(np.array([a.x]), np.array([a.y]))[0])
        a.settlement = int(s_tree.query([a.x, a.y])[1])
        what = a.reported_model or a.reported_category or "unknown device"
        a.description = (
            f"{what} during {a.activity.replace('_', ' ')} near {settlements.name[a.settlement]}"
        )
    victims = draw_victims(accidents, truth, params, rng)
    return accidents, victims


def _draw_hit(
    activity: str,
    year: int,
    pools: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    exposure: _Exposure,
    truth: Truth,
    *,
    tree: cKDTree,
    live: np.ndarray,
    params: PeopleParams,
    rng: np.random.Generator,
) -> tuple[float, float, int, int] | None:
    """One person doing ``activity`` in ``year`` who meets a live device, if any does."""
    for attempt in range(4):
        pool = pools.get(activity)
        if pool is not None and pool[0].size:
            x, y, days, devs = pool
            still = (truth.detonated_on[devs] == 0) & (
                (truth.found_on[devs] == 0) | (truth.found_on[devs] > days)
            )
            x, y, days, devs = x[still], y[still], days[still], devs[still]
            if devs.size:
                j = int(rng.integers(devs.size))
                keep = np.arange(devs.size) != j
                pools[activity] = (x[keep], y[keep], days[keep], devs[keep])
                return float(x[j]), float(y[j]), int(days[j]), int(devs[j])
        if attempt == 3:
            break
        cx, cy, cd = exposure.draw(activity, year, 60_000, rng)
        pts, devs = _hits(truth, tree, live, cx, cy, days=cd, radius=params.hit_radius_m)
        pools[activity] = (cx[pts], cy[pts], cd[pts], devs)
    return None


def _deminer_accident(
    obs: Observations, truth: Truth, year: int, rng: np.random.Generator
) -> Accident | None:
    """A deminer sets off a device during clearance: that device is no longer a find."""
    table = obs.finds.frame
    if table.empty:
        return None
    clearance = np.array([a.type == "clearance" for a in obs.activities], dtype=bool)
    lo, hi = dt.date(year, 1, 1).toordinal(), dt.date(year, 12, 31).toordinal()
    day = table["day"].to_numpy()
    act = table["activity"].to_numpy(dtype=np.int64)
    cands = np.flatnonzero((day >= lo) & (day <= hi) & (act >= 0) & clearance[np.maximum(act, 0)])
    if cands.size == 0:
        return None
    i = int(cands[int(rng.integers(cands.size))])
    row = table.iloc[i]
    device = int(row["device"])
    keep = np.ones(len(table), dtype=bool)
    keep[i] = False
    obs.finds.keep(keep)
    truth.found_on[device] = 0
    truth.detonated_on[device] = int(row["day"])
    return Accident(
        dt.date.fromordinal(int(row["day"])),
        float(row["x"]),
        float(row["y"]),
        "demining",
        "deminer",
        device,
        None,
        None,
        int(row["hazard"]),
        -1,
        -1,
        "",
    )


def draw_victims(
    accidents: list[Accident], truth: Truth, params: PeopleParams, rng: np.random.Generator
) -> list[Victim]:
    """Victims of each accident: number, outcome, sex, age, group."""
    per_accident = params.victims_per_accident
    counts: list[int] = []
    factors: list[float] = []
    for a in accidents:
        k = int(pick(rng, per_accident, 1)[0])
        cat = str(truth.category[a.device])
        if a.activity == "travel" and cat == "AT":
            k += 1  # a vehicle carries several people
        counts.append(k)
        factors.extend([lethality(cat, str(truth.model[a.device]))] * k)
    if not counts:
        return []
    f = np.asarray(factors)
    base = params.killed_total / params.victims_total
    p_kill = np.clip(base * f / f.mean(), 0.02, 0.95)
    killed = rng.random(f.size) < p_kill
    victims: list[Victim] = []
    v = 0
    for ai, (a, k) in enumerate(zip(accidents, counts, strict=True)):
        for _ in range(k):
            if a.group == "military":
                male, age = rng.random() < 0.99, int(rng.integers(19, 46))
            elif a.group == "deminer":
                male, age = rng.random() < params.male_share_deminer, int(rng.integers(22, 56))
            elif a.activity == "playing":
                male, age = rng.random() < 0.75, int(rng.integers(7, 17))
            else:
                male = rng.random() < params.male_share_civilian
                age = int(np.clip(rng.normal(38.0, 14.0), 15, 80))
            if killed[v]:
                outcome, injuries, assistance = "killed", "fatal injuries", None
            else:
                outcome = "injured"
                injuries = INJURIES[int(rng.integers(len(INJURIES)))]
                n_help = int(rng.integers(1, 4))
                assistance = "; ".join(ASSISTANCE[:n_help])
            victims.append(
                Victim(
                    ai, outcome, "male" if male else "female", age, a.group, injuries, assistance
                )
            )
            v += 1
    return victims


def link_accident_hazards(
    accidents: list[Accident],
    obs: Observations,
    settlements: Settlements,
    district_of: Callable[[np.ndarray, np.ndarray], np.ndarray],
    end: dt.date,
    *,
    rng: np.random.Generator,
) -> None:
    """Link each accident to the hazard holding it; record a new CHA where none did."""
    recorded = [h.polygon for h in obs.hazards]
    tree = shapely.STRtree(recorded) if recorded else None
    s_tree = cKDTree(np.column_stack([settlements.x, settlements.y]))
    for a in accidents:
        if a.hazard >= 0 and a.group == "deminer":
            continue
        pt = shapely.Point(a.x, a.y)
        holders = [] if tree is None else tree.query(pt, predicate="intersects").tolist()
        holders = [h for h in sorted(holders) if obs.hazards[h].recorded_on <= a.date]
        if holders:
            a.hazard = holders[0]
            continue
        when = a.date + dt.timedelta(days=int(rng.integers(3, 30)))
        if when > end:
            continue
        circle: BaseGeometry = pt.buffer(float(rng.uniform(150.0, 300.0)), quad_segs=16)
        if tree is not None:
            near = tree.query(circle, predicate="intersects").tolist()
            if near:
                circle = circle.difference(shapely.union_all([recorded[i] for i in near]))
        parts = [p for p in shapely.get_parts(circle) if isinstance(p, shapely.Polygon)]
        if not parts:
            continue
        poly: shapely.Polygon = max(parts, key=lambda p: p.area)
        if poly.area < 5_000.0:
            continue
        cat = a.reported_category
        contamination = {"AP": "AP", "AT": "AT", "submunition": "CMR", "IED": "IED"}.get(
            cat or "", "UXO" if cat in ("UXO", "AXO") else "mixed"
        )
        s = int(s_tree.query([a.x, a.y])[1])
        obs.hazards.append(
            Hazard(
                polygon=poly,
                type="CHA",
                contamination=contamination,
                evidence="accident",
                recorded_on=when,
                district=int(district_of(np.array([a.x]), np.array([a.y]))[0]),
                settlement=s,
                land_use="other",
                name=f"{settlements.name[s]} accident {a.date.year}",
                organisation=0,
                priority=0.0,
            )
        )
        recorded.append(poly)
        tree = shapely.STRtree(recorded)
        a.hazard = len(obs.hazards) - 1


@dataclass
class EoreSession:
    date: dt.date
    settlement: int
    x: float
    y: float
    method: str
    men: int
    women: int
    boys: int
    girls: int
    materials: int
    materials_type: str
    organisation: int


_METHODS = (
    ("session", 0.55),
    ("school", 0.15),
    ("brochure", 0.12),
    ("community_liaison", 0.12),
    ("media", 0.06),
)


def make_eore(
    settlements: Settlements,
    params: PeopleParams,
    area_scale: float,
    end: dt.date,
    rng: np.random.Generator,
    *,
    bounds: tuple[float, float, float, float],
) -> list[EoreSession]:
    """Risk-education sessions in inhabited and returning settlements, 2021 to ``end``."""
    sessions: list[EoreSession] = []
    x_range = (bounds[0], bounds[2])
    y_range = (bounds[1], bounds[3])
    for year in range(2021, end.year + 1):
        frac = 1.0 if year < end.year else (end - dt.date(year, 1, 1)).days / 365.0
        people = settlements.people_in(year)
        # returnees are briefed the year before they move back
        due = np.array([r == year + 1 for r in settlements.planned_return_year], dtype=bool)
        people = people + np.where(due, settlements.displaced * 0.5, 0.0)
        rate = params.eore_sessions_per_1000_per_year * people / 1000.0 * frac
        counts = rng.poisson(rate)
        for s in np.flatnonzero(counts).tolist():
            for _ in range(int(counts[s])):
                lo = dt.date(year, 1, 5).toordinal()
                hi = min(dt.date(year, 12, 20), end).toordinal()
                if hi <= lo:
                    continue
                method = str(pick(rng, _METHODS, 1)[0])
                men, women, boys, girls = (int(v) for v in rng.poisson([9, 8, 6, 6]))
                if method == "school":
                    men, women, boys, girls = 0, 1, int(rng.poisson(14)), int(rng.poisson(14))
                elif method == "media":
                    men = women = boys = girls = 0
                org = int(pick(rng, (("0", 0.6), ("6", 0.15), ("5", 0.1), ("7", 0.15)), 1)[0])
                sessions.append(
                    EoreSession(
                        date=dt.date.fromordinal(int(rng.integers(lo, hi))),
                        settlement=s,
                        x=float(np.clip(settlements.x[s] + rng.normal(0, 80.0), *x_range)),
                        y=float(np.clip(settlements.y[s] + rng.normal(0, 80.0), *y_range)),
                        method=method,
                        men=men,
                        women=women,
                        boys=boys,
                        girls=girls,
                        materials=0,
                        materials_type="brochure" if method != "school" else "school kit",
                        organisation=org,
                    )
                )
    # the published brochure total, scaled by area, shared among the sessions
    if sessions:
        total = params.brochures_total * area_scale
        weights = np.array([s.men + s.women + s.boys + s.girls + 10 for s in sessions], dtype=float)
        shares = rng.multinomial(round(total), weights / weights.sum())
        for session, k in zip(sessions, shares.tolist(), strict=True):
            session.materials = int(k)
    sessions.sort(key=lambda s: (s.date, s.settlement))
    return sessions
