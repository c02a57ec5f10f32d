"""``minemap report monthly|annual``: the national reports as PDF (and HTML, JSON)."""

from __future__ import annotations

from pathlib import Path

import click

from minemap.cli.options import db_option
from minemap.errors import ConfigError

_pdf_out_option = click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The PDF to write; the .html and .json are written beside it.",
)


def _pdf_path(out: Path) -> Path:
    if out.suffix.lower() != ".pdf":
        msg = f"--out {out}: the report is a PDF, give a file name ending in .pdf"
        raise ConfigError(msg)
    return out


@click.group("report")
def report() -> None:
    """National reports: monthly (government, donors) and annual (Landmine Monitor, Article 7)."""


@report.command("monthly")
@db_option
@click.option("--month", required=True, metavar="YYYY-MM", help="The month to report.")
@_pdf_out_option
@click.option(
    "--map",
    "map_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="A folder from 'minemap hazard-map build': its risk map goes under the month's map.",
)
@click.option(
    "--plan",
    "plan_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="A folder from 'minemap plan forecast/schedule': progress and completion forecast.",
)
def monthly(
    db_url: str, month: str, out_file: Path, map_dir: Path | None, plan_dir: Path | None
) -> None:
    """The monthly report for --month, as FILE.pdf with FILE.html and FILE.json beside it."""
    from minemap.report.monthly import write_monthly
    from minemap.report.summary import Period, Records
    from minemap.store import open_store

    Period.month(month)  # a bad month is refused before the store is read
    out = _pdf_path(out_file)
    with open_store(db_url) as store:
        records = Records.from_store(store)
        dem = store.raster("dem")
    files = write_monthly(records, month, out, map_dir=map_dir, plan_dir=plan_dir, dem_path=dem)
    for path in (files.pdf, files.html, files.json):
        click.echo(f"wrote {path}")


@report.command("annual")
@db_option
@click.option("--year", required=True, type=click.IntRange(1990, 2200), help="The year to report.")
@_pdf_out_option
def annual(db_url: str, year: int, out_file: Path) -> None:
    """The annual report for --year beside the year before, as FILE.pdf (+ .html, .json)."""
    from minemap.report.annual import write_annual
    from minemap.report.summary import Records
    from minemap.store import open_store

    out = _pdf_path(out_file)
    with open_store(db_url) as store:
        records = Records.from_store(store)
    files = write_annual(records, year, out)
    for path in (files.pdf, files.html, files.json):
        click.echo(f"wrote {path}")
