"""``minemap records digitise FILE``: minefield records to turning points, shapes and scores."""

from __future__ import annotations

from pathlib import Path

import click

from minemap.io.digitise import (
    DEFAULT_NEAR_M,
    DEFAULT_SEARCH_M,
    digitise,
    read_minefield_file,
    score_records,
    write_digitised,
)
from minemap.settings import get_settings


@click.group("records")
def records() -> None:
    """Work on national records outside the store."""


@records.command("digitise")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="GeoPackage or GeoJSON to write (default: FILE's name + '-digitised.gpkg').",
)
@click.option("--crs", help="Metric CRS of the traverse (default: the settings' CRS).")
@click.option(
    "--finds",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file of finds to score the records against.",
)
@click.option("--db", "db_url", help="Score against the finds of this store.")
@click.option("--near", type=float, default=DEFAULT_NEAR_M, show_default=True, help="Metres.")
@click.option("--search", type=float, default=DEFAULT_SEARCH_M, show_default=True, help="Metres.")
def digitise_command(  # noqa: PLR0917 (click passes every option)
    file: Path,
    out: Path | None,
    crs: str | None,
    finds: Path | None,
    db_url: str | None,
    near: float,
    search: float,
) -> None:
    """Turn minefield records (reference point + bearing/distance legs) into turning
    points and a polygon or mine-row line; with --finds or --db, score each record
    against later finds (share inside, offset).
    """
    metric = crs or get_settings().crs
    recs, legs = read_minefield_file(file, crs=metric)
    result = digitise(recs, legs, crs=metric)
    scores = None
    finds_frame = None
    if finds is not None:
        from minemap.io.normalise import normalise
        from minemap.io.readers import read_table
        from minemap.records.schema import get_kind

        batch = normalise(
            read_table(finds, prefer_layer="finds"), get_kind("finds"), store_crs=metric
        )
        finds_frame = batch.good
    elif db_url:
        from minemap.store import open_store

        with open_store(db_url) as store:
            finds_frame = store.read("finds")
    if finds_frame is not None:
        received = recs.set_index("ref")["received_on"] if "received_on" in recs.columns else None
        scores = score_records(
            result.shapes, finds_frame, near_m=near, search_m=search, received=received
        )
    target = out or file.with_name(f"{file.stem}-digitised.gpkg")
    write_digitised(result, target, scores)
    for ref, why in sorted(result.problems.items()):
        click.echo(f"record {ref}: no shape ({why})", err=True)
    click.echo(
        f"{len(result.shapes)} of {len(recs)} records digitised, "
        f"{len(result.points)} turning points written to {target}"
    )
    if scores is not None:
        for rec in scores.to_dict("records"):
            ref, n = str(rec["record_ref"]), int(rec["finds_nearby"])
            click.echo(
                f"  {ref}: {n} finds nearby, {rec['share_inside']:.0%} inside, "
                f"offset {rec['offset_m']:.0f} m"
                if n
                else f"  {ref}: no finds nearby"
            )
