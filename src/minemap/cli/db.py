"""``minemap db``: create a store, back it up and restore it."""

from __future__ import annotations

from pathlib import Path

import click

from minemap.cli.options import db_option


@click.group("db")
def db() -> None:
    """The records store: a .gpkg file or a postgresql:// database."""


@db.command("init")
@db_option
@click.option(
    "--extent",
    default=None,
    metavar="COUNTRY-OR-BBOX",
    help="Records must lie in this lon/lat box: a country (AZ, azerbaijan...) or "
    "minlon,minlat,maxlon,maxlat.",
)
@click.option(
    "--crs",
    default=None,
    metavar="EPSG:N",
    help="The store's metric CRS (default from settings, EPSG:32638 = UTM 38N).",
)
def init(db_url: str, extent: str | None, crs: str | None) -> None:
    """Create the store at --db (or upgrade it, or change its extent)."""
    from minemap.store import open_store
    from minemap.store.extent import parse_extent

    box = parse_extent(extent) if extent else None
    with open_store(db_url) as store:
        store.init(crs=crs, extent=box)
        where = f"; extent lon {box[0]}..{box[2]}, lat {box[1]}..{box[3]}" if box else ""
        click.echo(f"store ready at {db_url} (CRS {store.crs}{where})")


@db.command("backup")
@db_option
@click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The backup file (a GeoPackage holding every record, history, audit entry and user).",
)
def backup(db_url: str, out_file: Path) -> None:
    """Write the whole store at --db to one file."""
    from minemap.store import open_store

    with open_store(db_url) as store:
        path = store.backup(out_file)
    click.echo(f"backup written to {path}")


@db.command("restore")
@click.argument("backup_file", type=click.Path(dir_okay=False, path_type=Path))
@db_option
def restore(backup_file: Path, db_url: str) -> None:
    """Replace the content of the store at --db with BACKUP_FILE."""
    from minemap.store import open_store

    with open_store(db_url) as store:
        store.restore(backup_file)
        counts = {k: store.count(k) for k in ("hazards", "activities", "finds", "accidents")}
    summary = ", ".join(f"{n} {k}" for k, n in counts.items())
    click.echo(f"restored {backup_file} into {db_url} ({summary})")
