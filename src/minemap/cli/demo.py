"""``minemap demo``: the whole chain on a synthetic world, one step after another.

Each step is one call into the library, so the chain reads top to bottom:
generate the default (Karabakh-like) scenario, draw its overview map and
describe it, import its observed records into a GeoPackage store, build the
hazard map from the store and evaluate it against the scenario's hidden
truth, prioritise the hazards, schedule the fleet, forecast completion and
one what-if, and write the monthly report of the latest month. The demo ends
by printing the headline figures (capture at 10% of the area against the
heuristics, completion P50/P90, months saved by the what-if), the files
written and the command that serves the web map.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from minemap.progress import steps
from minemap.settings import get_settings

#: The what-ifs the demo asks side by side, from the plan's first month: a donor's
#: question ("ten more machines: how many months sooner?") beside ten more dog teams.
WHATIFS = ("machine=10", "dog=10")
#: Months the schedule looks ahead, and how far the forecast looks for completion.
SCHEDULE_MONTHS = 120
FORECAST_MONTHS = 600


@dataclass
class DemoContext:
    """What the steps share: the output folder and what earlier steps produced."""

    out: Path
    seed: int
    scenario: Path
    outputs: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    area_km2: float | None = None
    draws: int = 500
    schedule_seconds: float = 30.0
    headline: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    # filled by the steps
    plan: dict[str, Any] = field(default_factory=dict)

    @property
    def db(self) -> Path:
        return self.out / "minemap.gpkg"

    @property
    def map_dir(self) -> Path:
        return self.out / "map"

    @property
    def plan_dir(self) -> Path:
        return self.out / "plan"

    @property
    def serve_command(self) -> str:
        return f"minemap serve --db {self.db} --map {self.map_dir} --plan {self.plan_dir}"


def generate_scenario(ctx: DemoContext) -> None:
    from minemap.scenario import generate

    generate(ctx.scenario, preset="karabakh", seed=ctx.seed, area_km2=ctx.area_km2)
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


def import_records(ctx: DemoContext) -> None:
    """A fresh GeoPackage store with every observed layer of the scenario, linked."""
    from minemap.io.scenario import import_scenario
    from minemap.store import open_store

    # the demo's own store file: start empty on every run
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = ctx.db.with_name(ctx.db.name + suffix)
        if path.exists():
            path.unlink()
    with open_store(str(ctx.db)) as store:
        store.init(crs=get_settings().crs)
        import_scenario(store, ctx.scenario, user="demo")
    ctx.outputs["store"] = ctx.db


def build_map(ctx: DemoContext) -> None:
    from minemap.grid.layers import load_store
    from minemap.risk.build import BuildOptions, build_hazard_map

    result = build_hazard_map(load_store(str(ctx.db)), ctx.map_dir, BuildOptions(seed=ctx.seed))
    ctx.headline["region_km2"] = result.metrics.get("region_km2")
    ctx.headline["cv_roc_auc"] = result.metrics["cv"]["pooled"].get("roc_auc")
    ctx.outputs["hazard map"] = ctx.map_dir / "risk.tif"


def evaluate(ctx: DemoContext) -> None:
    """Capture of the map against the truth (read here only) and the heuristics."""
    from minemap.risk.evaluate import evaluate_map

    out = ctx.out / "evaluation"
    result = evaluate_map(
        ctx.map_dir / "risk.tif", ctx.scenario / "truth.gpkg", out, layers_dir=ctx.scenario
    )
    ten = result["versus_best_heuristic"]["capture_at_10pct"]
    ctx.headline["capture_at_10pct"] = {
        name: figures["capture_at_10pct"] for name, figures in result["orders"].items()
    }
    ctx.headline["best_heuristic"] = ten["best_heuristic"]
    ctx.headline["ratio_to_best_heuristic"] = ten["ratio"]
    ctx.outputs["capture curve"] = out / "capture.png"


def prioritise_hazards(ctx: DemoContext) -> None:
    """The plan starts the month after the latest record; hazards ranked and explained."""
    from minemap.plan.forecast import context_history
    from minemap.plan.inputs import add_months, load_context
    from minemap.plan.prioritise import prioritise_context, priority_scores
    from minemap.report.summary import Records, last_month
    from minemap.store import open_store

    with open_store(str(ctx.db)) as store:
        records = Records.from_store(store)
    month = last_month(records)
    if month is None:
        msg = f"{ctx.scenario}: the scenario holds no dated record to report on"
        raise click.ClickException(msg)
    start = add_months(dt.date.fromisoformat(f"{month}-01"), 1)
    context = load_context(str(ctx.db), ctx.map_dir, start=start)
    priorities = prioritise_context(context)
    ctx.plan_dir.mkdir(parents=True, exist_ok=True)
    priorities.table.to_csv(ctx.plan_dir / "priorities.csv", index=False)
    priorities.sensitivity.to_csv(ctx.plan_dir / "sensitivity.csv", index=False)
    ctx.plan.update(
        records=records,
        month=month,
        context=context,
        history=context_history(context),
        priorities=priorities,
        scores=priority_scores(priorities, context.hazards["id"].to_numpy()),
    )
    ctx.outputs["priorities"] = ctx.plan_dir / "priorities.csv"


def _instance(ctx: DemoContext, months: int) -> Any:
    from minemap.plan.forecast import context_instance

    return context_instance(ctx.plan["context"], months, ctx.plan["scores"], ctx.plan["history"])


def schedule_fleet(ctx: DemoContext) -> None:
    from minemap.plan.outputs import write_schedule
    from minemap.plan.schedule import make_schedule

    instance = _instance(ctx, SCHEDULE_MONTHS)
    schedule = make_schedule(instance, time_limit=ctx.schedule_seconds)
    summary = write_schedule(
        ctx.plan["context"].hazards, instance, schedule, ctx.plan["scores"], ctx.plan_dir
    )
    ctx.headline["schedule_gap"] = round(summary["gap"], 4)
    ctx.outputs["schedule"] = ctx.plan_dir / "schedule.csv"


def forecast_completion(ctx: DemoContext) -> None:
    from minemap.plan.forecast import bottleneck, run_forecast
    from minemap.plan.outputs import write_forecast

    forecast = run_forecast(
        _instance(ctx, FORECAST_MONTHS),
        ctx.plan["context"].hazards,
        history=ctx.plan["history"],
        priorities=ctx.plan["priorities"].table,
        draws=ctx.draws,
        seed=ctx.seed,
        horizon=FORECAST_MONTHS,
    )
    data = write_forecast(forecast, ctx.plan_dir)
    ctx.headline["completion_p50"] = data.get("p50")
    ctx.headline["completion_p90"] = data.get("p90")
    if data.get("p50"):  # with no completion in sight, the notes say why instead
        ctx.headline["bottleneck"] = bottleneck(data.get("finish_by_type", {}), data["start"])
    curve = data.get("monthly_released") or []
    if curve and data.get("area_m2"):
        ctx.headline["forecast_end"] = curve[-1]["month"]
        ctx.headline["share_released_by_end"] = round(
            curve[-1]["released_m2_p50"] / data["area_m2"], 4
        )
    ctx.outputs["forecast"] = ctx.plan_dir / "forecast.json"


def what_if(ctx: DemoContext) -> None:
    from minemap.plan.model import parse_change
    from minemap.plan.outputs import write_json
    from minemap.plan.whatif import Option, run_whatif

    context = ctx.plan["context"]
    texts = [f"{w}@{context.start:%Y-%m}" for w in WHATIFS]
    data = run_whatif(
        context,
        [Option(t, parse_change(t, context.catalogue)) for t in texts],
        history=ctx.plan["history"],
        benefit=ctx.plan["scores"],
        priorities=ctx.plan["priorities"].table,
        draws=ctx.draws,
        seed=ctx.seed,
        horizon=FORECAST_MONTHS,
    )
    write_json(ctx.plan_dir / "whatif.json", data)
    first = data["options"][0] if data.get("options") else {}
    ctx.headline.update(
        whatif=texts[0],
        whatif_p50=first.get("p50"),
        months_saved=first.get("months_saved"),
        casualties_averted=first.get("casualties_averted"),
        whatif_options=[
            {k: row.get(k) for k in ("option", "p50", "months_saved", "casualties_averted")}
            for row in data.get("options", [])
        ],
    )
    ctx.outputs["what-if"] = ctx.plan_dir / "whatif.json"


def monthly_report(ctx: DemoContext) -> None:
    from minemap.report.monthly import write_monthly

    month = ctx.plan["month"]
    files = write_monthly(
        ctx.plan["records"],
        month,
        ctx.out / f"report-{month}.pdf",
        map_dir=ctx.map_dir,
        plan_dir=ctx.plan_dir,
        dem_path=ctx.scenario / "dem.tif",
    )
    ctx.headline["report_month"] = month
    ctx.outputs["monthly report"] = files.pdf
    ctx.outputs["monthly report (HTML)"] = files.html


#: (label shown on the progress bar, step): run in this order
STEPS: list[tuple[str, Callable[[DemoContext], None]]] = [
    ("generating the scenario", generate_scenario),
    ("drawing the overview map", draw_overview),
    ("describing the scenario", describe_scenario),
    ("importing the records into the store", import_records),
    ("building the hazard map", build_map),
    ("evaluating the map against the truth", evaluate),
    ("prioritising hazards", prioritise_hazards),
    ("scheduling clearance", schedule_fleet),
    ("forecasting completion", forecast_completion),
    ("what-if: ten more machines, ten more dog teams", what_if),
    ("writing the monthly report", monthly_report),
]


def run(ctx: DemoContext) -> DemoContext:
    """Run :data:`STEPS` in order on ``ctx``, timing each; returns ``ctx``."""
    ctx.out.mkdir(parents=True, exist_ok=True)
    with steps(len(STEPS), "demo") as bar:
        for label, step in STEPS:
            bar.advance(label)
            start = time.perf_counter()
            step(ctx)
            ctx.seconds[label] = round(time.perf_counter() - start, 1)
    from minemap.plan.outputs import write_json

    write_json(ctx.out / "demo.json", {**ctx.headline, "seconds": ctx.seconds})
    return ctx


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{100 * float(value):5.1f}%"


def headline_lines(ctx: DemoContext) -> list[str]:
    """The figures the demo ends with (only those its steps produced)."""
    h = ctx.headline
    lines: list[str] = []
    capture = h.get("capture_at_10pct")
    if capture:
        lines.append("Quick detection: share of truly mined cells in the first 10% of the area")
        names = {
            "hazard_map": "minemap hazard map",
            "front_line": "nearest the front line first",
            "suspected_areas": "suspected areas first",
            "random": "random order",
        }
        for key, label in names.items():
            if key in capture:
                lines.append(f"  {label:<30} {_pct(capture[key])}")
        if h.get("ratio_to_best_heuristic") is not None:
            best = str(h["best_heuristic"]).replace("_", " ")
            lines.append(f"  = {h['ratio_to_best_heuristic']:.2f} x the best heuristic ({best})")
    if h.get("completion_p50"):
        p90 = h["completion_p90"] or "beyond the forecast"
        lines.append(f"Completion of clearance: P50 {h['completion_p50']}, P90 {p90}")
    elif "completion_p50" in h:
        share = h.get("share_released_by_end")
        lines.append(
            f"Completion of clearance: not by {h.get('forecast_end')} at the current pace"
            + ("" if share is None else f" ({100 * share:.0f}% of the area released by then, P50)")
        )
    if h.get("bottleneck"):
        lines.append(f"  {h['bottleneck']}")
    for row in h.get("whatif_options", []):
        saved, averted = row.get("months_saved"), row.get("casualties_averted")
        lines.append(
            f"What-if {row['option']}: P50 {row.get('p50') or 'beyond the forecast'}, "
            + ("months saved n/a" if saved is None else f"{saved:.0f} months saved")
            + ("" if averted is None else f", {averted:.1f} casualties averted")
        )
    return lines


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Folder to write into.",
)
@click.option(
    "--area-km2",
    type=click.FloatRange(min=1.0),
    default=None,
    help="Area of the generated world (default: the preset's).",
)
@click.option(
    "--draws",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Monte Carlo draws of the forecast and the what-if.",
)
def demo(out_dir: Path, area_km2: float | None, draws: int) -> None:
    """Run the demo chain on a synthetic world and write everything to OUT."""
    ctx = DemoContext(
        out=out_dir,
        seed=get_settings().seed,
        scenario=out_dir / "scenario",
        area_km2=area_km2,
        draws=draws,
    )
    run(ctx)
    for note in ctx.notes:
        click.echo(note)
        click.echo("")
    lines = headline_lines(ctx)
    if lines:
        click.echo("\n".join(lines))
        click.echo("")
    click.echo(f"Files written ({sum(ctx.seconds.values()):.0f} s):")
    for name, path in ctx.outputs.items():
        click.echo(f"{name}: {path}")
    if ctx.db.exists() and ctx.map_dir.exists():
        click.echo("")
        click.echo("Serve the web map:")
        click.echo(f"  {ctx.serve_command}")
