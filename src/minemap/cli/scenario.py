"""``minemap scenario``: generate and describe synthetic worlds with a hidden truth."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from minemap.cli.options import out_dir_option, seed_option
from minemap.settings import get_settings


@click.group("scenario")
def scenario() -> None:
    """Synthetic Karabakh-like worlds: observations for the authority, truth kept apart."""


@scenario.command("generate")
@click.option(
    "--preset",
    default="karabakh",
    show_default=True,
    help="Parameter set of the world (see minemap.scenario.presets).",
)
@seed_option
@out_dir_option
@click.option(
    "--area-km2",
    type=float,
    default=None,
    help="Area of the rectangle in km² (default 2,400: about 60 km by 40 km).",
)
@click.option(
    "--cell",
    "cell",
    type=float,
    default=None,
    help="Cell of dem.tif and landcover.tif in metres (default 30).",
)
def generate_command(
    preset: str, seed: int | None, out_dir: Path, area_km2: float | None, cell: float | None
) -> None:
    """Generate a scenario into OUT: observed.gpkg, truth.gpkg, dem.tif, landcover.tif."""
    from minemap.scenario import generate

    chosen_seed = get_settings().seed if seed is None else seed
    meta = generate(out_dir, preset=preset, seed=chosen_seed, area_km2=area_km2, cell=cell)
    observed = meta["counts"]["observed"]
    truth = meta["counts"]["truth"]
    click.echo(
        f"Wrote {out_dir}: preset {meta['preset']}, seed {meta['seed']}, "
        f"{meta['area_km2']:g} km² at {meta['cell_m']:g} m; {observed['hazards']} hazards, "
        f"{observed['activities']} activities, {observed['finds']} finds, "
        f"{observed['accidents']} accidents; truth: {truth['mines']} devices in "
        f"{truth['minefields']} minefields (truth.gpkg only)"
    )


@scenario.command("describe")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def describe_command(folder: Path, as_json: bool) -> None:
    """Print what the scenario in FOLDER holds: devices, hazards, release, victims."""
    from minemap.scenario import describe

    description = describe(folder)
    if as_json:
        data = dataclasses.asdict(description)
        data["meta"] = {k: v for k, v in data["meta"].items() if k != "parameters"}
        data["m2_per_staff_month"] = round(description.m2_per_staff_month, 1)
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        click.echo(description.text())
