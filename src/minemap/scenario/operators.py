"""Who does the work: organisations, the teams they field as work grows, and team calendars.

An ANAMA-like national agency, the Ministry of Defence's engineers, an
international and a national NGO, commercial companies and a UN support
project. Teams are not drawn up front: :class:`Fleet` fields a new one when
a task has waited too long for a free team able to do it (see
:class:`~minemap.scenario.presets.OperatorsParams`), so the fleet is sized by
the work it did. Manual teams count their staff by sex, and a share of them
include women deminers.

How fast a team works comes from the planner's asset catalogue
(:mod:`minemap.plan.catalogue`), the one source of productivity: its rate
on reference ground (per deminer for manual teams), times the factor of the
site's terrain, cover and contamination, times ``ts_speedup`` for technical
survey and ``release_share`` for survey types; working days per month and
the seasons come from the catalogue too (:class:`WorkCalendar`). Each team
works one task at a time (:meth:`Fleet.book`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from minemap.plan.catalogue import Catalogue
from minemap.scenario.places import Settlements
from minemap.scenario.presets import OperatorsParams

ORGANISATIONS: tuple[tuple[str, str, str, str], ...] = (
    # name, type, country, short
    ("National Mine Action Agency", "national_authority", "AZ", "NMAA"),
    ("Ministry of Defence Engineer Troops", "military", "AZ", "MOD"),
    ("Safe Ground Engineering LLC", "commercial", "AZ", "SGE"),
    ("Anatolia Demining Services", "commercial", "TR", "ADS"),
    ("Caspian Clearance Company", "commercial", "AZ", "CCC"),
    ("Mine Clearance Trust", "ngo", "GB", "MCT"),
    ("Karabakh Demining Initiative", "ngo", "AZ", "KDI"),
    ("UN Mine Action Support Project", "international", "AZ", "UNSP"),
)

# which organisation types field which team types
_FIELDS: dict[str, tuple[str, ...]] = {
    "manual": ("national_authority", "military", "commercial", "ngo"),
    "dog": ("national_authority", "commercial", "ngo"),
    "machine": ("national_authority", "military", "commercial"),
    "drone": ("national_authority", "commercial"),
    "nts": ("national_authority", "ngo"),
    "eod": ("national_authority", "military"),
}

_STAFF = {
    "manual": (8, 14),
    "dog": (2, 4),
    "machine": (2, 3),
    "drone": (2, 3),
    "nts": (3, 5),
    "eod": (3, 5),
}
_MODELS = {
    "manual": ("manual demining team",),
    "dog": ("two-dog MDD team",),
    "machine": (
        "MV-4 flail",
        "MV-10 flail",
        "Bozena 5 flail",
        "MineWolf MW240",
        "armoured bulldozer D85EX-15",
    ),
    "drone": ("multi-sensor drone", "drone with AI detection of surface items"),
    "nts": ("NTS team vehicle",),
    "eod": ("EOD response vehicle",),
}
_LABEL = {
    "manual": "Manual",
    "dog": "MDD",
    "machine": "Machine",
    "drone": "Drone",
    "nts": "NTS",
    "eod": "EOD",
}

#: Teams fielded for the first tasks of 2021 already existed (ANAMA worked before the war).
_FLEET_BEFORE = dt.date(2021, 3, 1)


@dataclass
class Operators:
    org_name: list[str]
    org_type: list[str]
    org_country: list[str]
    team_name: list[str]
    team_type: list[str]
    team_org: list[int]
    staff_male: list[int]
    staff_female: list[int]
    team_base: list[int]  # settlement index
    asset_name: list[str]
    asset_type: list[str]
    asset_team: list[int]
    asset_model: list[str]
    asset_deminers: list[int | None]
    asset_status: list[str]
    asset_commissioned: list[dt.date]
    asset_productivity: list[float | None]

    def teams_of(self, team_type: str, org_types: tuple[str, ...] | None = None) -> list[int]:
        return [
            i
            for i, t in enumerate(self.team_type)
            if t == team_type
            and (org_types is None or self.org_type[self.team_org[i]] in org_types)
        ]


class WorkCalendar:
    """Effective working days per asset type, day by day, from the catalogue's seasons.

    A type with ``working_days_per_month`` days and a month factor ``f`` works
    ``days * f / days_in_month`` of each calendar day of that month, so a task
    of ``w`` effective working days begun in winter lasts longer than the same
    task in summer.
    """

    def __init__(self, catalogue: Catalogue, first: dt.date, last: dt.date) -> None:
        self.first = first.toordinal()
        days = np.arange(
            np.datetime64(first, "D"), np.datetime64(last, "D") + np.timedelta64(1, "D")
        )
        months = days.astype("datetime64[M]")
        month_no = (months.astype(np.int64) % 12) + 1
        length = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(
            np.float64
        )
        self._cum: dict[str, np.ndarray] = {}
        for key, t in catalogue.types.items():
            factor = np.asarray(t.months, dtype=np.float64)[month_no - 1]
            per_day = t.working_days_per_month * factor / length
            self._cum[key] = np.concatenate([[0.0], np.cumsum(per_day)])

    def finish(self, kind: str, start: int, work_days: float) -> int:
        """Ordinal of the last day of a task of ``work_days`` begun on day ``start``."""
        cum = self._cum[kind]
        i = min(max(start - self.first, 0), cum.size - 2)
        j = int(np.searchsorted(cum, cum[i] + max(work_days, 0.0) - 1e-9))
        return self.first + min(max(j - 1, i), cum.size - 2)

    def spread(self, kind: str, start: int, end: int, fractions: np.ndarray) -> np.ndarray:
        """Days from ``start`` to ``end`` by which each fraction of ``kind``'s working days
        there has passed: work spread over a season as the teams can do it."""
        cum = self._cum[kind]
        i = min(max(start - self.first, 0), cum.size - 1)
        j = min(max(end - self.first + 1, i), cum.size - 1)
        target = cum[i] + np.clip(fractions, 0.0, 1.0) * (cum[j] - cum[i])
        k = np.searchsorted(cum, target, side="right") - 1
        return self.first + np.clip(k, i, max(j - 1, i))

    def finish_many(self, kind: str, starts: np.ndarray, work_days: np.ndarray) -> np.ndarray:
        """:meth:`finish` of several tasks of one type."""
        cum = self._cum[kind]
        i = np.clip(starts - self.first, 0, cum.size - 2)
        j = np.searchsorted(cum, cum[i] + np.maximum(work_days, 0.0) - 1e-9)
        return self.first + np.minimum(np.maximum(j - 1, i), cum.size - 2)

    def working_days(self, kind: str, start: int, end: int) -> float:
        """Effective working days of ``kind`` from day ``start`` to day ``end``, both included."""
        cum = self._cum[kind]
        i = min(max(start - self.first, 0), cum.size - 1)
        j = min(max(end - self.first + 1, i), cum.size - 1)
        return float(cum[j] - cum[i])


@dataclass
class Task:
    """Work waiting for a team: ``speed`` maps each able type to its multiplier of the base rate."""

    work: str  # NTS, TS, clearance, EOD
    area_m2: float
    speed: dict[str, float]
    ready: int  # ordinal day
    commission: bool = True  # a new team may be fielded for it
    fixed_days: float | None = None  # working days regardless of area (call-outs)


@dataclass
class Booking:
    team: int
    kind: str
    start: int  # ordinal day
    work_days: float  # effective working days the whole task would take this team


@dataclass
class Fleet:
    """Teams fielded as the work needs them, each free from a given day."""

    catalogue: Catalogue
    params: OperatorsParams
    settlements: Settlements
    release_mix: tuple[tuple[str, float], ...]
    rng: np.random.Generator
    calendar: WorkCalendar
    kind: list[str] = field(default_factory=list)
    org: list[int] = field(default_factory=list)
    male: list[int] = field(default_factory=list)
    female: list[int] = field(default_factory=list)
    base: list[int] = field(default_factory=list)
    commissioned: list[dt.date] = field(default_factory=list)
    measured: list[float | None] = field(default_factory=list)
    pace: list[float] = field(default_factory=list)
    model: list[str] = field(default_factory=list)
    left_on: list[int | None] = field(default_factory=list)  # day a team left (retired)
    # first day each team can start a task, and its type's number (arrays: a booking
    # looks at every team)
    _free: np.ndarray = field(default_factory=lambda: np.zeros(64, dtype=np.int64))
    _code: np.ndarray = field(default_factory=lambda: np.zeros(64, dtype=np.int64))

    @property
    def free(self) -> np.ndarray:
        return self._free[: len(self.kind)]

    def _code_of(self, kind: str) -> int:
        return list(self.catalogue.types).index(kind) if kind in self.catalogue else -1

    def __len__(self) -> int:
        return len(self.kind)

    def rate(self, team: int) -> float:
        """m² per working day of ``team`` on reference ground (catalogue, or measured)."""
        given = self.measured[team]
        if given is not None:
            return given
        t = self.catalogue[self.kind[team]]
        return t.base_rate(self.male[team] + self.female[team])

    def field_team(self, kind: str, day: int) -> int:
        """A new team of ``kind`` able to start on ``day``; its organisation by the release mix."""
        rng = self.rng
        org_type = [o[1] for o in ORGANISATIONS]
        weight_of = dict(self.release_mix)
        orgs = [i for i, t in enumerate(org_type) if t in _FIELDS.get(kind, ())]
        if not orgs:
            orgs = list(range(len(ORGANISATIONS)))
        # the release mix is per organisation type: shared among that type's organisations
        w = np.array([weight_of.get(org_type[i], 1_000.0) for i in orgs])
        w = w / np.array([sum(1 for j in orgs if org_type[j] == org_type[i]) for i in orgs])
        o = orgs[int(rng.choice(len(orgs), p=w / w.sum()))]
        lo, hi = _STAFF.get(kind, (2, 4))
        staff = int(rng.integers(lo, hi + 1))
        women = 0
        if kind in ("manual", "nts") and rng.random() < self.params.teams_with_women_share:
            women = int(rng.integers(1, 4))
        inhabited = np.flatnonzero(~self.settlements.west & (self.settlements.population > 0))
        if inhabited.size == 0:
            inhabited = np.arange(max(len(self.settlements), 1))
        when = dt.date.fromordinal(day)
        if when < _FLEET_BEFORE:
            when = dt.date(2018, 1, 1) + dt.timedelta(days=int(rng.integers(0, 3 * 365)))
        models = _MODELS.get(kind, (kind,))
        self.kind.append(kind)
        self.org.append(o)
        self.male.append(max(staff - women, 1))
        self.female.append(women)
        self.base.append(int(rng.choice(inhabited)))
        self.commissioned.append(when)
        self.model.append(models[int(rng.integers(len(models)))])
        self.left_on.append(None)
        # a few machines carry a measured rate instead of the catalogue's
        self.measured.append(
            float(round(rng.uniform(6_000, 12_000), -2))
            if kind == "machine" and rng.random() < 0.3
            else None
        )
        self.pace.append(float(rng.lognormal(0.0, self.params.team_pace_sigma)))
        n = len(self.kind)
        if n > self._free.size:
            self._free = np.concatenate([self._free, np.zeros_like(self._free)])
            self._code = np.concatenate([self._code, np.zeros_like(self._code)])
        self._free[n - 1] = day
        self._code[n - 1] = self._code_of(kind)
        return n - 1

    def book(self, task: Task) -> Booking | None:
        """The team that would finish ``task`` first; a new one when every able team is
        booked for longer than the task may wait.

        A manager gives work to whoever is done soonest: fast teams (machines on
        open ground) take what they can, slow ones the ground only they can
        work. None when no team can do the task and none may be fielded.
        """
        rng = self.rng
        n = len(self)
        kinds = list(self.catalogue.types)
        self._let_go(task.ready)
        codes = [self._code_of(k) for k, v in task.speed.items() if v > 0.0]
        able = np.flatnonzero(np.isin(self._code[:n], codes))
        best: int | None = None
        best_start = soonest = 0
        if able.size:
            starts = np.maximum(self._free[able], task.ready)
            finish = np.empty(able.size, dtype=np.int64)
            for code in np.unique(self._code[able]).tolist():
                sel = self._code[able] == code
                kind = kinds[code]
                if task.fixed_days is not None:
                    need = np.full(int(sel.sum()), task.fixed_days)
                else:
                    rates = np.array([self.rate(int(t)) * self.pace[int(t)] for t in able[sel]])
                    need = task.area_m2 / np.maximum(rates * task.speed[kind], 1e-9)
                finish[sel] = self.calendar.finish_many(kind, starts[sel], need)
            # ties (several idle teams of a type) go to any of them
            first = np.flatnonzero(finish == finish.min())
            pick_one = int(first[int(rng.integers(first.size))])
            best = int(able[pick_one])
            best_start = int(starts[pick_one])
            soonest = int(starts.min())
        wait = dict(self.params.max_wait_days).get(task.work, 30.0)
        fieldable = [k for k in task.speed if task.speed[k] > 0.0 and k in self.catalogue]
        if task.commission and fieldable and (best is None or soonest - task.ready > wait):
            mix = dict(self.params.team_mix)
            kinds = fieldable
            weights = np.array([mix.get(k, 0.0) for k in kinds])
            if weights.sum() <= 0:
                weights = np.ones(len(kinds))
            kind = kinds[int(rng.choice(len(kinds), p=weights / weights.sum()))]
            best = self.field_team(kind, task.ready)
            best_start = task.ready
        if best is None:
            return None
        kind = self.kind[best]
        if task.fixed_days is not None:
            days = task.fixed_days
        else:
            t = self.catalogue[kind]
            sigma = float(np.sqrt(np.log1p(t.productivity_cv**2)))
            noise = float(rng.lognormal(-(sigma**2) / 2.0, sigma))
            s = min(max(t.stoppage_share, 1e-4), 0.9)
            stopped = float(rng.beta(s * 20.0, (1.0 - s) * 20.0))
            speed = self.rate(best) * task.speed[kind] * self.pace[best] * noise * (1.0 - stopped)
            days = task.area_m2 / max(speed, 1e-9)
        return Booking(best, kind, best_start, days)

    def _let_go(self, day: int) -> None:
        """Teams idle for ``idle_days_to_leave`` by ``day`` leave (tasks come in day order)."""
        n = len(self)
        idle = np.flatnonzero(
            (self._code[:n] >= 0) & (self._free[:n] + self.params.idle_days_to_leave < day)
        )
        for t in idle.tolist():
            self.left_on[t] = int(self._free[t] + self.params.idle_days_to_leave)
            self._code[t] = -1  # no longer able to do anything

    def occupy(self, team: int, last_day: int) -> None:
        """The team works until ``last_day``, then moves on to its next site."""
        lo, hi = self.params.move_days
        self._free[team] = last_day + 1 + int(self.rng.integers(lo, hi + 1))

    def operators(self, end: dt.date) -> Operators:
        """Organisations, teams and their assets as the authority holds them at ``end``."""
        rng = self.rng
        org_name = [o[0] for o in ORGANISATIONS]
        org_type = [o[1] for o in ORGANISATIONS]
        org_country = [o[2] for o in ORGANISATIONS]
        short = [o[3] for o in ORGANISATIONS]
        # teams numbered within their organisation and type in the order they were fielded
        numbering: dict[tuple[int, str], int] = {}
        team_name: list[str] = []
        for o, kind in zip(self.org, self.kind, strict=True):
            k = numbering.get((o, kind), 0) + 1
            numbering[(o, kind)] = k
            team_name.append(f"{short[o]} {_LABEL.get(kind, kind.title())} {k:02d}")
        snapshot = end.toordinal()
        self._let_go(snapshot)
        left = [d is not None and d <= snapshot for d in self.left_on]
        status = [
            "retired"
            if left[t]
            else "maintenance"
            if self.free[t] <= snapshot and rng.random() < self.params.maintenance_share
            else "active"
            for t in range(len(self))
        ]
        return Operators(
            org_name,
            org_type,
            org_country,
            team_name,
            list(self.kind),
            list(self.org),
            list(self.male),
            list(self.female),
            list(self.base),
            asset_name=list(team_name),
            asset_type=list(self.kind),
            asset_team=list(range(len(self))),
            asset_model=list(self.model),
            asset_deminers=[
                self.male[t] + self.female[t] if self.kind[t] == "manual" else None
                for t in range(len(self))
            ],
            asset_status=status,
            asset_commissioned=list(self.commissioned),
            asset_productivity=list(self.measured),
        )
