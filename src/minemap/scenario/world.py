"""Everything one generated world holds, before it is written out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from minemap.scenario.conflict import Battles, Line, Positions
from minemap.scenario.frame import Frame
from minemap.scenario.mining import Truth
from minemap.scenario.operators import Operators
from minemap.scenario.people import Accident, EoreSession, Victim
from minemap.scenario.places import Districts, Roads, Settlements
from minemap.scenario.presets import Preset
from minemap.scenario.records import MinefieldRecord
from minemap.scenario.survey import Observations
from minemap.scenario.terrain import Terrain


@dataclass
class World:
    preset: Preset
    seed: int
    frame: Frame
    end: dt.date
    terrain: Terrain
    landcover: np.ndarray
    line: Line
    settlements: Settlements
    districts: Districts
    roads: Roads
    positions: Positions
    battles: Battles
    truth: Truth
    operators: Operators
    records: list[MinefieldRecord]
    observations: Observations
    accidents: list[Accident]
    victims: list[Victim]
    eore: list[EoreSession]
    catalogue_sha256: str = ""  # the asset catalogue the history's teams worked to
