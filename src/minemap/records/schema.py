"""The record kinds of minemap: names, geometry, fields, vocabularies and links.

This module is the one contract shared by the scenario generator (which writes
``observed.gpkg`` in these terms), the store (which makes tables of them), the
importers and exporters, the hazard-map layers, the planner, the API and the
reports. Terms follow IMAS 05.10 (information management), 07.11 (land
release), 08.10 (non-technical survey), 08.20 (technical survey), 09.10
(clearance), 10.60 (accidents) and 12.10 (explosive ordnance risk education),
and GICHD's minimum data requirements.

Conventions
-----------
* Every kind has a unique human reference ``ref`` (e.g. ``HA-000123``) besides
  the store's integer ``id``.
* A link to another record is a field of type ``"link"`` named ``<x>_id``
  holding the other record's ``id`` in the store. In files (imports, exports,
  the scenario's ``observed.gpkg``) the same link travels as ``<x>_ref``, the
  other record's ``ref``, and is resolved on import; a link that resolves to
  nothing is refused. See :func:`file_name` and :func:`Field.file_name`.
* Geometries are in the store's metric CRS (default EPSG:32638, UTM 38N);
  areas are square metres, lengths metres, depths centimetres.
* Dates are ISO ``YYYY-MM-DD``; timestamps ISO 8601 in UTC.
* Fields marked ``personal`` (victims' names and contacts) are personal data:
  stored only when given, shown only to roles allowed to see them.
* Every record kind carries the :data:`SYSTEM_FIELDS` (workflow state,
  version for optimistic concurrency, owner organisation, times, free
  ``attributes`` for foreign columns that map to nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FieldType = Literal["text", "int", "float", "date", "datetime", "bool", "json", "link"]
GeometryType = Literal["Point", "LineString", "MultiLineString", "Polygon", "MultiPolygon"]

# --- vocabularies -------------------------------------------------------------

WORKFLOW = ("draft", "submitted", "approved", "rejected")
HAZARD_TYPES = ("SHA", "CHA")
CONTAMINATION = ("AP", "AT", "UXO", "CMR", "IED", "mixed")
EVIDENCE = ("observed", "verbal", "records", "accident", "predicted")
HAZARD_STATUS = ("open", "closed", "handed_over")
LAND_USE = ("housing", "farmland", "pasture", "road", "infrastructure", "water", "forest", "other")
ACTIVITY_TYPES = ("NTS", "TS", "clearance", "EOD")
ACTIVITY_STATUS = ("planned", "ongoing", "completed", "suspended")
QA_RESULTS = ("passed", "failed", "pending", "not_required")
RELEASE_METHODS = ("cancelled", "reduced", "cleared")
DEVICE_CATEGORIES = ("AP", "AT", "UXO", "AXO", "submunition", "IED")
DEVICE_CONDITIONS = ("armed", "unarmed", "damaged", "unknown")
DISPOSALS = ("destroyed_in_situ", "removed", "rendered_safe", "pending")
VICTIM_ACTIVITIES = (
    "farming",
    "herding",
    "travel",
    "scrap_collection",
    "demining",
    "construction",
    "playing",
    "military_duty",
    "other",
)
OUTCOMES = ("killed", "injured")
SEXES = ("male", "female")
VICTIM_GROUPS = ("civilian", "military", "deminer")
EORE_METHODS = ("session", "brochure", "media", "school", "community_liaison")
ORGANISATION_TYPES = ("national_authority", "ngo", "commercial", "military", "international")
ASSET_TYPES = ("manual", "dog", "machine", "drone", "nts", "eod")
ASSET_STATUS = ("active", "maintenance", "retired")
BEARING_TYPES = ("grid", "magnetic", "true")
RECORD_SHAPES = ("polygon", "line")
SETTLEMENT_STATUS = ("inhabited", "partly_ruined", "ruined")
ROAD_CLASSES = ("main", "secondary", "track")
SIDES = ("west", "east")
POSITION_KINDS = ("strongpoint", "trench", "firing_position", "observation_post")
ROLES = ("viewer", "editor", "analyst", "approver", "admin")


@dataclass(frozen=True)
class Field:
    """One attribute of a record kind."""

    name: str
    type: FieldType
    required: bool = False
    choices: tuple[str, ...] | None = None
    link: str | None = None  # target kind when ``type == "link"``
    personal: bool = False
    minimum: float | None = None
    maximum: float | None = None
    doc: str = ""

    @property
    def file_name(self) -> str:
        """The column name in files: ``<x>_ref`` for a link, else the name."""
        if self.type == "link":
            return self.name.removesuffix("_id") + "_ref"
        return self.name


@dataclass(frozen=True)
class Kind:
    """A record kind: a table in the store, a layer in files."""

    name: str
    title: str
    geometry: GeometryType | None
    fields: tuple[Field, ...]
    ref_prefix: str
    imas: str = ""
    context: bool = False  # a map context layer (front line, roads...) rather than a record
    doc: str = ""
    children: tuple[str, ...] = field(default=())

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        msg = f"{self.name} has no field {name!r}"
        raise KeyError(msg)

    @property
    def links(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.type == "link")

    @property
    def personal_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.personal)


SYSTEM_FIELDS: tuple[Field, ...] = (
    Field("workflow", "text", choices=WORKFLOW, doc="draft, submitted, approved or rejected"),
    Field("version", "int", minimum=1, doc="incremented by every write; stale writes are refused"),
    Field("organisation_id", "link", link="organisations", doc="owner organisation"),
    Field("created_at", "datetime"),
    Field("created_by", "text"),
    Field("updated_at", "datetime"),
    Field("updated_by", "text"),
    Field("attributes", "json", doc="foreign columns that map to no field, kept as given"),
)


def _f(name: str, type_: FieldType, **kw: object) -> Field:
    return Field(name, type_, **kw)  # type: ignore[arg-type]


KINDS: dict[str, Kind] = {}


def _kind(kind: Kind) -> Kind:
    KINDS[kind.name] = kind
    return kind


# --- organisations, people and equipment -----------------------------------------

_kind(
    Kind(
        "organisations",
        "Organisation",
        None,
        (
            _f("name", "text", required=True),
            _f("type", "text", required=True, choices=ORGANISATION_TYPES),
            _f("country", "text"),
        ),
        "ORG",
        imas="05.10",
    )
)
_kind(
    Kind(
        "teams",
        "Team",
        None,
        (
            _f("name", "text", required=True),
            _f("type", "text", required=True, choices=ASSET_TYPES, doc="what the team does"),
            _f("staff_male", "int", minimum=0),
            _f("staff_female", "int", minimum=0, doc="counted so women deminers are reported"),
            _f("base_settlement_id", "link", link="settlements"),
        ),
        "TM",
        imas="05.10",
    )
)
_kind(
    Kind(
        "assets",
        "Asset",
        None,
        (
            _f("name", "text", required=True),
            _f(
                "type",
                "text",
                required=True,
                doc="a key of the asset catalogue: manual, dog, machine, drone, nts, eod or a "
                "user-added type",
            ),
            _f("team_id", "link", link="teams"),
            _f("model", "text", doc="e.g. MV-10, Bozena 5, two-dog MDD team"),
            _f("deminers", "int", minimum=0, doc="people working with the asset (manual teams)"),
            _f("status", "text", choices=ASSET_STATUS),
            _f("commissioned_on", "date"),
            _f(
                "productivity_m2_day",
                "float",
                minimum=0,
                doc="overrides the catalogue figure for this asset when given",
            ),
        ),
        "AS",
        imas="05.10",
        doc="A schedulable unit: a manual team, a dog team, a machine, a drone team...",
    )
)

# --- places ------------------------------------------------------------------------

_kind(
    Kind(
        "districts",
        "District",
        "MultiPolygon",
        (_f("name", "text", required=True),),
        "DI",
        context=True,
    )
)
_kind(
    Kind(
        "settlements",
        "Settlement",
        "Point",
        (
            _f("name", "text", required=True),
            _f("district_id", "link", link="districts"),
            _f("population", "int", minimum=0, doc="people living there now"),
            _f("displaced", "int", minimum=0, doc="displaced people who lived there"),
            _f("status", "text", choices=SETTLEMENT_STATUS),
            _f("planned_return_year", "int", minimum=1990, maximum=2100),
        ),
        "SE",
    )
)
_kind(Kind("region", "Region", "MultiPolygon", (_f("name", "text"),), "RG", context=True))
_kind(
    Kind(
        "front_line",
        "Line of contact",
        "MultiLineString",
        (_f("name", "text"), _f("period", "text", doc="e.g. 1994-2020")),
        "FL",
        context=True,
    )
)
_kind(
    Kind(
        "positions",
        "Defensive position",
        "Point",
        (
            _f("side", "text", required=True, choices=SIDES, doc="side of the line it held"),
            _f("kind", "text", choices=POSITION_KINDS),
            _f("facing_deg", "float", minimum=0, maximum=360, doc="bearing it faced"),
            _f("period", "text"),
        ),
        "PO",
        context=True,
    )
)
_kind(
    Kind(
        "roads",
        "Road",
        "MultiLineString",
        (_f("name", "text"), _f("class", "text", choices=ROAD_CLASSES)),
        "RD",
        context=True,
    )
)
_kind(
    Kind(
        "rivers",
        "River",
        "MultiLineString",
        (_f("name", "text"), _f("order", "int", minimum=1)),
        "RV",
        context=True,
    )
)
_kind(
    Kind(
        "battle_areas",
        "2020 battle area",
        "MultiPolygon",
        (_f("name", "text"), _f("year", "int"), _f("intensity", "text")),
        "BA",
        context=True,
    )
)
_kind(
    Kind(
        "advance_axes",
        "2020 advance axis",
        "MultiLineString",
        (_f("name", "text"), _f("year", "int")),
        "AX",
        context=True,
    )
)

# --- hazards and land release --------------------------------------------------------

_kind(
    Kind(
        "hazards",
        "Hazardous area",
        "MultiPolygon",
        (
            _f("name", "text"),
            _f("type", "text", required=True, choices=HAZARD_TYPES, doc="SHA or CHA"),
            _f("contamination", "text", required=True, choices=CONTAMINATION),
            _f("evidence", "text", choices=EVIDENCE),
            _f("status", "text", required=True, choices=HAZARD_STATUS),
            _f("area_m2", "float", minimum=0, doc="computed from the geometry"),
            _f("district_id", "link", link="districts"),
            _f("settlement_id", "link", link="settlements", doc="nearest settlement"),
            _f("land_use", "text", choices=LAND_USE, doc="land use blocked"),
            _f("recorded_on", "date", required=True),
            _f("description", "text"),
        ),
        "HA",
        imas="07.11, 08.10",
        doc="SHA: indirect evidence; CHA: direct evidence. Status history is kept.",
    )
)
_kind(
    Kind(
        "activities",
        "Activity",
        "MultiPolygon",
        (
            _f("type", "text", required=True, choices=ACTIVITY_TYPES),
            _f("hazard_id", "link", link="hazards"),
            _f("team_id", "link", link="teams"),
            _f("start_date", "date", required=True),
            _f("end_date", "date"),
            _f("status", "text", required=True, choices=ACTIVITY_STATUS),
            _f("depth_cm", "float", minimum=0, maximum=500, doc="clearance depth"),
            _f("qa_result", "text", choices=QA_RESULTS),
            _f("area_cancelled_m2", "float", minimum=0, doc="sum of its cancelled releases"),
            _f("area_reduced_m2", "float", minimum=0, doc="sum of its reduced releases"),
            _f("area_cleared_m2", "float", minimum=0, doc="sum of its cleared releases"),
        ),
        "AC",
        imas="07.11, 08.10, 08.20, 09.10",
        doc="Geometry: the worked polygon. Released land is in 'releases'.",
        children=("releases", "finds"),
    )
)
_kind(
    Kind(
        "releases",
        "Released land",
        "MultiPolygon",
        (
            _f("activity_id", "link", link="activities", required=True),
            _f("method", "text", required=True, choices=RELEASE_METHODS),
            _f("released_on", "date", required=True),
            _f("area_m2", "float", minimum=0, doc="computed from the geometry"),
        ),
        "RL",
        imas="07.11",
    )
)
_kind(
    Kind(
        "finds",
        "Device found",
        "Point",
        (
            _f("activity_id", "link", link="activities"),
            _f("hazard_id", "link", link="hazards"),
            _f("category", "text", required=True, choices=DEVICE_CATEGORIES),
            _f("model", "text", doc="e.g. PMN-2, OZM-72, TM-62M, 9N235"),
            _f("condition", "text", choices=DEVICE_CONDITIONS),
            _f("depth_cm", "float", minimum=0, maximum=500),
            _f("disposal", "text", choices=DISPOSALS),
            _f("found_on", "date", required=True),
            _f("quantity", "int", minimum=1),
        ),
        "FD",
        imas="09.10",
    )
)

# --- accidents, victims, risk education ---------------------------------------------------

_kind(
    Kind(
        "accidents",
        "Accident",
        "Point",
        (
            _f("occurred_on", "date", required=True),
            _f("activity", "text", choices=VICTIM_ACTIVITIES, doc="victims' activity at the time"),
            _f("device_category", "text", choices=DEVICE_CATEGORIES),
            _f("device_model", "text"),
            _f("hazard_id", "link", link="hazards"),
            _f("district_id", "link", link="districts"),
            _f("settlement_id", "link", link="settlements"),
            _f("description", "text"),
        ),
        "AD",
        imas="10.60",
        children=("victims",),
    )
)
_kind(
    Kind(
        "victims",
        "Victim",
        None,
        (
            _f("accident_id", "link", link="accidents", required=True),
            _f("outcome", "text", required=True, choices=OUTCOMES),
            _f("sex", "text", choices=SEXES),
            _f("age", "int", minimum=0, maximum=120),
            _f("group", "text", required=True, choices=VICTIM_GROUPS),
            _f("injuries", "text"),
            _f("assistance", "text"),
            _f("name", "text", personal=True),
            _f("contact", "text", personal=True),
        ),
        "VI",
        imas="10.60",
    )
)
_kind(
    Kind(
        "eore_sessions",
        "EORE session",
        "Point",
        (
            _f("held_on", "date", required=True),
            _f("settlement_id", "link", link="settlements"),
            _f("method", "text", required=True, choices=EORE_METHODS),
            _f("men", "int", minimum=0),
            _f("women", "int", minimum=0),
            _f("boys", "int", minimum=0),
            _f("girls", "int", minimum=0),
            _f("materials", "int", minimum=0, doc="brochures, posters... distributed"),
            _f("materials_type", "text"),
        ),
        "EO",
        imas="12.10",
    )
)

# --- handed-over minefield records ------------------------------------------------------

_kind(
    Kind(
        "minefield_records",
        "Minefield record",
        "Point",
        (
            _f("landmark", "text", doc="the landmark the reference point is tied to"),
            _f("bearing_type", "text", choices=BEARING_TYPES),
            _f("declination_deg", "float", minimum=-30, maximum=30, doc="magnetic minus grid"),
            _f("shape", "text", choices=RECORD_SHAPES, doc="polygon or mine-row line"),
            _f("mine_types", "text", doc="semicolon-separated models, e.g. PMN-2;TM-62M"),
            _f("mine_count", "int", minimum=0),
            _f("laid_on", "date"),
            _f("laid_by", "text"),
            _f("received_on", "date"),
            _f("source", "text"),
        ),
        "MR",
        doc="Geometry: the reference point. The traverse is in 'minefield_legs'.",
        children=("minefield_legs",),
    )
)
_kind(
    Kind(
        "minefield_legs",
        "Minefield record leg",
        None,
        (
            _f("record_id", "link", link="minefield_records", required=True),
            _f("seq", "int", required=True, minimum=1, doc="order of the leg in the traverse"),
            _f("bearing_deg", "float", required=True, minimum=0, maximum=360),
            _f("distance_m", "float", required=True, minimum=0),
            _f("label", "text", doc="name of the turning point reached"),
        ),
        "ML",
    )
)

#: Kinds in an order where every link points backwards (safe to insert in this order).
INSERT_ORDER: tuple[str, ...] = (
    "organisations",
    "region",
    "districts",
    "settlements",
    "teams",
    "assets",
    "front_line",
    "positions",
    "roads",
    "rivers",
    "battle_areas",
    "advance_axes",
    "hazards",
    "activities",
    "releases",
    "finds",
    "accidents",
    "victims",
    "eore_sessions",
    "minefield_records",
    "minefield_legs",
)
assert set(INSERT_ORDER) == set(KINDS), "INSERT_ORDER must list every kind"

#: The record kinds a user imports (``minemap import KIND``) under their plain names.
RECORD_KINDS: tuple[str, ...] = tuple(k for k in INSERT_ORDER if not KINDS[k].context)

#: The date field that places a record of each dated kind in time.
EVENT_DATES: dict[str, str] = {
    "hazards": "recorded_on",
    "activities": "start_date",
    "releases": "released_on",
    "finds": "found_on",
    "accidents": "occurred_on",
    "eore_sessions": "held_on",
    "minefield_records": "laid_on",
}
assert all(KINDS[k].field(f).type == "date" for k, f in EVENT_DATES.items())


#: Short names users type for kinds (``minemap import eore FILE``).
KIND_ALIASES: dict[str, str] = {"eore": "eore_sessions"}


def get_kind(name: str) -> Kind:
    """The kind called ``name`` (also accepts ``-`` for ``_``, any case, and the aliases)."""
    key = name.replace("-", "_").lower()
    key = KIND_ALIASES.get(key, key)
    try:
        return KINDS[key]
    except KeyError:
        from minemap.errors import ConfigError

        known = ", ".join(sorted(KINDS))
        msg = f"unknown record kind {name!r}; known kinds: {known}"
        raise ConfigError(msg) from None
