"""The asset catalogue: productivity, capability limits, seasons and costs by asset type.

The catalogue is a TOML file (the shipped default is
``minemap/data/assets_catalogue.toml``; the setting ``MINEMAP_CATALOGUE``
points at a user-edited copy). :func:`load_catalogue` reads and validates it:
an unknown key, a negative figure or a limit that names no class is refused
with one line naming the file and the key.

Productivity of an asset type on a hazard is the base figure (m² per working
day, flat open ground, AP mines, a normal month) times a factor for the
hazard's terrain band, land cover and contamination, times the month's
seasonal factor. A zero factor means the type cannot work there.

Land release follows IMAS 07.11: survey types (``role = "survey"``) do the
non-technical survey that cancels land; clearance types do technical survey
(which reduces land, at ``ts_speedup`` times their clearance rate because it
samples lanes and boxes instead of covering every square metre) and clear
what stays confirmed. How much is cancelled, reduced and cleared comes from
the store's releases and the hazard map (:mod:`minemap.plan.release`), not
from the catalogue.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from minemap.errors import ConfigError

Role = Literal["clearance", "survey"]

TYPE_KEYS: dict[str, type | tuple[type, ...]] = {
    "title": str,
    "role": str,
    "per_person": bool,
    "team_size": int,
    "productivity_m2_day": (int, float),
    "source": str,
    "terrain": dict,
    "cover": dict,
    "contamination": dict,
    "months": list,
    "not_on": list,
    "working_days_per_month": (int, float),
    "slot_days": (int, float),
    "release_share": (int, float),
    "ts_speedup": (int, float),
    "productivity_cv": (int, float),
    "stoppage_share": (int, float),
    "cost_buy": (int, float),
    "cost_run_day": (int, float),
    "cost_source": str,
    "note": str,
}
REQUIRED_TYPE_KEYS = ("role", "productivity_m2_day", "terrain", "cover", "contamination", "months")
TOP_KEYS = ("classes", "calibration", "types")
CLASS_KEYS = ("terrain", "terrain_slope_deg", "cover", "contamination")


@dataclass(frozen=True)
class AssetType:
    """One kind of asset and what it can do."""

    key: str
    title: str
    role: Role
    per_person: bool
    team_size: int
    productivity_m2_day: float
    source: str
    terrain: dict[str, float]
    cover: dict[str, float]
    contamination: dict[str, float]
    months: tuple[float, ...]
    not_on: tuple[str, ...]
    working_days_per_month: float
    slot_days: float
    release_share: float
    productivity_cv: float
    stoppage_share: float
    cost_buy: float
    cost_run_day: float
    cost_source: str
    ts_speedup: float = 0.0

    def factor(self, terrain: str, cover: str, contamination: str) -> float:
        """Multiplier of the base productivity on ground of these classes (0: cannot work)."""
        return (
            self.terrain.get(terrain, 0.0)
            * self.cover.get(cover, 0.0)
            * self.contamination.get(contamination, 0.0)
        )

    def capable(self, terrain: str, cover: str, contamination: str) -> bool:
        return self.factor(terrain, cover, contamination) > 0.0

    def base_rate(self, deminers: float | None = None) -> float:
        """m² per working day of one asset on reference ground (a team for per-person types)."""
        if self.per_person:
            people = deminers if deminers is not None and deminers > 0 else self.team_size
            return self.productivity_m2_day * float(people)
        return self.productivity_m2_day

    def survey_rate_factor(self) -> float:
        """Share of the area a survey type covers that its survey settles (1 for clearance)."""
        return self.release_share if self.role == "survey" else 1.0

    def days_in_month(self, month: int) -> float:
        """Effective working days in calendar month ``month`` (1-12), season included."""
        return self.working_days_per_month * self.months[month - 1]


@dataclass(frozen=True)
class Catalogue:
    """Every asset type, and the class vocabularies their factors use."""

    path: Path
    types: dict[str, AssetType]
    terrain_classes: tuple[str, ...]
    terrain_slope_deg: tuple[float, ...]
    cover_classes: tuple[str, ...]
    contamination_classes: tuple[str, ...]

    def __getitem__(self, key: str) -> AssetType:
        try:
            return self.types[key]
        except KeyError:
            known = ", ".join(sorted(self.types))
            msg = f"{self.path}: asset type {key!r} is not in the catalogue (known: {known})"
            raise ConfigError(msg) from None

    def __contains__(self, key: object) -> bool:
        return key in self.types

    def terrain_class(self, slope_deg: float) -> str:
        """The terrain band of a mean slope in degrees."""
        for bound, name in zip(self.terrain_slope_deg, self.terrain_classes, strict=False):
            if slope_deg < bound:
                return name
        return self.terrain_classes[-1]

    def check_types(self, used: dict[str, str]) -> None:
        """Refuse asset types that the catalogue lacks; ``used`` maps an asset's ref to its type."""
        for ref, key in used.items():
            if key not in self.types:
                known = ", ".join(sorted(self.types))
                msg = (
                    f"{self.path}: asset {ref} has type {key!r}, which is not in the catalogue "
                    f"(known: {known}); add a [types.{key}] table"
                )
                raise ConfigError(msg)


def _err(path: Path, key: str, reason: str) -> ConfigError:
    return ConfigError(f"{path}: key '{key}': {reason}")


def _number(path: Path, key: str, value: Any, *, upper: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise _err(path, key, f"must be a number, got {value!r}")
    if value < 0:
        raise _err(path, key, f"must not be negative, got {value}")
    if upper is not None and value > upper:
        raise _err(path, key, f"must be at most {upper}, got {value}")
    return float(value)


def _factors(path: Path, key: str, table: Any, classes: tuple[str, ...]) -> dict[str, float]:
    if not isinstance(table, dict):
        raise _err(path, key, "must be a table of class = factor")
    out: dict[str, float] = {}
    for name, value in table.items():
        if name not in classes:
            raise _err(path, f"{key}.{name}", f"unknown class (known: {', '.join(classes)})")
        out[name] = _number(path, f"{key}.{name}", value)
    missing = [c for c in classes if c not in out]
    if missing:
        raise _err(path, key, f"no factor for {', '.join(missing)}")
    return out


def _strings(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _err(path, key, "must be a list of names")
    return tuple(value)


def _parse_type(path: Path, key: str, table: Any, classes: dict[str, tuple[str, ...]]) -> AssetType:
    prefix = f"types.{key}"
    if not isinstance(table, dict):
        raise _err(path, prefix, "must be a table")
    for name, value in table.items():
        expected = TYPE_KEYS.get(name)
        if expected is None:
            raise _err(path, f"{prefix}.{name}", "unknown key")
        if name not in ("productivity_m2_day",) and not isinstance(value, expected):
            raise _err(path, f"{prefix}.{name}", f"has the wrong type ({type(value).__name__})")
    for name in REQUIRED_TYPE_KEYS:
        if name not in table:
            raise _err(path, f"{prefix}.{name}", "is missing")
    role = table["role"]
    if role not in ("clearance", "survey"):
        raise _err(path, f"{prefix}.role", f"must be 'clearance' or 'survey', got {role!r}")
    productivity = _number(path, f"{prefix}.productivity_m2_day", table["productivity_m2_day"])
    if productivity == 0:
        raise _err(path, f"{prefix}.productivity_m2_day", "must be positive")
    terrain = _factors(path, f"{prefix}.terrain", table["terrain"], classes["terrain"])
    cover = _factors(path, f"{prefix}.cover", table["cover"], classes["cover"])
    contamination = _factors(
        path, f"{prefix}.contamination", table["contamination"], classes["contamination"]
    )
    months_raw = table["months"]
    if len(months_raw) != 12:
        raise _err(
            path, f"{prefix}.months", f"needs 12 factors (January..December), got {len(months_raw)}"
        )
    months = tuple(
        _number(path, f"{prefix}.months[{i + 1}]", v, upper=2.0) for i, v in enumerate(months_raw)
    )
    not_on = _strings(path, f"{prefix}.not_on", table.get("not_on", []))
    every_class = classes["terrain"] + classes["cover"] + classes["contamination"]
    for name in not_on:
        if name not in every_class:
            raise _err(
                path, f"{prefix}.not_on", f"{name!r} names no terrain, cover or contamination"
            )
        # a limit in words must agree with the factors, so the two never disagree silently
        table_of = terrain if name in terrain else cover if name in cover else contamination
        if table_of[name] != 0:
            raise _err(
                path,
                f"{prefix}.not_on",
                f"lists {name!r} but its factor is {table_of[name]}, not 0",
            )
    team_size = int(table.get("team_size", 1))
    if team_size < 1:
        raise _err(path, f"{prefix}.team_size", "must be at least 1")
    release_share = _number(
        path, f"{prefix}.release_share", table.get("release_share", 1.0), upper=1.0
    )
    if role == "clearance" and release_share != 1.0:
        raise _err(
            path, f"{prefix}.release_share", "a clearance type releases all it works: use 1.0"
        )
    if role == "survey" and release_share == 0:
        raise _err(path, f"{prefix}.release_share", "a survey type must settle some land (> 0)")
    ts_speedup = _number(path, f"{prefix}.ts_speedup", table.get("ts_speedup", 0.0), upper=100.0)
    if role == "survey" and ts_speedup != 0:
        raise _err(
            path,
            f"{prefix}.ts_speedup",
            "technical survey is done by clearance types; a survey type cannot have one",
        )
    if 0 < ts_speedup < 1:
        raise _err(
            path, f"{prefix}.ts_speedup", "technical survey must be faster than clearance (>= 1)"
        )
    days = _number(
        path, f"{prefix}.working_days_per_month", table.get("working_days_per_month", 20), upper=31
    )
    slot = _number(path, f"{prefix}.slot_days", table.get("slot_days", 5), upper=31)
    if slot == 0 or days == 0:
        raise _err(path, f"{prefix}.slot_days", "working days and slot days must be positive")
    return AssetType(
        key=key,
        title=str(table.get("title", key)),
        role=role,
        per_person=bool(table.get("per_person", False)),
        team_size=team_size,
        productivity_m2_day=productivity,
        source=str(table.get("source", "")),
        terrain=terrain,
        cover=cover,
        contamination=contamination,
        months=months,
        not_on=not_on,
        working_days_per_month=days,
        slot_days=min(slot, days),
        release_share=release_share,
        productivity_cv=_number(
            path, f"{prefix}.productivity_cv", table.get("productivity_cv", 0.25), upper=3.0
        ),
        stoppage_share=_number(
            path, f"{prefix}.stoppage_share", table.get("stoppage_share", 0.05), upper=0.95
        ),
        cost_buy=_number(path, f"{prefix}.cost_buy", table.get("cost_buy", 0.0)),
        cost_run_day=_number(path, f"{prefix}.cost_run_day", table.get("cost_run_day", 0.0)),
        cost_source=str(table.get("cost_source", "")),
        ts_speedup=ts_speedup,
    )


def parse_catalogue(data: dict[str, Any], path: Path) -> Catalogue:
    """Validate the parsed TOML ``data`` of the catalogue at ``path``."""
    for name in data:
        if name not in TOP_KEYS:
            raise _err(path, name, f"unknown key (known: {', '.join(TOP_KEYS)})")
    raw_classes = data.get("classes", {})
    for name in raw_classes:
        if name not in CLASS_KEYS:
            raise _err(path, f"classes.{name}", "unknown key")
    classes = {
        "terrain": _strings(
            path, "classes.terrain", raw_classes.get("terrain", ["flat", "hilly", "steep"])
        ),
        "cover": _strings(
            path, "classes.cover", raw_classes.get("cover", ["open", "forest", "built"])
        ),
        "contamination": _strings(
            path,
            "classes.contamination",
            raw_classes.get("contamination", ["AP", "AT", "UXO", "CMR", "IED", "mixed"]),
        ),
    }
    slopes_raw = raw_classes.get("terrain_slope_deg", [5.0, 15.0])
    if not isinstance(slopes_raw, list):
        raise _err(path, "classes.terrain_slope_deg", "must be a list of degrees")
    slopes = tuple(_number(path, "classes.terrain_slope_deg", v, upper=90) for v in slopes_raw)
    if len(slopes) != len(classes["terrain"]) - 1 or list(slopes) != sorted(slopes):
        raise _err(
            path,
            "classes.terrain_slope_deg",
            "needs one increasing bound between each pair of terrain classes",
        )
    types_raw = data.get("types")
    if not isinstance(types_raw, dict) or not types_raw:
        raise _err(path, "types", "the catalogue lists no asset types")
    types = {key: _parse_type(path, key, table, classes) for key, table in types_raw.items()}
    return Catalogue(
        path=path,
        types=types,
        terrain_classes=classes["terrain"],
        terrain_slope_deg=slopes,
        cover_classes=classes["cover"],
        contamination_classes=classes["contamination"],
    )


def load_catalogue(path: Path | str | None = None) -> Catalogue:
    """Read and validate the catalogue (default: the ``catalogue`` setting)."""
    if path is None:
        from minemap.settings import get_settings

        path = get_settings().catalogue
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"{path}: asset catalogue not found"
        raise ConfigError(msg) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"{path}: not valid TOML ({exc})"
        raise ConfigError(msg) from None
    return parse_catalogue(data, path)
