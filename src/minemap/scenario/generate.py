"""The generator's sequence: terrain, places, conflict, truth, observations, files."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np

from minemap.plan.catalogue import load_catalogue
from minemap.progress import Steps, steps
from minemap.scenario.conflict import make_battles, make_line, make_positions
from minemap.scenario.frame import Frame, make_frame, stream
from minemap.scenario.landcover import make_landcover
from minemap.scenario.mining import Truth, bridges_of, lay_mines
from minemap.scenario.names import NameMaker
from minemap.scenario.people import link_accident_hazards, make_eore, simulate_accidents
from minemap.scenario.places import (
    Router,
    add_tracks_to,
    make_districts,
    make_roads,
    make_settlements,
)
from minemap.scenario.presets import Preset, get_preset
from minemap.scenario.records import make_records
from minemap.scenario.release import hazard_terrain, release_land
from minemap.scenario.survey import Observations, record_hazards
from minemap.scenario.terrain import make_terrain, slope_degrees
from minemap.scenario.world import World
from minemap.scenario.writer import check_writable, write_world

log = logging.getLogger(__name__)


def build_world(preset: Preset, seed: int, frame: Frame, bar: Steps | None = None) -> World:
    """Generate a world in memory (nothing is written)."""
    end = dt.date.fromisoformat(preset.scale.scenario_end)
    area_scale = frame.area_km2 / preset.scale.reference_area_km2
    bar = bar or Steps(None, None)
    bar.advance("terrain and rivers")
    terrain = make_terrain(
        frame,
        preset.terrain,
        preset.conflict.meander_m,
        stream(seed, "terrain"),
        stream(seed, "hydrology"),
    )
    line = make_line(frame, terrain, stream(seed, "line"))
    bar.advance("settlements and districts")
    names = NameMaker(stream(seed, "names"))
    rng = stream(seed, "places")
    settlements = make_settlements(
        frame, terrain, line.x_at, preset.places, end.year, rng=rng, names=names
    )
    districts = make_districts(frame, preset.places, rng, names)
    settlements.district = districts.locate(settlements.x, settlements.y)
    bar.advance("roads")
    router = Router(terrain, terrain.river_order, frame.bounds)
    roads = make_roads(frame, router, settlements, preset.places, stream(seed, "roads"))
    bar.advance("positions and the 2020 war")
    rng = stream(seed, "conflict")
    positions = make_positions(frame, line, preset.conflict, rng)
    roads = add_tracks_to(router, roads, positions.x, positions.y)

    def nearest_name(x: float, y: float) -> str:
        i = int(np.argmin((settlements.x - x) ** 2 + (settlements.y - y) ** 2))
        return settlements.name[i]

    battles = make_battles(
        frame, line, settlements, preset.conflict, rng, nearest_name=nearest_name
    )
    bar.advance("land cover")
    landcover = make_landcover(
        frame, terrain, settlements, preset.terrain, stream(seed, "landcover")
    )
    bar.advance("mines (the truth)")
    truth = lay_mines(
        frame,
        line,
        positions,
        roads,
        bridges_of(roads, terrain),
        settlements=settlements,
        battles=battles,
        terrain=terrain,
        params=preset.mining,
        reference_area_km2=preset.scale.reference_area_km2,
        rng=stream(seed, "mining"),
    )
    bar.advance("minefield records")
    records = make_records(
        frame, truth, settlements, preset.operators, area_scale, rng=stream(seed, "records")
    )
    bar.advance("hazards (NTS)")
    hazards = record_hazards(
        frame,
        line,
        positions,
        battles,
        roads,
        settlements=settlements,
        districts=districts,
        truth=truth,
        landcover=landcover,
        fine=terrain.fine,
        params=preset.survey,
        rng=stream(seed, "hazards"),
    )
    bar.advance("survey, clearance and the teams")
    catalogue = load_catalogue()
    terrain_bands = hazard_terrain(
        hazards, slope_degrees(terrain.dem, frame.cell), terrain.fine, catalogue
    )
    observations, operators = release_land(
        frame,
        hazards,
        truth,
        terrain=terrain_bands,
        catalogue=catalogue,
        settlements=settlements,
        survey=preset.survey,
        operators=preset.operators,
        reference_area_km2=preset.scale.reference_area_km2,
        end=end,
        rng=stream(seed, "survey"),
        rng_teams=stream(seed, "operators"),
    )
    bar.advance("accidents and victims")
    rng = stream(seed, "accidents")
    accidents, victims = simulate_accidents(
        frame,
        truth,
        observations,
        settlements,
        roads,
        positions=positions,
        battles=battles,
        landcover=landcover,
        fine=terrain.fine,
        district_of=districts.locate,
        params=preset.people,
        area_scale=area_scale,
        end=end,
        rng=rng,
    )
    _drop_finds_of_detonated(observations, truth)
    link_accident_hazards(accidents, observations, settlements, districts.locate, end, rng=rng)
    bar.advance("risk education")
    eore = make_eore(
        settlements, preset.people, area_scale, end, stream(seed, "eore"), bounds=frame.bounds
    )
    return World(
        preset=preset,
        seed=seed,
        frame=frame,
        end=end,
        terrain=terrain,
        landcover=landcover,
        line=line,
        settlements=settlements,
        districts=districts,
        roads=roads,
        positions=positions,
        battles=battles,
        truth=truth,
        operators=operators,
        records=records,
        observations=observations,
        accidents=accidents,
        victims=victims,
        eore=eore,
        catalogue_sha256=hashlib.sha256(catalogue.path.read_bytes()).hexdigest(),
    )


def _drop_finds_of_detonated(observations: Observations, truth: Truth) -> None:
    """A device that went off in an accident cannot be found later by survey or clearance."""
    table = observations.finds.frame
    devices = table["device"].to_numpy(dtype=np.int64)
    gone = truth.detonated_on[devices]
    drop = (gone > 0) & (gone < table["day"].to_numpy())
    if drop.any():
        truth.found_on[devices[drop]] = 0
        observations.finds.keep(~drop)


def generate(
    out_dir: str | Path,
    *,
    preset: str | Preset = "karabakh",
    seed: int = 42,
    area_km2: float | None = None,
    cell: float | None = None,
) -> dict[str, Any]:
    """Generate a scenario into ``out_dir``; returns the ``scenario.json`` content.

    Same preset, seed and minemap version give identical files; raises
    :class:`~minemap.errors.ConfigError` for an unknown preset, a bad area or
    cell, or a folder that cannot be written (before any work is done).
    """
    chosen = get_preset(preset) if isinstance(preset, str) else preset
    frame = make_frame(chosen, area_km2, cell)
    out = Path(out_dir)
    check_writable(out)
    log.info("generating %s seed %d over %.0f km² into %s", chosen.name, seed, frame.area_km2, out)
    with steps(12, "scenario") as bar:
        world = build_world(chosen, seed, frame, bar)
        bar.advance("writing files")
        return write_world(world, out)
