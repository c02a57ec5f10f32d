"""Scenario presets: every rate the generator uses, with where it comes from.

A preset is a frozen tree of dataclasses. Each parameter carries a ``doc``
and a ``source`` in its field metadata: a published figure from
``shared/data/FACTS.md`` where one exists (the source named as there), or
``"assumption"`` with the reasoning in ``doc``. :func:`parameter_table` lists
them all; ``scenario.json`` records the values a world was generated with.

Area scaling: published Azerbaijani totals (mines laid, victims, land
released, brochures) are for the whole of the formerly occupied territories.
They are scaled to a scenario by ``area_km2 / reference_area_km2``; the
reference area (12,000 km², the order of the formerly occupied
territories' area) is itself an assumption, stated in :class:`ScaleParams`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from minemap.errors import ConfigError

ASSUMPTION = "assumption"
FACTS_MFA = "Azerbaijani Ministry of Foreign Affairs, as quoted in the press, 2023 (FACTS.md)"
FACTS_RELEASE_2023 = "Trend, AZERTAG (2024) (FACTS.md)"
FACTS_RELEASE_2025 = "Azerbaijani press (2025), 1,130 to 1,245 ha per week (FACTS.md)"
FACTS_MAPS = "Azerbaijani press; Mine Action Review: 8 maps as of October 2024 (FACTS.md)"
FACTS_UNDP = "UNDP Azerbaijan, 2023 interview (FACTS.md)"
FACTS_DOWNS = "CISR Journal 13.2 (Downs): fewer than 5% of SHAs contain mines (FACTS.md)"
FACTS_ANAMA_2018 = "CISR Journal: ANAMA in March 2018 (FACTS.md)"


def param(default: Any, doc: str, source: str = ASSUMPTION) -> Any:
    """A preset parameter with its documentation and source."""
    return field(default=default, metadata={"doc": doc, "source": source})


@dataclass(frozen=True)
class ScaleParams:
    reference_area_km2: float = param(
        12_000.0,
        "area over which the published national totals are spread (formerly occupied "
        "territories, order of magnitude); totals scale by area_km2 / this",
    )
    default_area_km2: float = param(2_400.0, "default scenario area, about 60 km by 40 km")
    aspect: float = param(1.5, "width / height of the scenario rectangle")
    line_easting_m: float = param(
        670_000.0,
        "mean easting of the 1994-2020 line of contact in UTM 38N: the real line ran east of "
        "Aghdam (664,774 E) and Fuzuli (684,598 E)",
    )
    centre_northing_m: float = param(
        4_420_000.0, "northing of the scenario centre (Aghdam lies at 4,428,431 N)"
    )
    line_from_west: float = param(0.62, "where the line crosses the rectangle, from the west")
    scenario_end: str = param("2026-06-30", "date of the snapshot: what the authority holds then")


@dataclass(frozen=True)
class TerrainParams:
    """The relief, and the slope distribution it is built to give.

    The rectangle spans the Kura-Aras plains in the east (about 100 to 300
    m), the line of contact on the foot of the hills (Aghdam, about 350 m),
    the foothills (Askeran-Khankendi, 400 to 900 m) and the Karabakh range in
    the west (1,500 to 2,500 m). That land is mostly gentle to moderate:
    steep ground is a minority found on the walls of mountain valleys and on
    ridges. The targets below (slopes of the 30 m DEM, default 2,400 km²
    rectangle) are what the relief parameters were tuned to; they are
    assumptions from the region's physiography (a 30 m DEM of the Kura-Aras
    lowland is almost all below 3°; Lesser Caucasus valley walls run 25 to
    40°) and the tests check them on generated terrain. Real topography has a
    power spectrum falling as about k^-3 to k^-4 (``relief_spectrum``):
    flatter spectra pile relief into the finest cells and make the whole
    mountain zone a cliff.
    """

    plains_elevation_m: float = param(130.0, "elevation of the eastern plains (Kura-Aras lowland)")
    line_elevation_m: float = param(330.0, "elevation at the line of contact (Aghdam ~ 350 m)")
    crest_elevation_m: float = param(
        2_150.0, "elevation the mountains reach 35 km west of the line (Karabakh range)"
    )
    mountain_front_km: float = param(4.0, "distance west of the line where the mountains begin")
    mountain_width_km: float = param(32.0, "distance over which the mountains reach the crest")
    relief_plains_m: float = param(18.0, "relief amplitude of fractal noise on the plains")
    relief_mountains_m: float = param(
        250.0, "relief amplitude (standard deviation) of fractal noise in the mountains"
    )
    relief_spectrum: float = param(
        3.6, "exponent of the relief's 2-D power spectrum (k^-3.6; real terrain k^-3 to k^-4)"
    )
    ridge_share: float = param(0.3, "share of the mountain relief drawn as sharp ridges")
    erosion_depth_m: float = param(160.0, "valley incision along large catchments (mountains)")
    valley_halfwidth_m: float = param(
        300.0, "half-width over which an incised valley widens (its walls' steepness)"
    )
    detail_plains_m: float = param(1.0, "amplitude of relief finer than the drainage grid, plains")
    detail_mountains_m: float = param(
        6.0, "amplitude of relief finer than the drainage grid, mountains"
    )
    target_steep_share: tuple[float, float] = param(
        (0.02, 0.10),
        "target: share of the rectangle steeper than 30° at 30 m (valley walls, ridges)",
    )
    target_hilly_share: tuple[float, float] = param(
        (0.18, 0.38), "target: share of the rectangle steeper than 15° at 30 m"
    )
    target_plains_median_deg: float = param(
        3.0, "target: median slope east of the line (Kura-Aras plains) below this, at 30 m"
    )
    target_foothills_median_deg: tuple[float, float] = param(
        (4.0, 14.0), "target: median slope 4 to 15 km west of the line (foothills), at 30 m"
    )
    target_mountains_median_deg: tuple[float, float] = param(
        (12.0, 25.0), "target: median slope more than 15 km west of the line, at 30 m"
    )
    river_min_catchment_km2: float = param(9.0, "catchment from which a stream is mapped")
    hydro_cell_m: float = param(150.0, "cell of the coarse grid for drainage, roads and places")
    treeline_m: float = param(2_000.0, "upper limit of forest; alpine pasture above")
    forest_floor_m: float = param(650.0, "forest is common from this elevation up")
    rock_above_m: float = param(2_350.0, "bare rock above this elevation")


@dataclass(frozen=True)
class PlacesParams:
    settlements_per_km2: float = param(
        0.065,
        "villages and towns per km² (lowland Karabakh districts held roughly one settlement "
        "per 10 to 15 km² before 1993)",
    )
    km2_per_town: float = param(1_000.0, "one town (5,000 to 30,000 people) per this many km²")
    min_spacing_m: float = param(1_300.0, "minimum distance between settlements")
    village_median_population: float = param(650.0, "median village population before 1993")
    village_population_sigma: float = param(0.8, "log-normal spread of village population")
    town_population: tuple[float, float] = param((5_000.0, 30_000.0), "town population range")
    west_ruined_share: float = param(
        0.75, "share of settlements west of the line ruined (the rest partly ruined)"
    )
    east_damaged_within_m: float = param(
        5_000.0, "east of the line, settlements this close to it were shelled (partly ruined)"
    )
    east_displaced_share: tuple[float, float] = param(
        (0.05, 0.35), "share displaced from shelled settlements east of the line"
    )
    return_years: tuple[int, int] = param(
        (2022, 2032), "planned return years of the Great Return programme (started 2022)"
    )
    returned_share: tuple[float, float] = param(
        (0.15, 0.6), "share of the displaced back by mid-2026 where return was due"
    )
    km2_per_district: float = param(480.0, "one district per this many km²")
    extra_road_share: float = param(0.3, "share of non-tree Delaunay links built as tracks")


@dataclass(frozen=True)
class ConflictParams:
    meander_m: float = param(2_200.0, "amplitude of the line's meander around its mean easting")
    first_echelon_spacing_m: tuple[float, float] = param(
        (500.0, 1_000.0), "spacing of first-echelon positions along the line"
    )
    first_echelon_offset_m: tuple[float, float] = param(
        (450.0, 1_400.0), "distance of first-echelon positions from the line"
    )
    second_echelon_spacing_m: tuple[float, float] = param(
        (1_500.0, 3_000.0), "spacing of second-echelon positions"
    )
    second_echelon_offset_m: tuple[float, float] = param(
        (2_200.0, 4_500.0), "distance of second-echelon positions from the line"
    )
    km_of_line_per_axis: float = param(15.0, "one 2020 advance axis per this much line")
    axis_depth_km: tuple[float, float] = param(
        (8.0, 30.0), "how far west of the line a 2020 axis reached"
    )
    battle_radius_m: tuple[float, float] = param((1_200.0, 3_500.0), "radius of a 2020 battle area")


@dataclass(frozen=True)
class MiningParams:
    occupation_mines: float = param(
        1_500_000.0,
        "mines laid during the 30-year occupation (west side), national total",
        FACTS_MFA,
    )
    post_war_mines: float = param(
        500_000.0,
        "mines laid in the three years after the 2020 war (nuisance mining), national total",
        FACTS_MFA,
    )
    line_of_contact_km: float = param(
        200.0,
        "length of the 1994-2020 line of contact the occupation-period mines were laid along; "
        "they scale with the length of line inside the scenario",
    )
    east_side_ratio: float = param(
        0.3, "mines laid by the east side's own defences, relative to the west side's"
    )
    occupation_mix: tuple[tuple[str, float], ...] = param(
        (("first_echelon_ap", 0.66), ("second_echelon_ap", 0.14), ("at_fields", 0.2)),
        "how the occupation-period mines split between doctrine patterns",
    )
    belt_depth_m: tuple[float, float] = param(
        (30.0, 300.0), "depth of an anti-personnel belt (issue 2: 30 to 300 m)"
    )
    belt_standoff_m: tuple[float, float] = param(
        (30.0, 120.0), "gap between a position and the near edge of its first belt"
    )
    belt_gap_m: tuple[float, float] = param((40.0, 150.0), "gap between successive belts")
    belts_per_position: tuple[int, int] = param((1, 2), "belts in front of a west position")
    ap_models: tuple[tuple[str, float], ...] = param(
        (
            ("PMN-2", 0.42),
            ("PMN", 0.14),
            ("PMN-4", 0.06),
            ("OZM-72", 0.12),
            ("POMZ-2M", 0.12),
            ("MON-50", 0.08),
            ("PMD-6M", 0.06),
        ),
        "anti-personnel models in 1994-2020 belts (Soviet stock)",
    )
    at_models: tuple[tuple[str, float], ...] = param(
        (("TM-62M", 0.6), ("TM-57", 0.15), ("TM-62P", 0.15), ("TM-72", 0.1)),
        "anti-tank models",
    )
    at_field_depth_m: tuple[float, float] = param((40.0, 140.0), "depth of an AT field")
    at_field_width_m: tuple[float, float] = param((250.0, 900.0), "width across an approach")
    at_flat_slope_deg: float = param(4.0, "approaches flatter than this are AT-mined")
    nuisance_mix: tuple[tuple[str, float], ...] = param(
        (("road", 0.5), ("bridge", 0.15), ("village_edge", 0.35)),
        "where post-2020 nuisance mines were laid",
    )
    nuisance_models: tuple[tuple[str, float], ...] = param(
        (("PMN-2", 0.55), ("PMN-4", 0.12), ("TM-62M", 0.25), ("MON-50", 0.05), ("IED", 0.03)),
        "models of post-2020 nuisance mines",
    )
    cmr_strikes_per_km2: float = param(1.6, "cluster strikes per km² of high-intensity battle")
    submunitions_per_strike: tuple[int, int] = param(
        (30, 72), "submunitions per strike (9M55K rocket: 72 x 9N235)"
    )
    submunition_dud_rate: tuple[float, float] = param(
        (0.05, 0.25), "share of submunitions that failed to explode"
    )
    uxo_per_km2_battle: float = param(45.0, "unexploded shells and bombs per km² of battle")
    uxo_models: tuple[tuple[str, float], ...] = param(
        (
            ("122mm HE shell", 0.25),
            ("152mm HE shell", 0.2),
            ("82mm mortar bomb", 0.2),
            ("120mm mortar bomb", 0.12),
            ("PG-7V rocket grenade", 0.1),
            ("VOG-17 grenade", 0.08),
            ("F-1 hand grenade", 0.05),
        ),
        "models of battlefield UXO",
    )
    axo_share_of_positions: float = param(0.15, "west positions that left an abandoned cache")
    position_uxo: tuple[int, int] = param((0, 6), "old mortar bombs and grenades per position")


@dataclass(frozen=True)
class SurveyParams:
    """How NTS records hazards and how land is released.

    The three suspected shares give about 45% of the default region (most of
    the formerly occupied west): the national release rate (about 53,000 ha a
    year) and the official "at least 10 years" to clear (FACTS.md) together
    mean that most of the formerly occupied land was first recorded as
    suspected. With about 2 to 3% of it truly mined, this matches the global
    experience that fewer than 5% of suspected areas hold mines (FACTS.md).
    """

    near_line_m: float = param(3_000.0, "width of the band each side of the line NTS treats as one")
    suspected_near_line: float = param(
        0.85, "share of the band along the old line first recorded as suspected"
    )
    suspected_west: float = param(
        0.55, "share of the rest of the formerly occupied (west) zone first recorded as suspected"
    )
    suspected_east: float = param(
        0.05, "share of the land east of the band first recorded as suspected (shelling, UXO)"
    )
    parcel_km2: float = param(0.9, "mean size of a land parcel an NTS team draws a hazard on")
    truth_logit: float = param(
        2.4, "how much more likely a parcel holding mines is recorded (locals know, signs seen)"
    )
    missed_mined_share: float = param(
        0.12, "share of mined parcels nobody suspects (no witness, no accident)"
    )
    false_sha_share: float = param(
        0.08, "share of suspected parcels added from rumour alone, far from any evidence"
    )
    released_ha_per_year: tuple[tuple[int, float], ...] = param(
        ((2021, 20_000.0), (2022, 38_000.0), (2023, 53_081.0), (2024, 58_000.0), (2025, 61_900.0)),
        "national land released per year; 2023 published, 2025 from the weekly rate, others "
        "interpolated (assumption)",
        f"{FACTS_RELEASE_2023}; {FACTS_RELEASE_2025}",
    )
    remote_front_cleared_share: float = param(
        0.25,
        "share of confirmed hazards on the old front, away from the people living by it, that "
        "are cleared by the snapshot (military clearance); the rest are fenced and wait",
    )
    cleared_share: float = param(
        0.06, "share of each year's released land that is cleared (not cancelled or reduced)"
    )
    org_release_mix: tuple[tuple[str, float], ...] = param(
        (
            ("national_authority", 32_824.0),
            ("military", 6_939.0),
            ("commercial", 11_808.0),
            ("ngo", 1_510.0),
        ),
        "land released in 2023 by organisation type, ha (NGOs: the remainder of 53,081)",
        FACTS_RELEASE_2023,
    )
    cancel_distance_m: tuple[float, float] = param(
        (90.0, 260.0), "NTS cancels land farther than this from any device"
    )
    wrong_cancel_share: float = param(
        0.03, "share of NTS tasks that cancel land still holding devices"
    )
    reduce_distance_m: tuple[float, float] = param(
        (20.0, 45.0), "TS reduces land farther than this from any device"
    )
    ts_find_rate: float = param(0.05, "share of devices in a surveyed area found by TS lanes")
    ts_find_cap: int = param(
        40, "TS stops sampling a hazard once this many devices have set its boundary"
    )
    clearance_miss_rate: float = param(0.002, "devices missed by clearance (residual risk)")
    work_cell_m: float = param(25.0, "grid cell on which released land is outlined")
    cha_on_record_share: float = param(
        0.1, "suspected parcels recorded directly as CHA (mines seen on the surface)"
    )


@dataclass(frozen=True)
class PeopleParams:
    victims_total: float = param(350.0, "mine victims since the 2020 war (to 2023)", FACTS_MFA)
    killed_total: float = param(65.0, "of them killed", FACTS_MFA)
    killed_civilians: float = param(50.0, "of the killed, civilians (15 military)", FACTS_MFA)
    victims_from: str = param("2020-11-10", "start of the published count (ceasefire)")
    victims_to: str = param("2023-12-31", "end of the published count")
    yearly_decline_after: float = param(
        0.8, "victim rate after 2023 as a share of the year before (clearance, EORE)"
    )
    deminer_share: float = param(
        0.03, "share of victims who are deminers (counted among civilians in the press)"
    )
    civilian_activity_mix: tuple[tuple[str, float], ...] = param(
        (
            ("farming", 0.28),
            ("herding", 0.18),
            ("travel", 0.24),
            ("scrap_collection", 0.14),
            ("construction", 0.1),
            ("playing", 0.06),
        ),
        "what civilian victims were doing",
    )
    victims_per_accident: tuple[tuple[str, float], ...] = param(
        (("1", 0.84), ("2", 0.11), ("3", 0.05)), "victims per accident (more for vehicles on AT)"
    )
    male_share_civilian: float = param(0.88, "male share of civilian victims")
    male_share_deminer: float = param(0.93, "male share of deminer victims")
    hit_radius_m: float = param(3.0, "a person passing this close to a live device sets it off")
    eore_sessions_per_1000_per_year: float = param(
        2.5, "EORE sessions a year per 1,000 people living in or returning to a settlement"
    )
    brochures_total: float = param(
        120_000.0, "risk-awareness brochures distributed, national total", FACTS_UNDP
    )


@dataclass(frozen=True)
class OperatorsParams:
    """Who did the work of 2021 to the snapshot, and how fast.

    Productivity is not set here: it is the planner's asset catalogue
    (:func:`minemap.plan.catalogue.load_catalogue`: rates by type, terrain,
    cover and contamination factors, seasons, technical-survey speed-up,
    productivity spread and stoppages), so the history a scenario writes is
    the history the planner would expect of the same fleet. The fleet is not
    set either: it grows with the work. When a task has waited longer than
    ``max_wait_days`` for a free team able to do it, an organisation fields a
    new team, of a type drawn from ``team_mix`` among the types able to do
    that task. So the fleet is just large enough for the published release
    pace (``survey.released_ha_per_year``), its commissioning dates follow
    the growth of 2021 to 2025, and every team works one task at a time; a
    team left idle for ``idle_days_to_leave`` leaves (retired), so the fleet
    at the snapshot is the one the recent pace needed.
    ANAMA's 2018 figures (490 staff, 6 machines, 40 dogs, 4.41 million m² a
    month) are the sanity check of staff against output (``scenario
    describe`` prints the scenario's).
    """

    team_mix: tuple[tuple[str, float], ...] = param(
        (
            ("manual", 0.5),
            ("dog", 0.3),
            ("machine", 0.2),
            ("nts", 0.7),
            ("drone", 0.3),
            ("eod", 1.0),
        ),
        "weights of the type of a new team, among the types able to do the waiting task "
        "(survey: nts, drone; technical survey and clearance: manual, dog, machine; battle-area "
        "clearance and call-outs also eod); ANAMA in 2018 had 6 machines and 40 dogs beside "
        "about 400 manual deminers",
        FACTS_ANAMA_2018,
    )
    max_wait_days: tuple[tuple[str, float], ...] = param(
        (("NTS", 30.0), ("TS", 45.0), ("clearance", 60.0), ("EOD", 14.0)),
        "days a task may wait for a free team before a new team is fielded",
    )
    max_task_days: tuple[tuple[str, float], ...] = param(
        (("TS", 40.0), ("clearance", 40.0), ("EOD", 20.0)),
        "working days one team gives one site before the rest of it goes to another team "
        "(large sites are worked by several teams side by side)",
    )
    nts_to_ts_days: tuple[int, int] = param(
        (10, 90), "days between the end of a hazard's NTS and its technical survey being tasked"
    )
    ts_to_clearance_days: int = param(7, "least days between TS and clearance of a site")
    move_days: tuple[int, int] = param((1, 4), "days a team needs to move to its next site")
    team_pace_sigma: float = param(
        0.12,
        "spread (lognormal sigma) of a team's own pace around the catalogue's, for good; each "
        "task adds the catalogue's productivity_cv and stoppage_share on top",
    )
    idle_days_to_leave: float = param(
        150.0,
        "a team left without work this long leaves the region (contract ended, moved to other "
        "work): it is recorded as retired",
    )
    maintenance_share: float = param(
        0.08, "share of the teams idle at the snapshot whose equipment is in maintenance"
    )
    teams_with_women_share: float = param(
        0.25, "manual teams with women deminers (the country's first female deminers)", FACTS_UNDP
    )
    record_share_west: float = param(
        0.12,
        "west-side 1994-2020 minefields covered by a handed-over record (few maps were given)",
        FACTS_MAPS,
    )
    record_share_east: float = param(
        0.45, "east-side minefields covered by the east side's own engineer records"
    )
    record_gross_error_share: float = param(
        0.12, "records with a gross error (wrong landmark, bearing type or unit)"
    )


@dataclass(frozen=True)
class Preset:
    """Every parameter of a scenario."""

    name: str
    description: str
    scale: ScaleParams = field(default_factory=ScaleParams)
    terrain: TerrainParams = field(default_factory=TerrainParams)
    places: PlacesParams = field(default_factory=PlacesParams)
    conflict: ConflictParams = field(default_factory=ConflictParams)
    mining: MiningParams = field(default_factory=MiningParams)
    survey: SurveyParams = field(default_factory=SurveyParams)
    people: PeopleParams = field(default_factory=PeopleParams)
    operators: OperatorsParams = field(default_factory=OperatorsParams)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


KARABAKH = Preset(
    name="karabakh",
    description=(
        "Karabakh-like lowlands and foothills: mountains in the west, plains in the east, the "
        "1994-2020 line of contact across the foothills, the 2020 war and post-2020 nuisance "
        "mining; rates from published Azerbaijani figures scaled by area"
    ),
)

PRESETS: dict[str, Preset] = {KARABAKH.name: KARABAKH}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; ConfigError naming the known ones otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        known = ", ".join(sorted(PRESETS))
        msg = f"unknown scenario preset {name!r}; known presets: {known}"
        raise ConfigError(msg) from None


def parameter_table(preset: Preset) -> list[tuple[str, Any, str, str]]:
    """``(group.name, value, doc, source)`` for every parameter of ``preset``."""
    rows: list[tuple[str, Any, str, str]] = []
    for group in dataclasses.fields(preset):
        value = getattr(preset, group.name)
        if not dataclasses.is_dataclass(value):
            continue
        for f in dataclasses.fields(value):
            rows.append(
                (
                    f"{group.name}.{f.name}",
                    getattr(value, f.name),
                    f.metadata.get("doc", ""),
                    f.metadata.get("source", ASSUMPTION),
                )
            )
    return rows
