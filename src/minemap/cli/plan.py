"""``minemap plan``: priorities, survey targets, schedule, forecast, what-if and simulation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from minemap.cli.options import db_option, map_option, out_dir_option, seed_option

start_option = click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m", "%Y-%m-%d"]),
    default=None,
    help="First month of the plan, YYYY-MM (default: this month).",
)
catalogue_option = click.option(
    "--catalogue",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Asset catalogue TOML (default: the MINEMAP_CATALOGUE setting, else the shipped one).",
)
weights_option = click.option(
    "--weights",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Priority weights TOML (default: the shipped priority_weights.toml).",
)


def _context(db_url: str, map_dir: Path, start: dt.datetime | None, catalogue: Path | None) -> Any:
    from minemap.plan.inputs import load_context

    return load_context(
        db_url, map_dir, start=start.date() if start else None, catalogue_path=catalogue
    )


def _seed(seed: int | None) -> int:
    from minemap.settings import get_settings

    return get_settings().seed if seed is None else seed


@click.group("plan")
def plan() -> None:
    """Land-release planning: where first, with whom, when done, what to buy."""


@plan.command("prioritise")
@db_option
@map_option
@out_dir_option
@weights_option
@start_option
@catalogue_option
def prioritise_cmd(
    *,
    db_url: str,
    map_dir: Path,
    out_dir: Path,
    weights: Path | None,
    start: dt.datetime | None,
    catalogue: Path | None,
) -> None:
    """Score every open hazard, explain each score, and report rank sensitivity."""
    from minemap.plan.prioritise import prioritise_context

    ctx = _context(db_url, map_dir, start, catalogue)
    pr = prioritise_context(ctx, weights)
    out_dir.mkdir(parents=True, exist_ok=True)
    pr.table.to_csv(out_dir / "priorities.csv", index=False)
    pr.sensitivity.to_csv(out_dir / "sensitivity.csv", index=False)
    click.echo(f"{len(pr.table)} hazards ranked -> {out_dir / 'priorities.csv'}")
    for row in pr.table.head(5).itertuples(index=False):
        click.echo(f"  {row.rank:>4}  {row.hazard_ref}  {row.score:.3f}  {row.explanation}")
    worst = pr.sensitivity.sort_values("spearman").head(1)
    if len(worst):
        w = worst.iloc[0]
        click.echo(
            f"most sensitive weight: {w['term']} {w['change']} "
            f"(rank correlation {w['spearman']:.3f})"
        )


@plan.command("survey")
@db_option
@map_option
@out_dir_option
@click.option(
    "--team-type", default="nts", show_default=True, help="Survey asset type of the catalogue."
)
@click.option(
    "--goal",
    type=click.Choice(["both", "confirm", "cancel"]),
    default="both",
    show_default=True,
    help="Value mined area confirmed, land cancelled, or both.",
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Survey results after this date update the map (default: the map's date).",
)
@click.option("--top", type=click.IntRange(min=1), default=50, show_default=True)
@start_option
@catalogue_option
def survey_cmd(
    *,
    db_url: str,
    map_dir: Path,
    out_dir: Path,
    team_type: str,
    goal: str,
    since: dt.datetime | None,
    top: int,
    start: dt.datetime | None,
    catalogue: Path | None,
) -> None:
    """Next areas for survey teams, per team-day, updated around new results."""
    from minemap.plan.survey import survey_targets

    ctx = _context(db_url, map_dir, start, catalogue)
    result = survey_targets(
        ctx,
        db_url=db_url,
        map_dir=map_dir,
        team_type=team_type,
        goal=goal,
        since=since.date() if since else None,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    result.to_csv(out_dir / "survey_targets.csv", index=False)
    click.echo(f"{len(result)} candidate areas -> {out_dir / 'survey_targets.csv'}")
    for row in result.head(min(top, 10)).itertuples(index=False):
        click.echo(
            f"  {row.rank:>4}  {row.candidate}  "
            f"{row.value_per_team_day:,.0f} m²/team-day  ({row.source})"
        )


@plan.command("schedule")
@db_option
@map_option
@out_dir_option
@click.option(
    "--horizon-months", type=click.IntRange(min=1, max=600), default=120, show_default=True
)
@click.option(
    "--method", type=click.Choice(["auto", "mip", "heuristic"]), default="auto", show_default=True
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=1),
    default=60.0,
    show_default=True,
    help="Seconds for the solvers.",
)
@click.option(
    "--discount",
    type=click.FloatRange(min=0),
    default=0.06,
    show_default=True,
    help="Discount rate per year of late release.",
)
@weights_option
@start_option
@catalogue_option
def schedule_cmd(
    *,
    db_url: str,
    map_dir: Path,
    out_dir: Path,
    horizon_months: int,
    method: str,
    time_limit: float,
    discount: float,
    weights: Path | None,
    start: dt.datetime | None,
    catalogue: Path | None,
) -> None:
    """Assign assets to hazards month by month; report the gap to the bound."""
    from minemap.plan.model import build_instance
    from minemap.plan.outputs import write_schedule
    from minemap.plan.prioritise import prioritise_context, priority_scores
    from minemap.plan.release import release_history
    from minemap.plan.schedule import make_schedule

    ctx = _context(db_url, map_dir, start, catalogue)
    pr = prioritise_context(ctx, weights)
    scores = priority_scores(pr, ctx.hazards["id"].to_numpy())
    inst = build_instance(
        ctx.hazards,
        ctx.assets,
        ctx.catalogue,
        ctx.start,
        horizon_months,
        benefit=scores,
        discount_per_year=discount,
        history=release_history(ctx.releases),
    )
    sched = make_schedule(inst, method=method, time_limit=time_limit)
    summary = write_schedule(ctx.hazards, inst, sched, scores, out_dir)
    click.echo(
        f"{summary['hazards_finished']}/{inst.n_hazards} hazards finished "
        f"in {horizon_months} months; objective {sched.objective:.3f}, "
        f"bound {sched.bound:.3f}, gap {sched.gap:.2%} ({sched.method})"
    )
    click.echo(f"wrote schedule.csv, gantt.png, planned_hazards.gpkg, summary.json in {out_dir}")


@plan.command("forecast")
@db_option
@map_option
@out_dir_option
@click.option("--draws", type=click.IntRange(min=1), default=1000, show_default=True)
@seed_option
@click.option(
    "--horizon-months",
    type=click.IntRange(min=12, max=1200),
    default=600,
    show_default=True,
    help="How far to look for completion.",
)
@weights_option
@start_option
@catalogue_option
def forecast_cmd(
    *,
    db_url: str,
    map_dir: Path,
    out_dir: Path,
    draws: int,
    seed: int | None,
    horizon_months: int,
    weights: Path | None,
    start: dt.datetime | None,
    catalogue: Path | None,
) -> None:
    """Completion P10/P50/P90, released-area curve and casualties per year."""
    from minemap.plan.forecast import bottleneck, context_history, context_instance, run_forecast
    from minemap.plan.outputs import write_forecast
    from minemap.plan.prioritise import prioritise_context, priority_scores

    ctx = _context(db_url, map_dir, start, catalogue)
    pr = prioritise_context(ctx, weights)
    scores = priority_scores(pr, ctx.hazards["id"].to_numpy())
    history = context_history(ctx)
    f = run_forecast(
        context_instance(ctx, horizon_months, scores, history),
        ctx.hazards,
        history=history,
        priorities=pr.table,
        draws=draws,
        seed=_seed(seed),
        horizon=horizon_months,
    )
    data = write_forecast(f, out_dir)
    if data["p50"] is None:
        click.echo(
            f"completion: not within {horizon_months} months in most draws "
            f"({data['share_done_in_horizon']:.0%} of {draws} draws finish)"
        )
        for note in data["notes"]:
            click.echo(f"  {note}")
    else:
        click.echo(
            f"completion: P10 {data['p10']}, P50 {data['p50']}, "
            f"P90 {data['p90'] or f'beyond {horizon_months} months'} ({draws} draws)"
        )
    binding = data["p50"] and bottleneck(data.get("finish_by_type", {}), data["start"])
    if binding:
        click.echo(binding)
    first = data["casualties_per_year"][0] if data["casualties_per_year"] else None
    if first:
        click.echo(
            f"expected casualties in {first['year']}: {first['expected']:.1f} "
            f"(P10 {first['p10']:.1f}, P90 {first['p90']:.1f})"
        )
    click.echo(f"wrote forecast.json and forecast.png in {out_dir}")


@plan.command("whatif")
@db_option
@map_option
@out_dir_option
@click.option(
    "--add",
    "adds",
    multiple=True,
    metavar="TYPE=N@YYYY-MM",
    help="An option: assets added (N<0 removes); join several with commas; "
    "repeat for options side by side.",
)
@click.option(
    "--budget",
    type=float,
    default=None,
    help="Also compare what this budget (USD) buys of each type.",
)
@click.option("--draws", type=click.IntRange(min=1), default=500, show_default=True)
@seed_option
@click.option(
    "--horizon-months", type=click.IntRange(min=12, max=1200), default=600, show_default=True
)
@weights_option
@start_option
@catalogue_option
def whatif_cmd(
    *,
    db_url: str,
    map_dir: Path,
    out_dir: Path,
    adds: tuple[str, ...],
    budget: float | None,
    draws: int,
    seed: int | None,
    horizon_months: int,
    weights: Path | None,
    start: dt.datetime | None,
    catalogue: Path | None,
) -> None:
    """The forecast with more (or fewer) assets: months saved, casualties averted, cost."""
    from minemap.plan.forecast import context_history
    from minemap.plan.model import parse_change
    from minemap.plan.outputs import write_json
    from minemap.plan.prioritise import prioritise_context, priority_scores
    from minemap.plan.whatif import Option, run_whatif

    ctx = _context(db_url, map_dir, start, catalogue)
    options = [Option(text, parse_change(text, ctx.catalogue)) for text in adds]
    pr = prioritise_context(ctx, weights)
    scores = priority_scores(pr, ctx.hazards["id"].to_numpy())
    data = run_whatif(
        ctx,
        options,
        history=context_history(ctx),
        benefit=scores,
        priorities=pr.table,
        draws=draws,
        seed=_seed(seed),
        horizon=horizon_months,
        budget=budget,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "whatif.json", data)
    beyond = f"beyond {horizon_months} months"
    b = data["baseline"]
    click.echo(f"baseline: P50 {b['p50'] or beyond}, P90 {b['p90'] or beyond}")
    for row in data["options"]:
        saved = row["months_saved"]
        per = row["cost_per_month_saved"]
        click.echo(
            f"  {row['option']}: P50 {row['p50'] or beyond}, P90 {row['p90'] or beyond}, "
            f"{'n/a' if saved is None else f'{saved:+.0f}'} months, "
            f"{row['casualties_averted']:.1f} casualties averted, "
            f"{'n/a' if per is None else f'USD {per:,.0f}'} per month saved"
        )
    click.echo(f"wrote whatif.json in {out_dir}")


@plan.command("simulate")
@db_option
@map_option
@out_dir_option
@click.option(
    "--truth",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The scenario's truth.gpkg (read only here).",
)
@click.option("--years", type=click.IntRange(min=1, max=30), default=5, show_default=True)
@weights_option
@start_option
@catalogue_option
def simulate_cmd(
    *,
    db_url: str,
    map_dir: Path,
    out_dir: Path,
    truth: Path,
    years: int,
    weights: Path | None,
    start: dt.datetime | None,
    catalogue: Path | None,
) -> None:
    """Replay strategies against a scenario's truth: mines found and casualties."""
    from minemap.plan.forecast import context_history
    from minemap.plan.outputs import write_json
    from minemap.plan.prioritise import prioritise_context
    from minemap.plan.simulate import simulate

    ctx = _context(db_url, map_dir, start, catalogue)
    pr = prioritise_context(ctx, weights)
    result = simulate(ctx, pr, truth, years=years, history=context_history(ctx))
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "simulation.json", result)
    for row in result["strategies"]:
        click.echo(
            f"  {row['strategy']:<22} mines found {row['mines_found']:>6.0f} "
            f"({row['share_found']:.1%}), "
            f"{row['mines_per_team_day']:.3f} per team-day, casualties {row['casualties']:.1f}"
        )
    click.echo(f"wrote simulation.json in {out_dir}")
