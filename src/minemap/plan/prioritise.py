"""Hazard priorities: a score per hazard from expected contamination and impact, explained.

Terms (raw values, then scaled to 0..1 on a log scale so that the hazard
highest on a term scores 1):

==================  =====================================================================
``contamination``   expected contaminated area, m² (hazard map: mean probability x area)
``people``          people living within ``radii.people_m``, weighted 1 at the hazard to 0
                    at the radius
``displaced``       displaced people due to return within ``displaced.return_within_years``,
                    weighted the same way
``farmland``        farmland (and pasture, at its factor) blocked, m²
``roads``           road length inside the hazard, m (or the side of a square of its area
                    when its blocked land use is road and no road layer is given)
``infrastructure``  area blocked when its land use is housing, infrastructure or water, m²
``accidents``       accidents within ``radii.accidents_m`` or linked to the hazard
==================  =====================================================================

The score is the weighted mean of the scaled terms (weights from a TOML file;
``minemap/data/priority_weights.toml`` by default), and each score is
explained as the sum of its terms' contributions. :func:`sensitivity` moves
each weight by ±20% and reports how the ranks move.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minemap.errors import ConfigError
from minemap.plan.inputs import PlanContext

TERMS = (
    "contamination",
    "people",
    "displaced",
    "farmland",
    "roads",
    "infrastructure",
    "accidents",
)
UNITS = {
    "contamination": "m² expected",
    "people": "people nearby",
    "displaced": "displaced due back",
    "farmland": "m² farmland",
    "roads": "m of road",
    "infrastructure": "m² built/infrastructure",
    "accidents": "accidents nearby",
}
INFRASTRUCTURE_USES = ("housing", "infrastructure", "water")


@dataclass(frozen=True)
class Weights:
    """Priority weights and the radii and windows the impact terms use."""

    weights: dict[str, float]
    people_m: float = 3000.0
    accidents_m: float = 1000.0
    return_within_years: int = 5
    land_use: tuple[tuple[str, float], ...] = (("farmland", 1.0), ("pasture", 0.5))
    path: str = "<defaults>"

    def scaled(self, term: str, factor: float) -> Weights:
        changed = dict(self.weights)
        changed[term] = changed[term] * factor
        return Weights(
            changed,
            self.people_m,
            self.accidents_m,
            self.return_within_years,
            self.land_use,
            self.path,
        )


def default_weights_path() -> Path:
    return Path(str(resources.files("minemap") / "data" / "priority_weights.toml"))


def load_weights(path: Path | str | None = None) -> Weights:
    """Read and validate a weights file (default: the shipped one)."""
    path = Path(path) if path is not None else default_weights_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"{path}: weights file not found"
        raise ConfigError(msg) from None
    except tomllib.TOMLDecodeError as exc:
        msg = f"{path}: not valid TOML ({exc})"
        raise ConfigError(msg) from None
    return parse_weights(data, path)


def _num(path: Path, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{path}: key '{key}': must be a number, got {value!r}"
        raise ConfigError(msg)
    if value < 0:
        msg = f"{path}: key '{key}': must not be negative, got {value}"
        raise ConfigError(msg)
    return float(value)


def parse_weights(data: dict[str, Any], path: Path) -> Weights:
    allowed = {"weights", "radii", "displaced", "land_use"}
    for key in data:
        if key not in allowed:
            msg = f"{path}: key '{key}': unknown (known: {', '.join(sorted(allowed))})"
            raise ConfigError(msg)
    raw = data.get("weights", {})
    weights = {}
    for key, value in raw.items():
        if key not in TERMS:
            msg = f"{path}: key 'weights.{key}': unknown term (known: {', '.join(TERMS)})"
            raise ConfigError(msg)
        weights[key] = _num(path, f"weights.{key}", value)
    for term in TERMS:
        weights.setdefault(term, 0.0)
    if sum(weights.values()) <= 0:
        msg = f"{path}: key 'weights': at least one weight must be positive"
        raise ConfigError(msg)
    radii = data.get("radii", {})
    for key in radii:
        if key not in ("people_m", "accidents_m"):
            msg = f"{path}: key 'radii.{key}': unknown"
            raise ConfigError(msg)
    displaced = data.get("displaced", {})
    for key in displaced:
        if key != "return_within_years":
            msg = f"{path}: key 'displaced.{key}': unknown"
            raise ConfigError(msg)
    land_use = data.get("land_use", {"farmland": 1.0, "pasture": 0.5})
    from minemap.records.schema import LAND_USE

    for key in land_use:
        if key not in LAND_USE:
            msg = f"{path}: key 'land_use.{key}': not a land use ({', '.join(LAND_USE)})"
            raise ConfigError(msg)
    return Weights(
        weights=weights,
        people_m=_num(path, "radii.people_m", radii.get("people_m", 3000.0)),
        accidents_m=_num(path, "radii.accidents_m", radii.get("accidents_m", 1000.0)),
        return_within_years=int(
            _num(path, "displaced.return_within_years", displaced.get("return_within_years", 5))
        ),
        land_use=tuple((k, _num(path, f"land_use.{k}", v)) for k, v in land_use.items()),
        path=str(path),
    )


# --- raw terms ---------------------------------------------------------------------------


def _near_sum(
    hazards: gpd.GeoSeries, points: gpd.GeoSeries, values: np.ndarray, radius: float
) -> np.ndarray:
    """Sum over points within ``radius`` of each hazard of value x (1 - distance / radius)."""
    out = np.zeros(len(hazards))
    if len(points) == 0 or radius <= 0:
        return out
    tree = shapely.STRtree(hazards.to_numpy())
    pi, hi = tree.query(points.to_numpy(), predicate="dwithin", distance=radius)
    if len(pi) == 0:
        return out
    d = shapely.distance(points.to_numpy()[pi], hazards.to_numpy()[hi])
    np.add.at(out, hi, values[pi] * np.clip(1.0 - d / radius, 0.0, 1.0))
    return out


def raw_terms(
    hazards: gpd.GeoDataFrame,
    weights: Weights,
    *,
    settlements: gpd.GeoDataFrame | None = None,
    accidents: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    today: dt.date | None = None,
) -> pd.DataFrame:
    """The raw value of every term for every hazard (see the module docstring)."""
    today = today or dt.date.today()
    n = len(hazards)
    geoms = hazards.geometry
    area = hazards["area_m2"].to_numpy(dtype="float64")
    land_use = (
        hazards["land_use"].astype("string").fillna("other").to_numpy()
        if "land_use" in hazards
        else np.full(n, "other")
    )
    terms = pd.DataFrame(index=hazards.index)
    terms["contamination"] = hazards["expected_m2"].to_numpy(dtype="float64")
    people = np.zeros(n)
    displaced = np.zeros(n)
    if settlements is not None and len(settlements):
        pts = settlements.geometry.to_crs(geoms.crs) if geoms.crs else settlements.geometry
        pop = pd.to_numeric(settlements.get("population"), errors="coerce")
        pop = (
            np.nan_to_num(np.asarray(pop, dtype="float64"))
            if pop is not None
            else np.zeros(len(pts))
        )
        people = _near_sum(geoms, pts, pop, weights.people_m)
        disp = settlements.get("displaced")
        disp_v = (
            np.nan_to_num(np.asarray(pd.to_numeric(disp, errors="coerce"), dtype="float64"))
            if disp is not None
            else np.zeros(len(pts))
        )
        year = settlements.get("planned_return_year")
        if year is not None:
            y = pd.to_numeric(year, errors="coerce").to_numpy(dtype="float64")
            # unknown return years still count: people wait to go home
            due = ~np.isfinite(y) | (y <= today.year + weights.return_within_years)
            disp_v = np.where(due, disp_v, 0.0)
        displaced = _near_sum(geoms, pts, disp_v, weights.people_m)
    terms["people"] = people
    terms["displaced"] = displaced
    factors = dict(weights.land_use)
    terms["farmland"] = area * np.array([factors.get(str(u), 0.0) for u in land_use])
    road_len = np.zeros(n)
    if roads is not None and len(roads):
        lines = roads.geometry.to_crs(geoms.crs) if geoms.crs else roads.geometry
        tree = shapely.STRtree(lines.to_numpy())
        hi, li = tree.query(geoms.to_numpy(), predicate="intersects")
        if len(hi):
            inter = shapely.intersection(geoms.to_numpy()[hi], lines.to_numpy()[li])
            np.add.at(road_len, hi, shapely.length(inter))
    else:
        road_len = np.where(land_use == "road", np.sqrt(area), 0.0)
    terms["roads"] = road_len
    terms["infrastructure"] = np.where(np.isin(land_use, INFRASTRUCTURE_USES), area, 0.0)
    acc = np.zeros(n)
    if accidents is not None and len(accidents):
        pts = accidents.geometry.to_crs(geoms.crs) if geoms.crs else accidents.geometry
        tree = shapely.STRtree(geoms.to_numpy())
        pi, hi = tree.query(pts.to_numpy(), predicate="dwithin", distance=weights.accidents_m)
        # an accident counts once per hazard, whether near it, linked to it or both
        near = set(zip(pi.tolist(), hi.tolist(), strict=True))
        if "hazard_id" in accidents and "id" in hazards:
            index_of = {int(v): i for i, v in enumerate(hazards["id"])}
            for p, hid in enumerate(pd.to_numeric(accidents["hazard_id"], errors="coerce")):
                if pd.notna(hid) and int(hid) in index_of:
                    near.add((p, index_of[int(hid)]))
        for _, h in near:
            acc[h] += 1.0
    terms["accidents"] = acc
    return terms


def scale_terms(raw: pd.DataFrame) -> pd.DataFrame:
    """Each term on 0..1: log(1 + x) over its largest value among the hazards."""
    scaled = pd.DataFrame(index=raw.index)
    for term in TERMS:
        x = np.log1p(np.maximum(raw[term].to_numpy(dtype="float64"), 0.0))
        top = x.max() if len(x) else 0.0
        scaled[term] = x / top if top > 0 else 0.0
    return scaled


def score(scaled: pd.DataFrame, weights: Weights) -> tuple[np.ndarray, pd.DataFrame]:
    """Scores and each term's contribution (weight share x scaled term)."""
    total = sum(weights.weights.values())
    contrib = pd.DataFrame(
        {t: scaled[t].to_numpy() * weights.weights[t] / total for t in TERMS}, index=scaled.index
    )
    return contrib.sum(axis=1).to_numpy(), contrib


def ranks(values: np.ndarray) -> np.ndarray:
    """1 for the highest score; ties keep the input order."""
    order = np.argsort(-values, kind="stable")
    out = np.empty(len(values), dtype=np.int64)
    out[order] = np.arange(1, len(values) + 1)
    return out


def _explain(raw_row: pd.Series, contrib_row: pd.Series) -> str:
    parts = []
    for term in sorted(TERMS, key=lambda t: -contrib_row[t]):
        if contrib_row[term] <= 0:
            continue
        parts.append(f"{term} {contrib_row[term]:.3f} ({raw_row[term]:,.0f} {UNITS[term]})")
    return " + ".join(parts) if parts else "no term above zero"


@dataclass
class Priorities:
    table: pd.DataFrame  # one row per hazard, best first
    sensitivity: pd.DataFrame  # one row per term and change


def sensitivity(
    scaled: pd.DataFrame, weights: Weights, *, change: float = 0.2, top: int = 20
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """How ranks move when each weight moves by ±``change``.

    Returns the report (Spearman correlation with the base ranking, mean and
    largest rank shift, share of the base top ``top`` still in the top) and
    each hazard's best and worst rank over all the changes.
    """
    from scipy.stats import spearmanr

    base_scores, _ = score(scaled, weights)
    base = ranks(base_scores)
    n = len(base)
    top = min(top, n)
    best = base.copy()
    worst = base.copy()
    rows = []
    for term in TERMS:
        if weights.weights[term] <= 0:
            continue
        for factor in (1.0 - change, 1.0 + change):
            s, _ = score(scaled, weights.scaled(term, factor))
            r = ranks(s)
            best = np.minimum(best, r)
            worst = np.maximum(worst, r)
            shift = np.abs(r - base)
            rho = float(spearmanr(base, r).statistic) if n > 2 else 1.0
            overlap = len(set(np.flatnonzero(base <= top)) & set(np.flatnonzero(r <= top)))
            rows.append(
                {
                    "term": term,
                    "weight": weights.weights[term],
                    "change": f"{(factor - 1) * 100:+.0f}%",
                    "spearman": round(rho, 4),
                    "mean_rank_shift": round(float(shift.mean()), 3),
                    "max_rank_shift": int(shift.max()) if n else 0,
                    f"top{top}_kept": round(overlap / top, 3) if top else 1.0,
                }
            )
    return pd.DataFrame(rows), best, worst


def prioritise(
    hazards: gpd.GeoDataFrame,
    weights: Weights,
    *,
    settlements: gpd.GeoDataFrame | None = None,
    accidents: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    today: dt.date | None = None,
) -> Priorities:
    """Score, rank and explain every hazard; with the sensitivity report."""
    raw = raw_terms(
        hazards, weights, settlements=settlements, accidents=accidents, roads=roads, today=today
    )
    scaled = scale_terms(raw)
    scores, contrib = score(scaled, weights)
    report, best, worst = sensitivity(scaled, weights)
    table = pd.DataFrame(
        {
            "hazard_id": hazards["id"].to_numpy(),
            "hazard_ref": hazards["ref"].astype(str).to_numpy(),
            "rank": ranks(scores),
            "score": np.round(scores, 6),
            "best_rank_sensitivity": best,
            "worst_rank_sensitivity": worst,
            "area_m2": hazards["area_m2"].to_numpy(),
            "p_mean": np.round(hazards["p_mean"].to_numpy(dtype="float64"), 5),
        }
    )
    for term in TERMS:
        table[f"{term}_raw"] = np.round(raw[term].to_numpy(dtype="float64"), 3)
        table[f"{term}_contribution"] = np.round(contrib[term].to_numpy(), 6)
    table["explanation"] = [_explain(raw.iloc[i], contrib.iloc[i]) for i in range(len(table))]
    table = table.sort_values("rank", kind="stable").reset_index(drop=True)
    return Priorities(table=table, sensitivity=report)


def prioritise_context(context: PlanContext, weights: Path | str | None = None) -> Priorities:
    """:func:`prioritise` on a plan's inputs, with the weights file (default: the shipped one)."""
    return prioritise(
        context.hazards,
        load_weights(weights),
        settlements=context.settlements,
        accidents=context.accidents,
        roads=context.roads,
        today=context.start,
    )


def priority_scores(priorities: Priorities, hazard_ids: np.ndarray) -> np.ndarray:
    """Scores aligned with ``hazard_ids`` (the benefit the schedule releases)."""
    by_id = dict(
        zip(priorities.table["hazard_id"].tolist(), priorities.table["score"], strict=True)
    )
    return np.array([by_id[i] for i in hazard_ids.tolist()], dtype="float64")
