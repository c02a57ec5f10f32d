"""``minemap summary``: the national figures of a store, printed and as JSON."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import pandas as pd
from rich.console import Console
from rich.table import Table

from minemap.cli.options import db_option
from minemap.report.summary import TABLE_TITLES, NationalSummary, Period, national_summary

#: Headline figures as printed: (key, label, unit).
HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("area_released_m2", "Land released", "ha"),
    ("area_cancelled_m2", "  cancelled (NTS)", "ha"),
    ("area_reduced_m2", "  reduced (TS)", "ha"),
    ("area_cleared_m2", "  cleared", "ha"),
    ("devices_found", "Devices found", ""),
    ("devices_destroyed", "  destroyed", ""),
    ("hazards_remaining", "Hazards remaining", ""),
    ("area_remaining_m2", "  area remaining", "ha"),
    ("accidents", "Accidents", ""),
    ("victims_killed", "Victims killed", ""),
    ("victims_injured", "Victims injured", ""),
    ("victims_child", "  of them children", ""),
    ("hotspots", "Accident hotspots", ""),
    ("settlements_without_eore", "Settlements with accidents, no EORE in 12 months", ""),
    ("eore_sessions", "EORE sessions", ""),
    ("eore_beneficiaries", "  beneficiaries", ""),
    ("eore_materials", "  materials distributed", ""),
    ("deminers_male", "Deminers, men", ""),
    ("deminers_female", "Deminers, women", ""),
    ("assets", "Assets in service", ""),
    ("last_month", "Latest record", ""),
)

#: Columns left out of the printed tables (they stay in the JSON).
_NOT_PRINTED = {"hotspots": ["x", "y"], "settlements_without_eore": ["settlement_id"]}

#: Columns of the land-release tables, which hold areas in m² without saying so.
_RELEASE_COLUMNS = ("cancelled", "reduced", "cleared", "total")


def format_value(value: object, unit: str = "") -> str:
    """A figure as a person reads it: thousands separated, areas in hectares."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    if unit == "ha" and isinstance(value, int | float):
        return f"{float(value) / 10_000:,.1f} ha"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, pd.Timestamp | dt.date):
        return value.isoformat()[:10]
    return str(value)


def _cell(column: str, value: object, *, areas: bool = False) -> str:
    if column.endswith("_m2") or (areas and column in _RELEASE_COLUMNS):
        return format_value(value, "ha")
    if column == "year":
        return str(value)
    if column in ("x", "y", "radius_m", "distance_m") and isinstance(value, float):
        return "-" if pd.isna(value) else f"{value:,.0f}"
    if column == "change_pct" and isinstance(value, float):
        return "-" if pd.isna(value) else f"{value:+.0f}%"
    return format_value(value)


def rich_table(
    title: str,
    frame: pd.DataFrame,
    *,
    max_rows: int = 15,
    areas: bool = False,
    latest: bool = False,
) -> Table:
    """A rich table of a summary table; areas shown in hectares (``areas``: the
    release columns hold m²)."""
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for column in frame.columns:
        label = column.removesuffix("_m2")
        right = pd.api.types.is_numeric_dtype(frame[column])
        table.add_column(label, justify="right" if right else "left")
    shown = frame.tail(max_rows) if latest else frame.head(max_rows)
    for row in shown.to_dict("records"):
        table.add_row(*(_cell(str(c), row[c], areas=areas) for c in frame.columns))
    if len(frame) > max_rows:
        which = "earlier" if latest else "more"
        table.caption = f"{len(frame) - max_rows} {which} rows in the JSON"
    return table


def print_summary(summary: NationalSummary, console: Console) -> None:
    """Headline figures, then every non-empty table."""
    head = Table(
        title=f"National summary: {summary.period.label}",
        title_justify="left",
        show_header=False,
        show_edge=False,
    )
    head.add_column("figure")
    head.add_column("value", justify="right")
    for key, label, unit in HEADLINE:
        head.add_row(label, format_value(summary.figures.get(key), unit))
    console.print(head)
    for name, title in TABLE_TITLES.items():
        frame = summary.tables.get(name)
        if frame is None or frame.empty or name == "accident_links":
            continue
        frame = frame.drop(columns=_NOT_PRINTED.get(name, []))
        console.print()
        console.print(
            rich_table(
                title,
                frame,
                areas=name.startswith("released_"),
                latest=name in ("released_by_month", "casualty_trend"),
            )
        )


def _date(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


@click.command("summary")
@db_option
@click.option(
    "--from",
    "date_from",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="First day of the period (YYYY-MM-DD); default: the first record.",
)
@click.option(
    "--to",
    "date_to",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day of the period (YYYY-MM-DD); default: the last record.",
)
@click.option(
    "--json",
    "json_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the figures and tables to this JSON file.",
)
def summary(
    db_url: str, date_from: dt.datetime | None, date_to: dt.datetime | None, json_file: Path | None
) -> None:
    """National figures: land released, devices, hazards, casualties, EORE, staff."""
    from minemap.store import open_store

    period = Period(_date(date_from), _date(date_to))
    with open_store(db_url) as store:
        result = national_summary(store, period)
    print_summary(result, Console())
    if json_file is not None:
        result.write_json(json_file)
        click.echo(f"wrote {json_file}", err=True)
