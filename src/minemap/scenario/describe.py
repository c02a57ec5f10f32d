"""What a scenario folder holds, in figures (``minemap scenario describe``).

It reads the truth as well as the observations: it describes a scenario,
which is the one place where both may be put side by side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pandas as pd
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from minemap.errors import InputFileError, NotFoundError
from minemap.io.readers import read_layer
from minemap.scenario.writer import METADATA, OBSERVED, TRUTH


@dataclass
class Description:
    folder: str
    meta: dict[str, Any]
    devices_by_model: dict[str, int]
    devices_by_category: dict[str, int]
    devices_by_period: dict[str, int]
    devices_found: int
    devices_detonated: int
    minefields_by_pattern: dict[str, int]
    mined_area_km2: float
    suspected_area_km2: float  # as first recorded: open hazards + released land
    open_area_km2: float
    hazards_by_status: dict[str, int]
    hazards_by_type: dict[str, int]
    mined_share_of_suspected: float
    mined_covered_share: float
    released_km2: dict[str, float]
    finds: int
    accidents: int
    victims: dict[str, dict[str, int]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    teams_by_type: dict[str, int] = field(default_factory=dict)  # teams not retired
    staff: int = 0  # people in those teams
    released_last_year_km2: float = 0.0  # in the 12 months before the snapshot
    released_by_year_km2: dict[str, float] = field(default_factory=dict)

    @property
    def m2_per_staff_month(self) -> float:
        """Land released per person and month over the last year (ANAMA 2018: about 9,000)."""
        return self.released_last_year_km2 * 1e6 / 12.0 / self.staff if self.staff else 0.0

    def text(self) -> str:
        m = self.meta
        region = max(float(m.get("area_km2", 1.0)), 1e-9)
        n_victims = sum(sum(v.values()) for v in self.victims.values())
        lines = [
            f"Scenario {self.folder}: preset {m.get('preset')}, seed {m.get('seed')}, "
            f"{m.get('area_km2')} km² at {m.get('cell_m')} m, snapshot {m.get('snapshot_date')}"
            f" (minemap {m.get('minemap_version')}; synthetic geography, real UTM 38N position)",
            "",
            f"Truth: {sum(self.devices_by_model.values()):,} devices in "
            f"{sum(self.minefields_by_pattern.values()):,} minefields; "
            f"mined area {self.mined_area_km2:.2f} km²",
            "  by category: " + _pairs(self.devices_by_category),
            "  by period:   " + _pairs(self.devices_by_period),
            "  minefields:  " + _pairs(self.minefields_by_pattern),
            "  by model:",
        ]
        for model, n in sorted(self.devices_by_model.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"    {model:<26} {n:>9,}")
        lines += [
            f"  found by survey/clearance/EOD: {self.devices_found:,}; "
            f"set off in accidents: {self.devices_detonated:,}",
            "",
            f"Suspected area as recorded: {self.suspected_area_km2:.1f} km² "
            f"({self.suspected_area_km2 / region:.0%} of the region);"
            f" open now {self.open_area_km2:.1f} km²",
            f"  truly mined: {self.mined_share_of_suspected:.1%} of the suspected area; "
            f"{self.mined_covered_share:.0%} of the mined area lies inside a suspected area",
            "  hazards: " + _pairs(self.hazards_by_type) + "; " + _pairs(self.hazards_by_status),
            "Released 2021 to snapshot: "
            + ", ".join(f"{k} {v:.1f} km²" for k, v in self.released_km2.items())
            + f" (total {sum(self.released_km2.values()):.1f} km²); {self.finds:,} finds",
            "  by year:   "
            + ", ".join(f"{y} {v:.1f} km²" for y, v in self.released_by_year_km2.items()),
            f"Fleet at the snapshot: {_pairs(self.teams_by_type)} teams; {self.staff:,} staff; "
            f"{self.released_last_year_km2:.1f} km² released in the last 12 months, "
            f"{self.m2_per_staff_month:,.0f} m² per person and month "
            f"(ANAMA, March 2018: {ANAMA_2018_M2_PER_STAFF_MONTH:,.0f})",
            "",
            f"Accidents: {self.accidents}; victims {n_victims}",
        ]
        for group, outcomes in self.victims.items():
            killed, injured = outcomes.get("killed", 0), outcomes.get("injured", 0)
            lines.append(f"  {group:<9} killed {killed:>4}  injured {injured:>4}")
        lines += ["", "Observed layers: " + _pairs(self.counts)]
        return "\n".join(lines)


_COUNTED = (
    "hazards",
    "activities",
    "finds",
    "accidents",
    "eore_sessions",
    "minefield_records",
    "settlements",
    "teams",
)

#: ANAMA in March 2018: 490 operational staff released 4.41 million m² in the month (FACTS.md)
ANAMA_2018_M2_PER_STAFF_MONTH = 4_410_000 / 490


def _pairs(d: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in d.items())


def _union(geoms: Any) -> BaseGeometry:
    arr = [g for g in geoms if g is not None and not g.is_empty]
    # snap to a centimetre grid: released pieces and hazards share edges that GEOS would
    # otherwise find not quite noded
    return shapely.union_all(arr, grid_size=0.01) if arr else shapely.GeometryCollection()


def describe(folder: str | Path) -> Description:
    """Figures of the scenario in ``folder`` (written by ``minemap scenario generate``)."""
    root = Path(folder)
    for name in (OBSERVED, TRUTH, METADATA):
        if not (root / name).is_file():
            msg = f"{root}: not a scenario folder ({name} is missing)"
            raise NotFoundError(msg)
    try:
        meta = json.loads((root / METADATA).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputFileError(root / METADATA, f"not valid JSON ({exc})") from None
    mines = read_layer(root / TRUTH, "mines")
    fields = read_layer(root / TRUTH, "minefields")
    hazards = read_layer(root / OBSERVED, "hazards")
    releases = read_layer(root / OBSERVED, "releases")
    accidents = read_layer(root / OBSERVED, "accidents")
    victims = read_layer(root / OBSERVED, "victims")
    finds = read_layer(root / OBSERVED, "finds")
    teams = read_layer(root / OBSERVED, "teams")
    assets = read_layer(root / OBSERVED, "assets")

    mined = _union(fields.geometry)
    suspected = _union(list(hazards.geometry) + list(releases.geometry))
    mined_area = mined.area
    suspected_area = suspected.area
    overlap = (
        mined.intersection(suspected, grid_size=0.01).area if mined_area and suspected_area else 0.0
    )
    open_area = float(hazards.loc[hazards["status"] == "open", "area_m2"].sum())
    by_group: dict[str, dict[str, int]] = {}
    if len(victims):
        table = victims.groupby(["group", "outcome"]).size()
        for key, n in table.items():
            group, outcome = cast(tuple[str, str], key)
            by_group.setdefault(str(group), {})[str(outcome)] = int(n)
    released = {
        method: float(releases.loc[releases["method"] == method, "area_m2"].sum()) / 1e6
        for method in ("cancelled", "reduced", "cleared")
    }
    # counted in the file itself, not taken from scenario.json
    listed = {str(name) for name, _ in pyogrio.list_layers(root / OBSERVED)}
    counts = {
        name: int(pyogrio.read_info(root / OBSERVED, layer=name)["features"])
        for name in _COUNTED
        if name in listed
    }

    # the fleet: teams with an asset still in service
    serving = set(assets.loc[assets["status"] != "retired", "team_ref"].dropna())
    fleet = teams[teams["ref"].isin(serving)]
    day = pd.to_datetime(releases["released_on"], errors="coerce")
    snapshot = pd.Timestamp(str(meta.get("snapshot_date", day.max().date())))
    recent = (day > snapshot - pd.DateOffset(years=1)) & (day <= snapshot)
    by_year = releases["area_m2"].groupby(day.dt.year).sum() / 1e6

    def tally(series: pd.Series) -> dict[str, int]:
        vc = series.value_counts()
        return {str(k): int(v) for k, v in sorted(vc.items(), key=lambda kv: (-kv[1], str(kv[0])))}

    return Description(
        folder=str(root),
        meta=meta,
        devices_by_model=tally(mines["model"]),
        devices_by_category=tally(mines["category"]),
        devices_by_period=tally(mines["laid_period"]),
        devices_found=int(mines["found"].sum()),
        devices_detonated=int(mines["detonated"].sum()) if "detonated" in mines else 0,
        minefields_by_pattern=tally(fields["pattern"]),
        mined_area_km2=mined_area / 1e6,
        suspected_area_km2=suspected_area / 1e6,
        open_area_km2=open_area / 1e6,
        hazards_by_status=tally(hazards["status"]),
        hazards_by_type=tally(hazards["type"]),
        mined_share_of_suspected=overlap / suspected_area if suspected_area else 0.0,
        mined_covered_share=overlap / mined_area if mined_area else 0.0,
        released_km2=released,
        finds=len(finds),
        accidents=len(accidents),
        victims=by_group,
        counts=counts,
        teams_by_type=tally(fleet["type"]),
        staff=int((fleet["staff_male"].fillna(0) + fleet["staff_female"].fillna(0)).sum()),
        released_last_year_km2=float(releases.loc[recent.to_numpy(), "area_m2"].sum()) / 1e6,
        released_by_year_km2={
            f"{y:.0f}": round(float(v), 2) for y, v in zip(by_year.index, by_year, strict=True)
        },
    )
