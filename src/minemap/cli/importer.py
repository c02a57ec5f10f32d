"""``minemap import KIND FILE`` and ``minemap import scenario DIR``."""

from __future__ import annotations

from pathlib import Path

import click

from minemap.cli.options import db_option
from minemap.errors import ConfigError
from minemap.io.duplicates import DEFAULT_MIN_OVERLAP, DEFAULT_TOLERANCE_M
from minemap.io.importer import ON_DUPLICATE, ImportRefusedError, import_file
from minemap.io.mapping import parse_set_options
from minemap.records.schema import KINDS, get_kind
from minemap.settings import get_settings


@click.command("import")
@click.argument("kind", metavar="KIND")
@click.argument("file", type=click.Path(path_type=Path))
@db_option
@click.option(
    "--set",
    "set_values",
    multiple=True,
    metavar="FIELD=VALUE",
    help="Default for a field left empty in the file, e.g. --set type=SHA (repeatable).",
)
@click.option(
    "--map",
    "mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A TOML mapping of foreign column names and values to minemap's.",
)
@click.option("--skip-invalid", is_flag=True, help="Import the good rows; list refused ones.")
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV file for refused, skipped and merged rows, with a 'reason' column.",
)
@click.option(
    "--on-duplicate",
    type=click.Choice(ON_DUPLICATE),
    default="keep",
    show_default=True,
    help="What to do with a row that duplicates a stored record or an earlier row.",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(min=0),
    default=DEFAULT_TOLERANCE_M,
    show_default=True,
    help="Metres within which two geometries are the same (duplicates).",
)
@click.option(
    "--min-overlap",
    type=click.FloatRange(min=0, max=1),
    default=DEFAULT_MIN_OVERLAP,
    show_default=True,
    help="Share of the smaller polygon two same-date polygons must share to be duplicates.",
)
@click.option("--layer", help="Layer (GeoPackage, KML) or sheet (XLSX) to read.")
@click.option("--crs", help="CRS of the file's coordinates when it declares none (EPSG:4326...).")
@click.option("--encoding", help="Text encoding of a CSV file (found by itself otherwise).")
@click.option("--user", help="Who imports, for the audit (default: MINEMAP_USER or login).")
def import_command(  # noqa: PLR0917 (click passes every option)
    kind: str,
    file: Path,
    db_url: str,
    set_values: tuple[str, ...],
    mapping: Path | None,
    skip_invalid: bool,
    rejects: Path | None,
    on_duplicate: str,
    tolerance: float,
    min_overlap: float,
    layer: str | None,
    crs: str | None,
    encoding: str | None,
    user: str | None,
) -> None:
    """Import FILE as records of KIND, or a generated scenario with KIND 'scenario'.

    KIND: hazards, activities, releases, finds, accidents, victims, eore,
    minefield-records, minefield-legs, settlements, assets, teams, organisations
    (or any record kind; '-' and '_' alike). FILE: GeoPackage, Shapefile (also
    zipped), GeoJSON, KML/KMZ, CSV (WKT, lat/lon, MGRS or ODK geopoint columns),
    XLSX, ODK/KoboToolbox exports.

    A batch is all or nothing unless --skip-invalid is given.
    """
    from minemap.store import open_store

    who = user or get_settings().user
    if kind.lower() == "scenario":
        from minemap.io.scenario import import_scenario

        with open_store(db_url) as store:
            result = import_scenario(store, file, user=who)
        for line in result.lines():
            click.echo(line)
        return
    try:
        name = get_kind(kind).name
    except ConfigError:
        known = ", ".join(["scenario", *sorted(KINDS)])
        msg = f"unknown record kind {kind!r}; known kinds: {known}"
        raise ConfigError(msg) from None
    defaults = parse_set_options(set_values, get_kind(name))
    with open_store(db_url) as store:
        try:
            report = import_file(
                store,
                name,
                file,
                user=who,
                defaults=defaults,
                mapping=mapping,
                skip_invalid=skip_invalid,
                rejects=rejects,
                on_duplicate=on_duplicate,  # type: ignore[arg-type]
                tolerance=tolerance,
                min_overlap=min_overlap,
                layer=layer,
                crs=crs,
                encoding=encoding,
            )
        except ImportRefusedError as exc:
            for line in exc.lines():
                click.echo(line, err=True)
            raise
    for line in report.lines():
        click.echo(line)
