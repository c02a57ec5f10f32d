"""The land-release model: how much of each hazard NTS cancels, TS reduces and clearance clears.

Practice (IMAS 07.11) releases suspected land in three steps, and minemap
schedules, forecasts and simulates the same way:

1. **non-technical survey** (the catalogue's survey types) visits a hazard and
   cancels the share of its clean land that the evidence allows;
2. **technical survey** (clearance types, ``ts_speedup`` times faster than
   clearance) reduces the rest of the clean land;
3. **clearance** clears what stays confirmed.

Where each hazard stands comes from its activities (:func:`hazard_stages`): a
hazard whose NTS is done goes straight to TS; one whose TS is done, or whose
clearance has begun, is what stays confirmed and is cleared whole.

How much each step releases comes from two sources:

* the **store's releases** (:func:`release_history`): cancelled, reduced and
  cleared area, by hazard type (SHA, CHA). The share of the clean land that NTS
  cancels (the rest TS reduces) is taken from them;
* the **hazard map**: a hazard's expected contaminated share ``p`` (mean
  probability over its cells) says *where* clearance is needed.

*How much* needs clearance is estimated twice: by the map (its expected
contaminated share of the open land not yet technically surveyed) and by the
history (the share of released land that had to be cleared). They measure
different land: the history's land was worked first and is often the cleaner;
the map is calibrated on the labelled cells, not on the open hazards. So
neither is simply right: the planning level is their geometric mean, and the
forecast's uncertainty spans both (a lognormal with the two estimates at its
P10 and P90; never narrower than :data:`LEVEL_SIGMA_MIN`). Each hazard's
share needing clearance is its map share scaled to that level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

STAGE_NEW = 0  # nothing done yet: NTS, then TS, then clearance
STAGE_SURVEYED = 1  # NTS done: TS, then clearance
STAGE_CONFIRMED = 2  # TS done or clearance begun: what is left is cleared whole
STAGE_NAMES = ("new", "surveyed", "confirmed")

#: Share of the clean land that NTS cancels when the store has no releases to learn it from
#: (assumption: fewer than 5% of suspected areas hold mines, CISR Journal 13.2, so NTS
#: cancels most of it; GICHD land-release reviews put cancellation at 50-70% of SHA).
DEFAULT_CANCEL_SHARE = 0.6
#: Least spread (lognormal sigma) of the share needing clearance when map and history agree.
LEVEL_SIGMA_MIN = 0.15
#: Spread between hazards of the share needing clearance around the map's (lognormal sigma).
LOCAL_SIGMA = 0.5
Z90 = 1.2815515655446004  # standard normal quantile at 0.9

METHODS = ("cancelled", "reduced", "cleared")


@dataclass(frozen=True)
class ReleaseHistory:
    """Released area (m²) by method and hazard type, from the store's releases.

    Keys of ``area`` are ``(kind, method)`` with ``kind`` a hazard type (SHA,
    CHA) or ``"all"``; ``hazards`` counts the hazards with releases per kind
    (the weight of the evidence).
    """

    area: dict[tuple[str, str], float] = field(default_factory=dict)
    hazards: dict[str, int] = field(default_factory=dict)
    releases: int = 0

    def total(self, kind: str = "all") -> float:
        return sum(self.area.get((kind, m), 0.0) for m in METHODS)

    def share(self, method: str, kind: str = "all") -> float | None:
        """Share of the land released (of hazards of ``kind``) that ``method`` released."""
        total = self.total(kind)
        return self.area.get((kind, method), 0.0) / total if total > 0 else None

    def cleared_share(self, kind: str = "all") -> float | None:
        return self.share("cleared", kind)

    def cancel_share(self, kind: str = "all") -> float | None:
        """Share of the land that proved clean which NTS cancelled (TS reduced the rest)."""
        clean = self.area.get((kind, "cancelled"), 0.0) + self.area.get((kind, "reduced"), 0.0)
        return self.area.get((kind, "cancelled"), 0.0) / clean if clean > 0 else None

    def evidence(self, kind: str = "all") -> int:
        return self.hazards.get(kind, 0)


def release_history(releases: pd.DataFrame | None) -> ReleaseHistory:
    """Released area by method, and by hazard type when the releases carry ``hazard_type``.

    (:func:`~minemap.plan.inputs.with_hazard_type` adds it, and ``hazard_id``,
    through each release's activity.)
    """
    if releases is None or not len(releases) or "method" not in releases:
        return ReleaseHistory()
    n = len(releases)
    area = (
        pd.to_numeric(releases["area_m2"], errors="coerce").to_numpy(dtype="float64")
        if "area_m2" in releases
        else np.full(n, np.nan)
    )
    if "geometry" in releases and not np.all(area > 0):
        geom_area = np.asarray(releases.geometry.area, dtype="float64")
        area = np.where(area > 0, area, geom_area)
    frame = pd.DataFrame(
        {
            "method": releases["method"].astype(str).to_numpy(),
            "area": np.nan_to_num(area),
            "kind": releases["hazard_type"].fillna("").astype(str).to_numpy()
            if "hazard_type" in releases
            else np.full(n, ""),
            "hazard": pd.to_numeric(releases["hazard_id"], errors="coerce").to_numpy()
            if "hazard_id" in releases
            else np.full(n, np.nan),
        }
    )
    frame = frame[frame["method"].isin(METHODS)]
    out: dict[tuple[str, str], float] = {}
    counts: dict[str, int] = {}
    known = frame["hazard"].notna().any()
    for kind, part in [("all", frame)] + [
        (str(k), g) for k, g in frame[frame["kind"] != ""].groupby("kind")
    ]:
        for method in METHODS:
            out[(kind, method)] = float(part.loc[part["method"] == method, "area"].sum())
        counts[kind] = int(part["hazard"].nunique()) if known else len(part)
    return ReleaseHistory(area=out, hazards=counts, releases=len(frame))


def hazard_stages(hazards: pd.DataFrame, activities: pd.DataFrame | None) -> np.ndarray:
    """Where each hazard stands in land release (``STAGE_*``), from its activities.

    NTS completed: surveyed. TS completed, or clearance ongoing or completed:
    confirmed (what is left of the hazard is what TS did not reduce).
    """
    stage = np.full(len(hazards), STAGE_NEW, dtype=np.int64)
    if activities is None or not len(activities) or "id" not in hazards:
        return stage
    if "hazard_id" not in activities or "type" not in activities:
        return stage
    acts = pd.DataFrame(
        {
            "hazard": pd.to_numeric(activities["hazard_id"], errors="coerce").to_numpy(),
            "type": activities["type"].astype(str).to_numpy(),
            "status": activities["status"].astype(str).to_numpy()
            if "status" in activities
            else "completed",
        }
    ).dropna(subset=["hazard"])
    done = acts["status"] == "completed"
    begun = acts["status"].isin(["completed", "ongoing"])
    surveyed = set(acts.loc[done & (acts["type"] == "NTS"), "hazard"].astype(int))
    confirmed = set(acts.loc[done & (acts["type"] == "TS"), "hazard"].astype(int)) | set(
        acts.loc[begun & (acts["type"] == "clearance"), "hazard"].astype(int)
    )
    ids = pd.to_numeric(hazards["id"], errors="coerce").fillna(-1).astype(int).to_numpy()
    stage[np.isin(ids, list(surveyed))] = STAGE_SURVEYED
    stage[np.isin(ids, list(confirmed))] = STAGE_CONFIRMED
    return stage


@dataclass
class LandRelease:
    """Per open hazard: where it stands and how its land is expected to be released.

    ``clear`` is the expected share of the hazard that needs clearance;
    ``cancel`` the share of its clean land that NTS cancels (0 once NTS is
    done). The rest of the clean land is reduced by TS. ``level`` is the
    share needing clearance of the open land before TS, ``sigma`` its
    lognormal spread, from ``map_share`` and ``history_share`` (see the
    module docstring).
    """

    area_m2: np.ndarray
    p: np.ndarray
    stage: np.ndarray
    kind: np.ndarray
    cancel: np.ndarray
    clear: np.ndarray
    map_share: float
    history_share: float | None
    level: float
    sigma: float
    cancel_share: float
    cancel_evidence: int
    notes: list[str] = field(default_factory=list)

    @property
    def open_land(self) -> np.ndarray:
        """Hazards whose share needing clearance is still unknown (not yet confirmed)."""
        return self.stage < STAGE_CONFIRMED

    def split(
        self, clear: np.ndarray | None = None, cancel: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Areas (m²) cancelled, reduced and cleared per hazard (expected, or given shares)."""
        x = self.clear if clear is None else clear
        g = self.cancel if cancel is None else cancel
        cleared = x * self.area_m2
        cancelled = g * (1.0 - x) * self.area_m2
        reduced = np.maximum(self.area_m2 - cleared - cancelled, 0.0)
        return cancelled, reduced, cleared

    def clear_shares(self, level: float, local: np.ndarray | float = 1.0) -> np.ndarray:
        """Share needing clearance per hazard at an overall ``level`` (confirmed hazards: 1)."""
        scale = level / self.map_share if self.map_share > 0 else 0.0
        base = self.p if self.map_share > 0 else np.full(len(self.p), level)
        x = np.clip(base * scale * local, 0.0, 1.0)
        return np.where(self.open_land, x, 1.0)

    def summary(self) -> dict[str, object]:
        cancelled, reduced, cleared = self.split()
        total = float(self.area_m2.sum())
        return {
            "map_share_needing_clearance": round(self.map_share, 5),
            "historical_share_cleared": None
            if self.history_share is None
            else round(self.history_share, 5),
            "planning_share_needing_clearance": round(self.level, 5),
            "share_sigma": round(self.sigma, 4),
            "nts_cancel_share_of_clean_land": round(self.cancel_share, 4),
            "hazards_by_stage": {
                name: int((self.stage == s).sum()) for s, name in enumerate(STAGE_NAMES)
            },
            "expected_m2": {
                "cancelled": round(float(cancelled.sum()), 1),
                "reduced": round(float(reduced.sum()), 1),
                "cleared": round(float(cleared.sum()), 1),
            },
            "expected_shares": {
                "cancelled": round(float(cancelled.sum()) / total, 4) if total else 0.0,
                "reduced": round(float(reduced.sum()) / total, 4) if total else 0.0,
                "cleared": round(float(cleared.sum()) / total, 4) if total else 0.0,
            },
        }


def land_release(hazards: pd.DataFrame, history: ReleaseHistory | None) -> LandRelease:
    """The land-release model of prepared hazards (``area_m2``, ``p_mean``; ``type``, ``stage``)."""
    n = len(hazards)
    area = hazards["area_m2"].to_numpy(dtype="float64")
    p = np.clip(hazards["p_mean"].to_numpy(dtype="float64"), 0.0, 1.0)
    stage = (
        hazards["stage"].fillna(STAGE_NEW).to_numpy(dtype=np.int64)
        if "stage" in hazards
        else np.full(n, STAGE_NEW, dtype=np.int64)
    )
    kind = (
        hazards["type"].fillna("").astype(str).to_numpy()
        if "type" in hazards
        else np.full(n, "", dtype=object)
    )
    notes: list[str] = []
    history = history or ReleaseHistory()
    open_land = stage < STAGE_CONFIRMED
    weight = area[open_land].sum()
    map_share = float((p[open_land] * area[open_land]).sum() / weight) if weight > 0 else 0.0
    hist = history.cleared_share()
    if hist is None or hist <= 0 or map_share <= 0:
        level = map_share if map_share > 0 else (hist or 0.0)
        sigma = LEVEL_SIGMA_MIN
        if hist is None:
            notes.append("no releases in the store: the share needing clearance is the map's")
    else:
        level = math.sqrt(map_share * hist)
        sigma = max(LEVEL_SIGMA_MIN, abs(math.log(map_share / hist)) / (2.0 * Z90))
    overall = history.cancel_share()
    if overall is None:
        overall = DEFAULT_CANCEL_SHARE
        notes.append(
            f"no cancelled or reduced land in the store: NTS is assumed to cancel "
            f"{DEFAULT_CANCEL_SHARE:.0%} of the clean land"
        )
    cancel = np.full(n, overall)
    for k in np.unique(kind):
        share = history.cancel_share(str(k)) if k else None
        # a hazard type with little history borrows from the overall share
        if share is not None and history.evidence(str(k)) >= 5:
            cancel[kind == k] = share
    cancel = np.where(stage == STAGE_NEW, cancel, 0.0)
    lr = LandRelease(
        area_m2=area,
        p=p,
        stage=stage,
        kind=kind,
        cancel=cancel,
        clear=np.zeros(n),
        map_share=map_share,
        history_share=hist,
        level=level,
        sigma=sigma,
        cancel_share=float(overall),
        cancel_evidence=history.evidence(),
        notes=notes,
    )
    lr.clear = lr.clear_shares(level)
    return lr
