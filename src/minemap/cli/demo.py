"""``minemap demo``: the whole chain on a synthetic world, one step after another.

Each step is one call into the library, so the chain reads top to bottom;
later steps (import, hazard map, plan, reports) are added to :data:`STEPS`
by the parts that own them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import click

from minemap.progress import steps
from minemap.settings import get_settings


@dataclass
class DemoContext:
    """What the steps share: the output folder and what earlier steps produced."""

    out: Path
    seed: int
    scenario: Path
    outputs: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def generate_scenario(ctx: DemoContext) -> None:
    from minemap.scenario import generate

    generate(ctx.scenario, preset="karabakh", seed=ctx.seed)
    ctx.outputs["scenario"] = ctx.scenario


def draw_overview(ctx: DemoContext) -> None:
    from minemap.report.figures import overview_map

    png = overview_map(
        ctx.scenario,
        ctx.out / "overview.png",
        title=f"Synthetic Karabakh-like scenario (seed {ctx.seed}): what the authority holds",
    )
    ctx.outputs["overview map"] = png


def describe_scenario(ctx: DemoContext) -> None:
    from minemap.scenario import describe

    ctx.notes.append(describe(ctx.scenario).text())


#: (label shown on the progress bar, step): run in this order
STEPS: list[tuple[str, Callable[[DemoContext], None]]] = [
    ("generating the scenario", generate_scenario),
    ("drawing the overview map", draw_overview),
    ("describing the scenario", describe_scenario),
]


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Folder to write into.",
)
def demo(out_dir: Path) -> None:
    """Run the demo chain on a synthetic world and write everything to OUT."""
    ctx = DemoContext(out=out_dir, seed=get_settings().seed, scenario=out_dir / "scenario")
    with steps(len(STEPS), "demo") as bar:
        for label, step in STEPS:
            bar.advance(label)
            step(ctx)
    for note in ctx.notes:
        click.echo(note)
        click.echo("")
    for name, path in ctx.outputs.items():
        click.echo(f"{name}: {path}")
