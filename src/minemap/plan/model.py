"""The planning instance: hazards, asset types and months as arrays.

Every planning step (schedule, forecast, what-if, simulation) works on one
:class:`Instance` built by :func:`build_instance` from the prepared hazards
and assets of a :class:`~minemap.plan.inputs.PlanContext`:

* ``factor[k, h]``: productivity multiplier of type ``k`` on hazard ``h``
  (terrain, cover, contamination; 0 where it cannot work);
* ``release[k, h]``: share of the area worked that is released: 1 for
  clearance, ``release_share * (1 - p)`` for survey (only clean land can be
  cancelled or reduced, and only part of it);
* ``asset_days[a, m]``: effective working days of asset ``a`` in month ``m``
  (season, commissioning, removal), and ``asset_rate[a]`` its m² per day on
  reference ground. Capacity is counted in "reference m²": work on hazard ``h``
  of ``x`` m² uses ``x / factor[k, h]`` of it.

Area is in hectares inside the instance (better scaled for the solvers);
the benefit of a hazard is spread over its area (``density``), so releasing
part of a hazard releases that part of its benefit, discounted by month.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from minemap.errors import ConfigError
from minemap.plan.catalogue import Catalogue
from minemap.plan.inputs import add_months

HA = 10_000.0
DEFAULT_DISCOUNT_PER_YEAR = 0.06  # assumption: the value of land released a year later, 6% less


@dataclass
class Instance:
    """Arrays of one planning problem (see the module docstring)."""

    hazard_ids: np.ndarray  # store ids
    hazard_refs: np.ndarray
    area: np.ndarray  # ha
    p: np.ndarray  # expected contaminated share
    benefit: np.ndarray  # benefit of releasing the whole hazard
    types: list[str]
    survey: np.ndarray  # bool per type
    release_share: (
        np.ndarray
    )  # per type: share of clean land surveyed that is released (1: clearance)
    factor: np.ndarray  # (K, H)
    release: np.ndarray  # (K, H)
    asset_ids: np.ndarray
    asset_refs: np.ndarray
    asset_type: np.ndarray  # index into types
    asset_rate: np.ndarray  # ha per working day on reference ground
    asset_days: np.ndarray  # (A, M) effective working days
    slot_days: np.ndarray  # per type
    cost_buy: np.ndarray  # per type
    cost_run_day: np.ndarray  # per type
    start: dt.date
    discount: np.ndarray  # (M,) discount factor of work done in month m

    @property
    def n_hazards(self) -> int:
        return len(self.area)

    @property
    def n_assets(self) -> int:
        return len(self.asset_rate)

    @property
    def months(self) -> int:
        return self.asset_days.shape[1]

    @property
    def density(self) -> np.ndarray:
        """Benefit per hectare released."""
        return self.benefit / self.area

    def month_start(self, m: int) -> dt.date:
        return add_months(self.start, m)

    def type_capacity(self) -> np.ndarray:
        """(K, M) capacity in reference hectares per type and month."""
        cap = np.zeros((len(self.types), self.months))
        np.add.at(cap, self.asset_type, self.asset_rate[:, None] * self.asset_days)
        return cap

    def capable(self) -> np.ndarray:
        """(K, H) where type k can work hazard h and releases something there."""
        return (self.factor > 0) & (self.release > 0)


def discount_factors(months: int, rate_per_year: float) -> np.ndarray:
    """Discount of work released in each month (mid-month), at ``rate_per_year``."""
    if rate_per_year < 0:
        msg = f"discount rate must not be negative, got {rate_per_year}"
        raise ConfigError(msg)
    monthly = (1.0 + rate_per_year) ** (1.0 / 12.0)
    return np.power(monthly, -(np.arange(months) + 0.5))


def _asset_days(
    assets: pd.DataFrame, catalogue: Catalogue, start: dt.date, months: int
) -> np.ndarray:
    days = np.zeros((len(assets), months))
    month_numbers = np.array([add_months(start, m).month for m in range(months)])
    starts = [add_months(start, m) for m in range(months)]
    for a, row in enumerate(assets.itertuples(index=False)):
        t = catalogue[str(row.type)]
        season = np.array([t.days_in_month(int(mn)) for mn in month_numbers])
        frm = getattr(row, "available_from", None)
        until = getattr(row, "available_until", None)
        ok = np.ones(months, dtype=bool)
        if isinstance(frm, dt.date) and not pd.isna(frm):
            # an asset commissioned mid-month starts work the month after
            ok &= np.array([s >= frm for s in starts])
        if isinstance(until, dt.date) and not pd.isna(until):
            ok &= np.array([s < until for s in starts])
        if bool(getattr(row, "in_maintenance", False)):
            ok[0] = False
        days[a] = np.where(ok, season, 0.0)
    return days


def build_instance(
    hazards: pd.DataFrame,
    assets: pd.DataFrame,
    catalogue: Catalogue,
    start: dt.date,
    months: int,
    *,
    benefit: np.ndarray | None = None,
    discount_per_year: float = DEFAULT_DISCOUNT_PER_YEAR,
    p: np.ndarray | None = None,
) -> Instance:
    """Arrays of the planning problem from prepared hazards and assets.

    ``benefit`` defaults to the expected contaminated area; ``p`` (expected
    contaminated share per hazard) defaults to the hazards' ``p_mean``.
    """
    if months < 1:
        msg = f"the horizon must be at least one month, got {months}"
        raise ConfigError(msg)
    types = list(catalogue.types)
    type_index = {k: i for i, k in enumerate(types)}
    area = hazards["area_m2"].to_numpy(dtype="float64") / HA
    share = hazards["p_mean"].to_numpy(dtype="float64") if p is None else np.asarray(p)
    share = np.clip(share, 0.0, 1.0)
    K, H = len(types), len(area)
    factor = np.zeros((K, H))
    release = np.zeros((K, H))
    survey = np.zeros(K, dtype=bool)
    terrain = hazards["terrain"].astype(str).to_numpy()
    cover = hazards["cover"].astype(str).to_numpy()
    contamination = hazards["contamination"].astype(str).to_numpy()
    for k, key in enumerate(types):
        t = catalogue[key]
        tf = np.array([t.terrain.get(x, 0.0) for x in terrain])
        cf = np.array([t.cover.get(x, 0.0) for x in cover])
        pf = np.array([t.contamination.get(x, 0.0) for x in contamination])
        factor[k] = tf * cf * pf
        if t.role == "survey":
            survey[k] = True
            release[k] = t.release_share * (1.0 - share)
        else:
            release[k] = 1.0
    if benefit is None:
        benefit = hazards["expected_m2"].to_numpy(dtype="float64") / HA
    benefit = np.asarray(benefit, dtype="float64")
    if benefit.shape != area.shape or np.any(benefit < 0) or not np.all(np.isfinite(benefit)):
        msg = "hazard benefits must be finite, non-negative, one per hazard"
        raise ConfigError(msg)
    return Instance(
        hazard_ids=hazards["id"].to_numpy(),
        hazard_refs=hazards["ref"].astype(str).to_numpy(),
        area=area,
        p=share,
        benefit=benefit,
        types=types,
        survey=survey,
        release_share=np.array([catalogue[k].release_share for k in types]),
        factor=factor,
        release=release,
        asset_ids=assets["id"].to_numpy(),
        asset_refs=assets["ref"].astype(str).to_numpy(),
        asset_type=np.array([type_index[str(t)] for t in assets["type"]], dtype=np.int64),
        asset_rate=assets["rate_m2_day"].to_numpy(dtype="float64") / HA,
        asset_days=_asset_days(assets, catalogue, start, months),
        slot_days=np.array([catalogue[k].slot_days for k in types]),
        cost_buy=np.array([catalogue[k].cost_buy for k in types]),
        cost_run_day=np.array([catalogue[k].cost_run_day for k in types]),
        start=start,
        discount=discount_factors(months, discount_per_year),
    )


# --- changes of the fleet (what-if) --------------------------------------------------------

_CHANGE = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*=\s*([+-]?\d+)\s*(?:@\s*(\d{4})-(\d{2}))?\s*$")


@dataclass(frozen=True)
class FleetChange:
    """Add (``count > 0``) or remove (``count < 0``) assets of a type from a month on."""

    type: str
    count: int
    month: dt.date | None

    def label(self) -> str:
        when = f"@{self.month:%Y-%m}" if self.month else ""
        return f"{self.type}={self.count:+d}{when}"


def parse_change(text: str, catalogue: Catalogue) -> list[FleetChange]:
    """Parse ``"TYPE=N@YYYY-MM"`` (several joined by commas) into changes."""
    changes = []
    for part in text.split(","):
        match = _CHANGE.match(part)
        if not match:
            msg = f"--add {text!r}: expected TYPE=N@YYYY-MM, e.g. machine=2@2026-03"
            raise ConfigError(msg)
        key, count, year, month = match.groups()
        if key not in catalogue:
            known = ", ".join(sorted(catalogue.types))
            msg = f"--add {text!r}: asset type {key!r} is not in {catalogue.path} (known: {known})"
            raise ConfigError(msg)
        when = None
        if year is not None:
            if not 1 <= int(month) <= 12:
                msg = f"--add {text!r}: month {month} is not 01-12"
                raise ConfigError(msg)
            when = dt.date(int(year), int(month), 1)
        if int(count) == 0:
            msg = f"--add {text!r}: the number of assets must not be zero"
            raise ConfigError(msg)
        changes.append(FleetChange(key, int(count), when))
    return changes


def apply_changes(
    assets: pd.DataFrame, changes: list[FleetChange], catalogue: Catalogue, start: dt.date
) -> pd.DataFrame:
    """The fleet after ``changes``: new assets from their month, removed ones until it."""
    out = assets.copy()
    if "available_until" not in out.columns:
        out["available_until"] = None
    new_rows = []
    next_id = int(pd.to_numeric(out["id"]).max()) + 1 if len(out) else 1
    for change in changes:
        when = change.month or start
        if change.count > 0:
            rate = catalogue[change.type].base_rate()
            for _ in range(change.count):
                new_rows.append(
                    {
                        "id": next_id,
                        "ref": f"NEW-{change.type}-{next_id}",
                        "type": change.type,
                        "rate_m2_day": rate,
                        "available_from": when,
                        "available_until": None,
                        "in_maintenance": False,
                    }
                )
                next_id += 1
        else:
            of_type = out.index[
                (out["type"].astype(str) == change.type) & out["available_until"].isna()
            ]
            if len(of_type) < -change.count:
                msg = f"--add {change.label()}: only {len(of_type)} {change.type} assets to remove"
                raise ConfigError(msg)
            # remove the newest first: the oldest are assumed the best run-in
            for idx in list(of_type)[::-1][: -change.count]:
                out.at[idx, "available_until"] = when
    if new_rows:
        out = pd.concat([out, pd.DataFrame(new_rows)], ignore_index=True)
    return out


def with_benefit(instance: Instance, benefit: np.ndarray) -> Instance:
    return replace(instance, benefit=np.asarray(benefit, dtype="float64"))
