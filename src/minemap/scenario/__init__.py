"""The synthetic world generator: a Karabakh-like region with a hidden truth.

``generate(out_dir, preset="karabakh", seed=42)`` writes a scenario folder
(``observed.gpkg``, ``truth.gpkg``, ``dem.tif``, ``landcover.tif``,
``scenario.json``); ``describe(out_dir)`` summarises one. Presets and their
documented parameters are in :mod:`minemap.scenario.presets`; the stages are
one module each (``terrain``, ``places``, ``conflict``, ``mining``,
``survey``, ``people``, ``records``, ``operators``, ``landcover``) and
``writer`` holds the file contract.
"""

from minemap.scenario.describe import Description, describe
from minemap.scenario.generate import build_world, generate
from minemap.scenario.presets import PRESETS, Preset, get_preset, parameter_table

__all__ = [
    "PRESETS",
    "Description",
    "Preset",
    "build_world",
    "describe",
    "generate",
    "get_preset",
    "parameter_table",
]
