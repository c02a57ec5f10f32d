"""The annual report in the shape of the yearly international reporting formats.

Landmine Monitor and the Article 7 transparency reports of the Mine Ban
Treaty (and Article 7 of the Convention on Cluster Munitions) ask each year
for the same few tables: contamination remaining by type, land released by
method, devices destroyed, casualties by group, and risk education reached.
:func:`build_annual` fills them for a year beside the year before, with the
change, from :func:`minemap.report.summary.national_summary` (the figures of
``minemap summary --from YYYY-01-01 --to YYYY-12-31``), and a series over
every year on record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from minemap.report import figures
from minemap.report import summary as s
from minemap.report.monthly import AUTHORITY
from minemap.report.render import (
    Column,
    HtmlTable,
    ReportFiles,
    html_table,
    render,
    write_report,
)


@dataclass
class AnnualReport:
    year: int
    this_year: s.NationalSummary
    last_year: s.NationalSummary
    empty: bool
    tables: dict[str, HtmlTable] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "empty": self.empty,
            "this_year": self.this_year.figures,
            "last_year": self.last_year.figures,
        }


def _change(current: pd.Series, before: pd.Series) -> pd.Series:
    """Change in per cent of the year before; empty where the year before had none."""
    cur = current.astype(float)
    prev = before.astype(float)
    return pd.Series(
        np.where(prev > 0, 100.0 * (cur - prev) / prev.where(prev > 0, 1.0), np.nan),
        index=current.index,
    )


def compare(
    current: pd.DataFrame,
    before: pd.DataFrame,
    keys: list[str],
    values: list[str],
) -> pd.DataFrame:
    """``current`` and ``before`` side by side on ``keys``: ``<v>``, ``<v>_before``,
    ``<v>_change`` (absolute) and ``<v>_pct`` for each value column."""
    left = current[[*keys, *values]]
    right = before[[*keys, *values]].rename(columns={v: f"{v}_before" for v in values})
    merged = left.merge(right, on=keys, how="outer")
    for v in values:
        merged[v] = merged[v].astype(float).fillna(0.0)
        merged[f"{v}_before"] = merged[f"{v}_before"].astype(float).fillna(0.0)
        merged[f"{v}_change"] = merged[v] - merged[f"{v}_before"]
        merged[f"{v}_pct"] = _change(merged[v], merged[f"{v}_before"])
    order = {k: i for i, k in enumerate(current[keys[0]])}
    merged["_order"] = merged[keys[0]].map(lambda k: order.get(k, len(order)))
    return merged.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)


def _figures_frame(
    cur: dict[str, Any], prev: dict[str, Any], items: list[tuple[str, str]]
) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "item": [label for _, label in items],
            "value": [float(cur[key] or 0) for key, _ in items],
            "value_before": [float(prev[key] or 0) for key, _ in items],
        }
    )
    frame["value_change"] = frame["value"] - frame["value_before"]
    frame["value_pct"] = _change(frame["value"], frame["value_before"])
    return frame


def _value_columns(name: str, heading: str, year: int, style: str = "int") -> list[Column]:
    return [
        Column(name, f"{heading} {year}", style),
        Column(f"{name}_before", f"{heading} {year - 1}", style),
        Column(f"{name}_change", "Change", style),
        Column(f"{name}_pct", "Change %", "pct"),
    ]


def yearly_series(source: s.Source, last_year: int) -> pd.DataFrame:
    """Per year up to ``last_year``: hectares released by method, devices found,
    victims killed and injured, EORE beneficiaries."""
    records = s.as_records(source)
    period = s.Period(None, s.Period.year(last_year).end)
    rel = s.releases(records, period)
    dev = s.finds(records, period)
    vic = s.victims(records, period)
    eore = s.eore_sessions(records, period)
    years = pd.concat(
        [
            rel["released_on"].dt.year,
            dev["found_on"].dt.year,
            vic["year"].astype("float64"),
            eore["held_on"].dt.year,
        ]
    ).dropna()
    columns = [
        "year",
        "cancelled",
        "reduced",
        "cleared",
        "total",
        "devices",
        "killed",
        "injured",
        "beneficiaries",
    ]
    if years.empty:
        return pd.DataFrame(columns=columns)
    index = pd.Index(range(int(years.min()), last_year + 1), name="year")
    table = pd.DataFrame(index=index)
    by_method = rel.groupby([rel["released_on"].dt.year, "method"])["area_m2"].sum()
    for method in ("cancelled", "reduced", "cleared"):
        part = by_method.xs(method, level="method") if method in set(rel["method"]) else None
        table[method] = part.reindex(index).fillna(0.0) if part is not None else 0.0
    table["total"] = table[["cancelled", "reduced", "cleared"]].sum(axis=1)
    table["devices"] = dev.groupby(dev["found_on"].dt.year)["quantity"].sum().reindex(index)
    outcome = vic.groupby(["year", "outcome"]).size()
    for o in ("killed", "injured"):
        table[o] = outcome.xs(o, level="outcome").reindex(index) if o in set(vic["outcome"]) else 0
    table["beneficiaries"] = (
        eore.groupby(eore["held_on"].dt.year)["beneficiaries"].sum().reindex(index)
    )
    table = table.fillna(0)
    return table.reset_index()[columns]


def build_annual(source: s.Source, year: int) -> AnnualReport:
    """The tables of the annual report for ``year``, beside the year before."""
    records = s.as_records(source)
    cur = s.national_summary(records, s.Period.year(year))
    prev = s.national_summary(records, s.Period.year(year - 1))
    report = AnnualReport(year, cur, prev, empty=cur.figures["last_month"] is None)
    f, p = cur.figures, prev.figures

    contamination = compare(
        cur.tables["contamination"], prev.tables["contamination"],
        ["type", "contamination"], ["hazards", "remaining_m2"],
    )  # fmt: skip
    report.tables["contamination"] = html_table(
        contamination,
        [
            Column("type", "Type", "text"),
            Column("contamination", "Contamination", "text"),
            Column("hazards", f"Areas {year}"),
            Column("hazards_before", f"Areas {year - 1}"),
            *_value_columns("remaining_m2", "Hectares", year, "ha"),
        ],
        total=True,
    )
    release = _figures_frame(
        f, p,
        [("area_cancelled_m2", "Cancelled (non-technical survey)"),
         ("area_reduced_m2", "Reduced (technical survey)"),
         ("area_cleared_m2", "Cleared"),
         ("area_released_m2", "Total released")],
    )  # fmt: skip
    report.tables["release"] = html_table(
        release,
        [Column("item", "Method", "text"), *_value_columns("value", "Hectares", year, "ha")],
    )
    by_district = compare(
        cur.tables["released_by_district"], prev.tables["released_by_district"],
        ["district"], ["total"],
    )  # fmt: skip
    report.tables["release_by_district"] = html_table(
        by_district,
        [Column("district", "District", "text"), *_value_columns("total", "Hectares", year, "ha")],
        total=True,
    )
    report.tables["release_by_organisation"] = html_table(
        cur.tables["released_by_organisation"],
        [
            Column("organisation", "Organisation", "text"),
            Column("cancelled", "Cancelled (ha)", "ha"),
            Column("reduced", "Reduced (ha)", "ha"),
            Column("cleared", "Cleared (ha)", "ha"),
            Column("total", "Total (ha)", "ha"),
        ],
        total=True,
    )
    devices = compare(
        cur.tables["devices_by_category"], prev.tables["devices_by_category"],
        ["category"], ["found", "destroyed"],
    )  # fmt: skip
    report.tables["devices"] = html_table(
        devices,
        [
            Column("category", "Category", "text"),
            Column("found", f"Found {year}"),
            Column("found_before", f"Found {year - 1}"),
            *_value_columns("destroyed", "Destroyed", year),
        ],
        total=True,
    )
    casualties = _figures_frame(
        f, p,
        [("victims_killed", "Killed"), ("victims_injured", "Injured"),
         ("victims_total", "All casualties"), ("victims_civilian", "Civilian"),
         ("victims_military", "Military"), ("victims_deminer", "Deminers"),
         ("victims_child", "Children (under 18)"), ("victims_female", "Women and girls"),
         ("accidents", "Accidents")],
    )  # fmt: skip
    report.tables["casualties"] = html_table(
        casualties, [Column("item", "Casualties", "text"), *_value_columns("value", "", year)]
    )
    by_group = compare(
        cur.tables["victims_by_group"], prev.tables["victims_by_group"],
        ["group"], ["killed", "injured"],
    )  # fmt: skip
    report.tables["casualties_by_group"] = html_table(
        by_group,
        [
            Column("group", "Group", "text"),
            Column("killed", f"Killed {year}"),
            Column("injured", f"Injured {year}"),
            Column("killed_before", f"Killed {year - 1}"),
            Column("injured_before", f"Injured {year - 1}"),
        ],
        total=True,
    )
    eore = _figures_frame(
        f, p,
        [("eore_sessions", "Sessions"), ("eore_men", "Men"), ("eore_women", "Women"),
         ("eore_boys", "Boys"), ("eore_girls", "Girls"),
         ("eore_beneficiaries", "All beneficiaries"), ("eore_materials", "Materials distributed")],
    )  # fmt: skip
    report.tables["eore"] = html_table(
        eore, [Column("item", "Risk education", "text"), *_value_columns("value", "", year)]
    )
    staff = _figures_frame(
        f, p,
        [("teams", "Teams"), ("assets", "Assets in service"),
         ("deminers_male", "Deminers, men"), ("deminers_female", "Deminers, women"),
         ("staff_female", "Operational staff, women")],
    )  # fmt: skip
    report.tables["staff"] = html_table(
        staff,
        [Column("item", "Capacity (end of year)", "text"), *_value_columns("value", "", year)],
    )
    series = yearly_series(records, year)
    report.tables["series"] = html_table(
        series,
        [
            Column("year", "Year", "text"),
            Column("cancelled", "Cancelled (ha)", "ha"),
            Column("reduced", "Reduced (ha)", "ha"),
            Column("cleared", "Cleared (ha)", "ha"),
            Column("total", "Released (ha)", "ha"),
            Column("devices", "Devices"),
            Column("killed", "Killed"),
            Column("injured", "Injured"),
            Column("beneficiaries", "EORE reached"),
        ],
        total=True,
    )
    if not series.empty:
        by_year = series.assign(month=series["year"].astype(str))
        report.images["release_by_year"] = figures.data_uri(
            figures.release_by_month(by_year, title="Land released per year")
        )
        report.images["victims_by_year"] = figures.data_uri(
            figures.casualty_trend(series, title="Casualties per year")
        )
    return report


def render_annual(report: AnnualReport, *, authority: str = AUTHORITY) -> str:
    return render(
        "annual.html.j2",
        r=report,
        f=report.this_year.figures,
        p=report.last_year.figures,
        authority=authority,
    )


def write_annual(
    source: s.Source, year: int, out: Path, *, authority: str = AUTHORITY
) -> ReportFiles:
    """Write the annual report for ``year`` to ``out`` (PDF), ``.html`` and ``.json`` beside."""
    report = build_annual(source, year)
    html = render_annual(report, authority=authority)
    return write_report(out, html, report.figures())
