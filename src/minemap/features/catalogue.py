"""The documented list of hazard-map features: name, unit, rationale, kernel.

Features come in groups that share inputs and intermediate work (the two
distance transforms of the positions, the land-cover window sums). Each group
names the input layers it reads (see :mod:`minemap.features.inputs`), how far
its kernels look (its reach, which sets the tile halo) and the features it
returns, in order. :data:`FEATURES` lists every feature; ``minemap hazard-map
build`` writes the list into ``metrics.json``.

Distances are capped (:data:`CAPS`) so that a finite halo is exact; past the
cap a distance carries no more information for mine contamination (belts lie
within a few hundred metres of positions; nuisance mining within a few hundred
metres of roads and villages). Units: metres, degrees, per km², people.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from minemap.features import kernels as k

Arrays = Mapping[str, np.ndarray]

#: Cap of each distance feature family, metres.
CAPS: dict[str, float] = {
    "front_line": 10_000.0,
    "positions": 5_000.0,
    "roads": 5_000.0,
    "rivers": 5_000.0,
    "settlements": 5_000.0,
    "battle": 5_000.0,
    "evidence": 5_000.0,
    "hazards": 5_000.0,
}
#: Radii of the window features, metres.
RADII: dict[str, float] = {
    "finds": 1_000.0,
    "accidents": 2_000.0,
    "people": 2_000.0,
    "landcover": 250.0,
}
#: Land-cover codes of the scenario's ``landcover.tif``.
LANDCOVER: dict[int, str] = {
    1: "forest",
    2: "pasture",
    3: "cropland",
    4: "built_up",
    5: "water",
    6: "bare",
}


@dataclass(frozen=True)
class Feature:
    """One per-cell feature."""

    name: str
    unit: str
    rationale: str


@dataclass(frozen=True)
class FeatureGroup:
    """Features computed together from the same inputs by one kernel function."""

    name: str
    inputs: tuple[str, ...]
    features: tuple[Feature, ...]
    reach_m: float
    compute: Callable[[Arrays, float], list[np.ndarray]]

    def halo(self, cell: float) -> int:
        return k.halo_cells(self.reach_m, cell)


def _distance_group(
    name: str, layer: str, cap_key: str, feature: str, rationale: str
) -> FeatureGroup:
    """A group of one capped distance feature to one source layer."""
    cap = CAPS[cap_key]

    def compute(a: Arrays, cell: float) -> list[np.ndarray]:
        return [k.capped_distance(a[layer], cell, cap)]

    return FeatureGroup(name, (layer,), (Feature(feature, "m", rationale),), cap, compute)


# --- groups with more than one output ---------------------------------------------


def _positions(a: Arrays, cell: float) -> list[np.ndarray]:
    # one distance transform per side serves all four features
    cap = CAPS["positions"]
    side, facing_deg = a["side"], a["facing_deg"]
    dw, wr, wc = k.nearest_source(a["positions_west"], cell)
    de, er, ec = k.nearest_source(a["positions_east"], cell)
    nearer = np.minimum(dw, de)
    own = k.by_side(dw, de, side, nearer)
    other = k.by_side(de, dw, side, nearer)
    face_w = k.alignment(dw, wr, wc, facing_deg, cap)
    face_e = k.alignment(de, er, ec, facing_deg, cap)
    facing = np.where(dw <= de, face_w, face_e)
    own_facing = k.by_side(face_w, face_e, side, facing)
    return [
        np.minimum(own, cap).astype(np.float32),
        np.minimum(other, cap).astype(np.float32),
        facing.astype(np.float32),
        own_facing.astype(np.float32),
    ]


def _finds(a: Arrays, cell: float) -> list[np.ndarray]:
    counts = a["finds"]
    return [
        k.capped_distance_to_others(counts, cell, CAPS["evidence"]),
        k.density_per_km2(counts, RADII["finds"], cell, exclude_own=True),
    ]


def _accidents(a: Arrays, cell: float) -> list[np.ndarray]:
    counts = a["accidents"]
    return [
        k.capped_distance(counts > 0, cell, CAPS["evidence"]),
        k.density_per_km2(counts, RADII["accidents"], cell),
    ]


def _terrain(a: Arrays, cell: float) -> list[np.ndarray]:
    dem = a["dem"]
    north, east = k.aspect_components(dem, cell)
    return [dem.astype(np.float32), k.slope_deg(dem, cell), k.roughness(dem), north, east]


def _landcover(a: Arrays, cell: float) -> list[np.ndarray]:
    lc = a["landcover"]
    own = lc.astype(np.float32)
    own[lc == 0] = np.nan
    codes = tuple(LANDCOVER)
    return [own, *k.class_fractions(lc, codes, RADII["landcover"], cell)]


def _people(a: Arrays, cell: float) -> list[np.ndarray]:
    r = RADII["people"]
    return [
        k.disk_sum(a["population"], r, cell).astype(np.float32),
        k.disk_sum(a["displaced"], r, cell).astype(np.float32),
    ]


def _settlements(a: Arrays, cell: float) -> list[np.ndarray]:
    cap = CAPS["settlements"]
    return [
        k.capped_distance(a["settlement_inhabited"], cell, cap),
        k.capped_distance(a["settlement_ruined"], cell, cap),
    ]


def _roads(a: Arrays, cell: float) -> list[np.ndarray]:
    cap = CAPS["roads"]
    return [
        k.capped_distance(a["road_main"], cell, cap),
        k.capped_distance(a["road_secondary"], cell, cap),
        k.capped_distance(a["track"], cell, cap),
    ]


def _hazards(a: Arrays, cell: float) -> list[np.ndarray]:
    cap = CAPS["hazards"]
    return [
        k.capped_distance(a["sha"], cell, cap),
        k.capped_distance(a["cha"], cell, cap),
        k.capped_distance(a["minefield_record"], cell, cap),
    ]


def _battle(a: Arrays, cell: float) -> list[np.ndarray]:
    cap = CAPS["battle"]
    return [
        k.capped_distance(a["battle_area"], cell, cap),
        k.capped_distance(a["advance_axis"], cell, cap),
    ]


GROUPS: tuple[FeatureGroup, ...] = (
    _distance_group(
        "front_line",
        "front_line",
        "front_line",
        "dist_front_line",
        "The 1994-2020 line of contact: both sides mined its approaches for 26 years.",
    ),
    FeatureGroup(
        "positions",
        ("positions_west", "positions_east", "side", "facing_deg"),
        (
            Feature(
                "dist_position_own_side",
                "m",
                "Distance to defensive positions on the cell's own side of the line: AP belts "
                "lie 30-300 m in front of a side's own positions, between them and the line.",
            ),
            Feature(
                "dist_position_other_side",
                "m",
                "Distance to positions across the line: the other side's belts face this one.",
            ),
            Feature(
                "position_facing",
                "cos",
                "Cosine of the angle between the nearest position's facing and the bearing to "
                "the cell: belts lie in front of a position, not behind it.",
            ),
            Feature(
                "own_position_facing",
                "cos",
                "The same for the nearest position of the cell's own side.",
            ),
        ),
        CAPS["positions"],
        _positions,
    ),
    FeatureGroup(
        "roads",
        ("road_main", "road_secondary", "track"),
        (
            Feature(
                "dist_road_main", "m", "Main roads: AT mines across approaches, nuisance mining."
            ),
            Feature("dist_road_secondary", "m", "Secondary roads: AT mines, nuisance mining."),
            Feature("dist_track", "m", "Tracks: used by both sides for supply; mined to deny."),
        ),
        CAPS["roads"],
        _roads,
    ),
    _distance_group(
        "rivers",
        "river",
        "rivers",
        "dist_river",
        "Rivers: crossings and banks were obstacles covered by mines.",
    ),
    FeatureGroup(
        "settlements",
        ("settlement_inhabited", "settlement_ruined"),
        (
            Feature(
                "dist_settlement_inhabited",
                "m",
                "Inhabited settlements: land around them has been used and would show accidents.",
            ),
            Feature(
                "dist_settlement_ruined",
                "m",
                "Ruined settlements: village edges were nuisance-mined; nobody has checked them.",
            ),
        ),
        CAPS["settlements"],
        _settlements,
    ),
    FeatureGroup(
        "battle",
        ("battle_area", "advance_axis"),
        (
            Feature(
                "dist_battle_area", "m", "2020 battle areas: cluster munitions and UXO (0 inside)."
            ),
            Feature("dist_advance_axis", "m", "2020 advance axes: UXO and hasty mining."),
        ),
        CAPS["battle"],
        _battle,
    ),
    FeatureGroup(
        "finds",
        ("finds",),
        (
            Feature(
                "dist_find_other_cell",
                "m",
                "Devices found in another cell: mines are laid in patterns, rarely alone.",
            ),
            Feature(
                "find_density",
                "per km²",
                f"Devices found within {RADII['finds']:g} m (the cell's own left out), per km².",
            ),
        ),
        max(CAPS["evidence"], RADII["finds"]),
        _finds,
    ),
    FeatureGroup(
        "accidents",
        ("accidents",),
        (
            Feature("dist_accident", "m", "Accidents: a device went off there."),
            Feature(
                "accident_density",
                "per km²",
                f"Accidents within {RADII['accidents']:g} m, per km².",
            ),
        ),
        max(CAPS["evidence"], RADII["accidents"]),
        _accidents,
    ),
    FeatureGroup(
        "hazards",
        ("sha", "cha", "minefield_record"),
        (
            Feature(
                "dist_sha",
                "m",
                "Open suspected hazardous areas (0 inside): indirect evidence from NTS.",
            ),
            Feature(
                "dist_cha",
                "m",
                "Open confirmed hazardous areas (0 inside): direct evidence from survey.",
            ),
            Feature(
                "dist_minefield_record",
                "m",
                "Handed-over minefield records digitised to shapes (0 inside); records are "
                "offset by their errors, so nearness matters as well as inside.",
            ),
        ),
        CAPS["hazards"],
        _hazards,
    ),
    FeatureGroup(
        "terrain",
        ("dem",),
        (
            Feature("elevation", "m", "Mountains in the west, plains in the east."),
            Feature("slope", "degrees", "Steep ground is hard to mine and to cross."),
            Feature("roughness", "m", "Mean absolute height difference to the 8 neighbours."),
            Feature("aspect_north", "cos", "Northness of the slope (positions face the enemy)."),
            Feature("aspect_east", "sin", "Eastness of the slope."),
        ),
        1.0,
        _terrain,
    ),
    FeatureGroup(
        "landcover",
        ("landcover",),
        (
            Feature("landcover", "class", "Land-cover class of the cell (1-6)."),
            *(
                Feature(
                    f"frac_{name}",
                    "share",
                    f"Share of {name.replace('_', '-')} within {RADII['landcover']:g} m.",
                )
                for name in LANDCOVER.values()
            ),
        ),
        RADII["landcover"],
        _landcover,
    ),
    FeatureGroup(
        "people",
        ("population", "displaced"),
        (
            Feature(
                "population_2km",
                "people",
                f"People living within {RADII['people']:g} m: exposure, and land in use.",
            ),
            Feature(
                "displaced_2km",
                "people",
                f"Displaced people of settlements within {RADII['people']:g} m, waiting to "
                "return: land nobody has used since.",
            ),
        ),
        RADII["people"],
        _people,
    ),
)

#: Every feature, in the order of the feature stack.
FEATURES: tuple[Feature, ...] = tuple(f for g in GROUPS for f in g.features)
#: Features that are categories, not quantities.
CATEGORICAL: tuple[str, ...] = ("landcover",)


def feature_names() -> list[str]:
    return [f.name for f in FEATURES]


def group(name: str) -> FeatureGroup:
    for g in GROUPS:
        if g.name == name:
            return g
    msg = f"no feature group {name!r}"
    raise KeyError(msg)


def input_names() -> list[str]:
    """Every input layer some feature reads."""
    seen: dict[str, None] = {}
    for g in GROUPS:
        for name in g.inputs:
            seen[name] = None
    return list(seen)


def describe() -> list[dict[str, str]]:
    """The feature list as records (name, unit, rationale), for metrics and docs."""
    return [{"name": f.name, "unit": f.unit, "rationale": f.rationale} for f in FEATURES]
