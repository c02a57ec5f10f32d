"""Who does the work: organisations, their teams and assets.

An ANAMA-like national agency, the Ministry of Defence's engineers, an
international and a national NGO, commercial companies and a UN support
project. Team numbers scale with the area; manual teams count their staff
by sex, and a share of them include women deminers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from minemap.scenario.frame import pick
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


def make_operators(
    area_km2: float,
    settlements: Settlements,
    release_mix: tuple[tuple[str, float], ...],
    params: OperatorsParams,
    rng: np.random.Generator,
) -> Operators:
    org_name = [o[0] for o in ORGANISATIONS]
    org_type = [o[1] for o in ORGANISATIONS]
    org_country = [o[2] for o in ORGANISATIONS]
    short = [o[3] for o in ORGANISATIONS]
    inhabited = np.flatnonzero(~settlements.west & (settlements.population > 0))
    if inhabited.size == 0:
        inhabited = np.arange(len(settlements))
    type_weight = dict(release_mix)
    team_name: list[str] = []
    team_type: list[str] = []
    team_org: list[int] = []
    male: list[int] = []
    female: list[int] = []
    base: list[int] = []
    numbering: dict[tuple[int, str], int] = {}
    for ttype, per_1000 in params.teams_per_1000_km2:
        n = max(1, round(per_1000 * area_km2 / 1000.0))
        orgs = [i for i, t in enumerate(org_type) if t in _FIELDS[ttype]]
        w = np.array([type_weight.get(org_type[i], 1_000.0) for i in orgs])
        # the release mix is per organisation type: share it among that type's organisations
        per_type = np.array([sum(1 for j in orgs if org_type[j] == org_type[i]) for i in orgs])
        w = w / per_type
        for _ in range(n):
            o = orgs[int(rng.choice(len(orgs), p=w / w.sum()))]
            k = numbering.get((o, ttype), 0) + 1
            numbering[(o, ttype)] = k
            team_name.append(f"{short[o]} {_LABEL[ttype]} {k:02d}")
            team_type.append(ttype)
            team_org.append(o)
            staff = int(rng.integers(_STAFF[ttype][0], _STAFF[ttype][1] + 1))
            women = 0
            if ttype in ("manual", "nts") and rng.random() < params.teams_with_women_share:
                women = int(rng.integers(1, 4))
            male.append(max(staff - women, 1))
            female.append(women)
            base.append(int(rng.choice(inhabited)))
    asset_name: list[str] = []
    asset_type: list[str] = []
    asset_team: list[int] = []
    asset_model: list[str] = []
    deminers: list[int | None] = []
    status: list[str] = []
    commissioned: list[dt.date] = []
    productivity: list[float | None] = []
    for t, ttype in enumerate(team_type):
        n_assets = 2 if ttype == "drone" and rng.random() < 0.4 else 1
        for j in range(n_assets):
            models = _MODELS[ttype]
            model = models[int(rng.integers(len(models)))]
            asset_name.append(f"{team_name[t]}" + (f" / {j + 1}" if n_assets > 1 else ""))
            asset_type.append(ttype)
            asset_team.append(t)
            asset_model.append(model)
            deminers.append(male[t] + female[t] if ttype == "manual" else None)
            status.append(
                str(pick(rng, (("active", 0.9), ("maintenance", 0.08), ("retired", 0.02)), 1)[0])
            )
            commissioned.append(
                dt.date(2018, 1, 1) + dt.timedelta(days=int(rng.integers(0, 7 * 365)))
            )
            # most use the catalogue figure; a few machines carry a measured one
            productivity.append(
                float(round(rng.uniform(6_000, 12_000), -2))
                if ttype == "machine" and rng.random() < 0.3
                else None
            )
    return Operators(
        org_name,
        org_type,
        org_country,
        team_name,
        team_type,
        team_org,
        male,
        female,
        base,
        asset_name,
        asset_type,
        asset_team,
        asset_model,
        deminers,
        status,
        commissioned,
        productivity,
    )
