"""Handed-over minefield records: reference points and bearing/distance traverses.

A minority of the 1994-2020 minefields have a record: the west side's come
from a few handed-over maps, the east side's from its own engineers. A
record ties a landmark (the reference point) to the minefield's turning
points by legs of bearing and distance, the way minefield record forms do:
the first leg runs from the reference point to TP1, the others from turning
point to turning point; most polygon records close with a leg back to TP1
(labelled ``TP1``), whose misfit measures the record's own accuracy.

Bearings are measured from the north named by ``bearing_type``:

* ``grid``: grid bearing in EPSG:32638;
* ``magnetic``: grid bearing = bearing + ``declination_deg`` (magnetic minus
  grid, about +5.3 degrees here: 6.5 degrees east declination less 1.2
  degrees of grid convergence);
* ``true``: grid bearing = bearing - convergence (about 1.2 degrees here).

Errors are realistic: the tie to the landmark is off by metres, compass
readings by a degree or two, taped or paced distances by a few percent.
A share of records carry one gross error: the wrong landmark, magnetic
bearings labelled grid, one leg read back to front, distances in paces, or
a turning point left out. The truth layer keeps which minefield each record
describes (``minefields.record_ref``) so conversions can be scored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import shapely
from pyproj import Proj, Transformer
from scipy.spatial import cKDTree

from minemap.scenario.frame import CRS, Frame, pick, ref
from minemap.scenario.mining import OCCUPATION_PERIOD, Truth
from minemap.scenario.places import Settlements
from minemap.scenario.presets import OperatorsParams

MAGNETIC_DECLINATION_DEG = 6.5  # east of true north near Aghdam, 2020 (order of the WMM value)
_LANDMARKS = (
    "electricity pylon",
    "hilltop trig point",
    "water tower",
    "lone tree",
    "culvert",
    "road junction",
    "ruined farm building",
    "cemetery corner",
)
GROSS_ERRORS = ("wrong_landmark", "unlabelled_magnetic", "reversed_leg", "paces", "missing_point")


@dataclass
class Leg:
    bearing: float
    distance: float
    label: str


@dataclass
class MinefieldRecord:
    minefield: int
    x: float
    y: float
    landmark: str
    bearing_type: str
    declination: float | None
    shape: str
    mine_types: str
    mine_count: int
    laid_on: dt.date
    laid_by: str
    received_on: dt.date
    source: str
    gross_error: str | None
    legs: list[Leg] = field(default_factory=list)


def convergence_deg(frame: Frame) -> float:
    """Grid convergence at the scenario's centre (true north is this far west of grid north)."""
    to_geo = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    lon, lat = to_geo.transform((frame.x0 + frame.x1) / 2, (frame.y0 + frame.y1) / 2)
    return float(Proj(CRS).get_factors(lon, lat).meridian_convergence)


def _turning_points(poly: shapely.Polygon, as_line: bool) -> np.ndarray:
    ring = np.asarray(poly.exterior.coords)[:-1]
    if as_line and len(ring) == 4:
        return np.array([(ring[0] + ring[3]) / 2, (ring[1] + ring[2]) / 2])
    if len(ring) > 8:
        ring = np.asarray(cast(shapely.Polygon, poly.simplify(10.0)).exterior.coords)[:-1]
    return ring


def make_records(
    frame: Frame,
    truth: Truth,
    settlements: Settlements,
    params: OperatorsParams,
    area_scale: float,
    *,
    rng: np.random.Generator,
) -> list[MinefieldRecord]:
    """Records for a minority of the 1994-2020 belts and AT fields; sets ``record_ref``."""
    gamma = convergence_deg(frame)
    decl = MAGNETIC_DECLINATION_DEG - gamma
    counts = truth.mine_counts()
    s_tree = cKDTree(np.column_stack([settlements.x, settlements.y]))
    n_maps = max(1, round(8 * area_scale))
    map_dates = sorted(
        dt.date(2020, 12, 1) + dt.timedelta(days=int(d))
        for d in rng.integers(0, (dt.date(2024, 10, 31) - dt.date(2020, 12, 1)).days, n_maps)
    )
    records: list[MinefieldRecord] = []
    for i, mf in enumerate(truth.minefields):
        if mf.period != OCCUPATION_PERIOD or mf.pattern not in ("ap_belt", "at_field"):
            continue
        share = params.record_share_west if mf.side == "west" else params.record_share_east
        if rng.random() >= share or counts[i] == 0:
            continue
        as_line = mf.pattern == "ap_belt" and rng.random() < 0.2
        points = _turning_points(mf.polygon, as_line)
        first = points[0]
        _, s = s_tree.query(first)
        # the landmark: a named object a few hundred metres from the first turning point
        angle = rng.uniform(0, 2 * np.pi)
        reach = rng.uniform(150.0, 600.0)
        lx, ly = first[0] + reach * np.cos(angle), first[1] + reach * np.sin(angle)
        kind = _LANDMARKS[int(rng.integers(len(_LANDMARKS)))]
        heading = ("north", "east", "south", "west")[
            int(
                ((np.degrees(np.arctan2(lx - settlements.x[s], ly - settlements.y[s])) + 45) % 360)
                // 90
            )
        ]
        landmark = f"{kind} {heading} of {settlements.name[int(s)]}"
        bearing_type = str(pick(rng, (("magnetic", 0.7), ("grid", 0.2), ("true", 0.1)), 1)[0])
        gross = (
            str(rng.choice(GROSS_ERRORS))
            if rng.random() < params.record_gross_error_share
            else None
        )
        path = np.vstack([[lx, ly], points])
        labels = [f"TP{k}" for k in range(1, len(points) + 1)]
        if gross == "missing_point" and len(points) > 3:
            drop = int(rng.integers(1, len(points)))
            path = np.delete(path, drop + 1, axis=0)
            labels = [lab for k, lab in enumerate(labels) if k != drop]
        if not as_line and rng.random() < 0.6:
            # a careful surveyor walks back to TP1: the closing leg shows the misclosure
            path = np.vstack([path, path[1:2]])
            labels.append("TP1")
        d = np.diff(path, axis=0)
        grid_bearing = np.degrees(np.arctan2(d[:, 0], d[:, 1])) % 360.0
        distance = np.hypot(d[:, 0], d[:, 1])
        if bearing_type == "magnetic":
            bearing = grid_bearing - decl + rng.normal(0, 1.5, grid_bearing.size)
            declination: float | None = round(decl, 1)
        elif bearing_type == "true":
            bearing = grid_bearing + gamma + rng.normal(0, 1.0, grid_bearing.size)
            declination = None
        else:
            bearing = grid_bearing + rng.normal(0, 1.0, grid_bearing.size)
            declination = None
        distance = distance * (1.0 + rng.normal(0, 0.03, distance.size))
        ref_x = lx + rng.normal(0, 10.0)
        ref_y = ly + rng.normal(0, 10.0)
        if gross == "wrong_landmark":
            off = rng.uniform(400.0, 1_500.0)
            a = rng.uniform(0, 2 * np.pi)
            ref_x, ref_y = ref_x + off * np.cos(a), ref_y + off * np.sin(a)
        elif gross == "unlabelled_magnetic":
            bearing = grid_bearing - decl + rng.normal(0, 1.5, grid_bearing.size)
            bearing_type, declination = "grid", None
        elif gross == "reversed_leg":
            k = int(rng.integers(bearing.size))
            bearing[k] += 180.0
        elif gross == "paces":
            distance = distance / 0.75
        bearing = np.round(bearing % 360.0 * 2) / 2 % 360.0
        distance = np.round(distance)
        models = sorted(set(truth.model[truth.minefield == i].tolist()))
        # the west side's maps each cover a north-south stretch of the line
        sheet = min(int((mf.polygon.centroid.y - frame.y0) / frame.height * n_maps), n_maps - 1)
        count_error = rng.uniform(0.75, 1.25) if gross is None else rng.uniform(0.3, 1.5)
        rec = MinefieldRecord(
            minefield=i,
            x=float(np.clip(ref_x, frame.x0 + 1, frame.x1 - 1)),
            y=float(np.clip(ref_y, frame.y0 + 1, frame.y1 - 1)),
            landmark=landmark,
            bearing_type=bearing_type,
            declination=declination,
            shape="line" if as_line else "polygon",
            mine_types=";".join(models),
            mine_count=max(1, round(counts[i] * count_error)),
            laid_on=dt.date(mf.laid_year, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365))),
            laid_by=(
                f"west side engineer unit {int(rng.integers(1, 9))}"
                if mf.side == "west"
                else f"east side engineer battalion {int(rng.integers(1, 5))}"
            ),
            received_on=(
                map_dates[sheet]
                if mf.side == "west"
                else dt.date(2021, 3, 1) + dt.timedelta(days=int(rng.integers(0, 500)))
            ),
            source=(
                f"handed-over map {sheet + 1} of {n_maps}"
                if mf.side == "west"
                else "own forces engineer records"
            ),
            gross_error=gross,
            legs=[
                Leg(float(b), float(dd), lab)
                for b, dd, lab in zip(bearing, distance, labels, strict=True)
            ],
        )
        records.append(rec)
        mf.record_ref = ref("MR", len(records))
    return records
