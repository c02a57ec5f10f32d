"""``minemap hazard-map``: build a hazard map, evaluate it against a truth, explain a cell."""

from __future__ import annotations

import json
from pathlib import Path

import click

from minemap.cli.options import cell_option, map_option, out_dir_option, seed_option
from minemap.errors import ConfigError


@click.group("hazard-map")
def hazard_map() -> None:
    """Hazard maps: where survey teams should look first."""


@hazard_map.command("build")
@click.option(
    "--db",
    "db_url",
    default=None,
    metavar="URL",
    envvar="MINEMAP_DB",
    help="The store to read records and rasters from (.gpkg or postgresql://). Env: MINEMAP_DB.",
)
@click.option(
    "--layers",
    "layers_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Read the layers from a scenario folder instead (observed.gpkg, dem.tif, landcover.tif).",
)
@out_dir_option
@cell_option
@click.option(
    "--dask",
    "dask",
    default=None,
    metavar="ADDRESS|local",
    help="Compute features tile by tile on Dask: 'local' starts a local cluster, an address "
    "joins a running scheduler ('threads' uses local threads).",
)
@click.option(
    "--groups",
    type=click.Choice(["blocks", "districts"]),
    default="blocks",
    show_default=True,
    help="Spatial groups held out together by the cross-validation.",
)
@click.option(
    "--block-size",
    "block_size",
    type=click.FloatRange(min=1.0),
    default=5000.0,
    show_default=True,
    help="Side of the square blocks, metres.",
)
@click.option(
    "--folds", type=click.IntRange(min=2), default=None, help="Spatial CV folds (default 4)."
)
@click.option(
    "--threads", type=click.IntRange(min=0), default=0, help="LightGBM threads (0: all cores)."
)
@click.option(
    "--model",
    "model_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Apply the model.zip of another build instead of training one (the map's labelled "
    "cells then validate it).",
)
@seed_option
def build_command(
    *,
    db_url: str | None,
    layers_dir: Path | None,
    out_dir: Path,
    cell_size: float | None,
    dask: str | None,
    groups: str,
    block_size: float,
    folds: int | None,
    threads: int,
    model_path: Path | None,
    seed: int | None,
) -> None:
    """Build the hazard map: risk.tif, zones.gpkg, districts.csv, metrics.json and more."""
    from minemap.grid.layers import load_folder, load_store
    from minemap.risk.build import BuildOptions, build_hazard_map
    from minemap.settings import get_settings

    settings = get_settings()
    if layers_dir is not None:
        layers = load_folder(layers_dir)
    elif db_url:
        layers = load_store(db_url)
    else:
        msg = "give the store with --db URL (or a scenario folder with --layers DIR)"
        raise ConfigError(msg)
    defaults = BuildOptions()
    options = BuildOptions(
        cell_size=cell_size or settings.cell_size,
        groups=groups,
        block_size_m=block_size,
        cv_folds=folds or defaults.cv_folds,
        seed=settings.seed if seed is None else seed,
        num_threads=threads,
        dask=dask,
        model=model_path,
    )
    result = build_hazard_map(layers, out_dir, options)
    cv = result.metrics["cv"]["pooled"]
    auc = cv["roc_auc"]
    ap = cv["average_precision"]
    click.echo(
        f"hazard map of {result.metrics['region_km2']:,.0f} km² "
        f"({result.metrics['cells_in_region']:,} cells of {result.grid.cell_size:g} m) "
        f"written to {out_dir}"
    )
    click.echo(
        f"validation ({result.metrics['cv']['scheme']}, {result.metrics['cv']['folds']} folds): "
        f"ROC-AUC {_fmt(auc)}, average precision {_fmt(ap)}; "
        f"expected contaminated area {result.metrics['expected_contaminated_km2']:,.2f} km²"
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


@hazard_map.command("evaluate")
@click.option(
    "--risk",
    "risk_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="risk.tif of a map folder.",
)
@click.option(
    "--truth",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A scenario's truth.gpkg (layer 'mines').",
)
@out_dir_option
@click.option(
    "--layers",
    "layers_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Scenario folder to read the front line and suspected areas from for the heuristics "
    "(default: the map folder's inputs.tif).",
)
@click.option("--include-found", is_flag=True, help="Count mines already found by activities too.")
def evaluate_command(
    *, risk_path: Path, truth: Path, out_dir: Path, layers_dir: Path | None, include_found: bool
) -> None:
    """Capture curve of the map against single-layer heuristics and random (JSON and PNG)."""
    from minemap.risk.evaluate import evaluate_map

    result = evaluate_map(
        risk_path, truth, out_dir, layers_dir=layers_dir, include_found=include_found
    )
    click.echo(
        f"{result['mined_cells']:,} mined cells ({result['counted']}) among "
        f"{result['cells_in_region']:,}; capture at 5 / 10 / 20% of the area:"
    )
    for name, figures in result["orders"].items():
        values = " / ".join(f"{figures[f'capture_at_{p}pct'] * 100:5.1f}%" for p in (5, 10, 20))
        click.echo(f"  {name:<16} {values}")
    ten = result["versus_best_heuristic"]["capture_at_10pct"]
    click.echo(
        f"at 10%: {ten['ratio']}x the best heuristic ({ten['best_heuristic']}); "
        f"written {out_dir / 'capture.json'} and {out_dir / 'capture.png'}"
    )


@hazard_map.command("explain")
@map_option
@click.argument("x", type=float)
@click.argument("y", type=float)
@click.option("--top", type=click.IntRange(min=1), default=3, show_default=True)
def explain_command(map_dir: Path, x: float, y: float, top: int) -> None:
    """Why the cell at X Y (map CRS metres) has its risk: the top feature contributions."""
    from minemap.risk.mapfolder import explain_cell

    click.echo(json.dumps(explain_cell(map_dir, x, y, top=top).as_dict(), indent=2))


@hazard_map.command("features")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def features_command(as_json: bool) -> None:
    """The documented feature list: name, unit and why it matters."""
    from minemap.features.catalogue import GROUPS, describe

    if as_json:
        click.echo(json.dumps(describe(), indent=2))
        return
    for group in GROUPS:
        click.echo(f"{group.name} (reach {group.reach_m:g} m)")
        for feature in group.features:
            click.echo(f"  {feature.name:<26} {feature.unit:<8} {feature.rationale}")
