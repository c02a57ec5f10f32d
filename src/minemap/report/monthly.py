"""The monthly national report: HTML and PDF for government and donors.

Every figure comes from :func:`minemap.report.summary.national_summary` and
the other functions of :mod:`minemap.report.summary` (the month, the year to
date and everything to date), so the report and ``minemap summary`` can never
disagree. :func:`build_monthly` gathers the figures, charts and maps into a
:class:`MonthlyReport`; :func:`write_monthly` renders it to ``FILE.pdf``,
``FILE.html`` beside it, and ``FILE.json`` with the figures it printed.

A month without any dated record gives a short report that says so.
The plan part reads a plan folder (``minemap plan forecast`` writes
``forecast.json``; ``minemap plan schedule`` writes ``schedule.csv``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from minemap.errors import InputFileError
from minemap.report import figures
from minemap.report import summary as s
from minemap.report.render import (
    Column,
    HtmlTable,
    ReportFiles,
    fmt,
    html_table,
    render,
    write_report,
)

AUTHORITY = "National Mine Action Authority"
#: How many months the monthly charts look back.
CHART_MONTHS = 24


# --- the plan folder ----------------------------------------------------------------------


@dataclass(frozen=True)
class Forecast:
    """The completion forecast of a plan folder (``forecast.json``)."""

    p10: dt.date | None
    p50: dt.date | None
    p90: dt.date | None
    curve: pd.DataFrame  # month (Timestamp), p10, p50, p90: cumulative m² released
    casualties_per_year: float | None
    path: Path
    area_m2: float | None = None  # the area the forecast has to release

    @property
    def horizon_end(self) -> dt.date | None:
        """The last month the forecast looked at."""
        return None if self.curve.empty else pd.Timestamp(self.curve["month"].max()).date()

    @property
    def share_by_horizon(self) -> float | None:
        """Share of the area released by the end of the horizon (P50), when it does not finish."""
        if self.curve.empty or not self.area_m2:
            return None
        return float(self.curve["p50"].iloc[-1]) / self.area_m2


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError):
        return None


def read_forecast(plan_dir: Path) -> Forecast | None:
    """The forecast of ``plan_dir/forecast.json``, or None when the folder has none."""
    path = plan_dir / "forecast.json"
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputFileError(path, f"not a readable forecast ({exc})") from None
    if not isinstance(data, dict):
        raise InputFileError(path, "not a forecast: expected a JSON object")
    # the planner writes "monthly_released" with released_m2_p10/p50/p90 (cumulative from
    # its start month); "p10"/"p50"/"p90" columns are read too
    rows: list[Any] = next(
        (
            data[k]
            for k in ("monthly_released", "monthly", "curve")
            if isinstance(data.get(k), list)
        ),
        [],
    )
    curve = pd.DataFrame(rows)
    curve = curve.rename(columns={f"released_m2_{b}": b for b in ("p10", "p50", "p90")})
    when = next((c for c in ("month", "date") if c in curve), None)
    if when is None or not {"p10", "p50", "p90"} <= set(curve.columns):
        curve = pd.DataFrame(columns=["month", "p10", "p50", "p90"])
    else:
        curve = pd.DataFrame(
            {
                "month": pd.to_datetime(curve[when]) + pd.offsets.MonthEnd(0),
                **{b: pd.to_numeric(curve[b], errors="coerce") for b in ("p10", "p50", "p90")},
            }
        )
    casualties = data.get("casualties_per_year")
    if isinstance(casualties, list):
        # the first year of the forecast: its expected casualties
        first = casualties[0] if casualties else None
        casualties = first.get("expected", first.get("p50")) if isinstance(first, dict) else first
    return Forecast(
        _date(data.get("p10")),
        _date(data.get("p50")),
        _date(data.get("p90")),
        curve,
        float(casualties) if isinstance(casualties, int | float) else None,
        path,
        float(data["area_m2"]) if isinstance(data.get("area_m2"), int | float) else None,
    )


def planned_in(plan_dir: Path, period: s.Period) -> float | None:
    """Area (m²) the plan folder's ``schedule.csv`` planned to release in ``period``.

    A task spread over several months counts in proportion to its days inside
    the period. None when the folder has no schedule or it starts later.
    """
    path = plan_dir / "schedule.csv"
    if not path.exists() or period.start is None or period.end is None:
        return None
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InputFileError(path, f"not a readable schedule ({exc})") from None
    missing = {"start", "end", "area_m2"} - set(frame.columns)
    if missing:
        raise InputFileError(path, f"schedule lacks the columns {sorted(missing)}")
    start = pd.to_datetime(frame["start"], errors="coerce")
    end = pd.to_datetime(frame["end"], errors="coerce")
    area = pd.to_numeric(frame["area_m2"], errors="coerce").fillna(0.0)
    first, last = pd.Timestamp(period.start), pd.Timestamp(period.end)
    days = (end - start).dt.days + 1
    if start.notna().any() and start.min() > last:
        return None  # the plan starts after this month: nothing was planned for it
    overlap = (end.where(end < last, last) - start.where(start > first, first)).dt.days + 1
    share = (overlap.clip(lower=0) / days.where(days > 0)).fillna(0.0)
    return float((area * share).sum())


# --- the report ----------------------------------------------------------------------------


@dataclass
class MonthlyReport:
    """Everything the monthly report prints, computed once."""

    month: str
    period: s.Period
    this_month: s.NationalSummary
    year_to_date: s.NationalSummary
    to_date: s.NationalSummary
    empty: bool
    forecast: Forecast | None = None
    planned_m2: float | None = None
    images: dict[str, str] = field(default_factory=dict)
    tables: dict[str, HtmlTable] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    accidents_this_month: list[dict[str, str]] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        """The figures printed, for ``FILE.json``: the three summaries' headline figures."""
        return {
            "month": self.month,
            "empty": self.empty,
            "this_month": self.this_month.figures,
            "year_to_date": self.year_to_date.figures,
            "to_date": self.to_date.figures,
            "forecast": None
            if self.forecast is None
            else {
                "p10": _iso(self.forecast.p10),
                "p50": _iso(self.forecast.p50),
                "p90": _iso(self.forecast.p90),
            },
            "planned_m2": self.planned_m2,
        }


def _start(report: MonthlyReport) -> pd.Timestamp:
    assert report.period.start is not None
    return pd.Timestamp(report.period.start)


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _months(end: dt.date, count: int) -> list[str]:
    last = pd.Period(end, freq="M")
    return [str(last - i) for i in range(count - 1, -1, -1)]


def _release_columns(unit_total: str = "Total") -> list[Column]:
    return [
        Column("cancelled", "Cancelled (ha)", "ha"),
        Column("reduced", "Reduced (ha)", "ha"),
        Column("cleared", "Cleared (ha)", "ha"),
        Column("total", f"{unit_total} (ha)", "ha"),
    ]


def _release_by_method(summaries: dict[str, s.NationalSummary]) -> HtmlTable:
    rows = []
    for label, summary in summaries.items():
        f = summary.figures
        rows.append(
            {
                "period": label,
                "cancelled": f["area_cancelled_m2"],
                "reduced": f["area_reduced_m2"],
                "cleared": f["area_cleared_m2"],
                "total": f["area_released_m2"],
                "releases": f["releases"],
            }
        )
    return html_table(
        pd.DataFrame(rows),
        [Column("period", "", "text"), *_release_columns(), Column("releases", "Releases")],
    )


def _side_by_side(
    tables: dict[str, pd.DataFrame], key: str, values: list[str], key_heading: str
) -> HtmlTable:
    """One row per ``key`` with ``values`` of each period side by side."""
    columns = [Column(key, key_heading, "text")]
    # rows in the order of the widest period (the last), which holds every key
    keys = list(dict.fromkeys(k for t in reversed(tables.values()) for k in t[key]))
    merged = pd.DataFrame({key: keys})
    for label, table in tables.items():
        part = table[[key, *values]].rename(columns={v: f"{label}:{v}" for v in values})
        merged = merged.merge(part, on=key, how="left")
        columns += [Column(f"{label}:{v}", f"{v.capitalize()}, {label}") for v in values]
    merged = merged.fillna(0)
    return html_table(merged, columns, total=True)


def build_monthly(
    source: s.Source,
    month: str,
    *,
    map_dir: Path | None = None,
    plan_dir: Path | None = None,
    dem_path: Path | None = None,
) -> MonthlyReport:
    """Gather the figures, tables, charts and maps of the report for ``month`` (YYYY-MM)."""
    records = s.as_records(source)
    period = s.Period.month(month)
    assert period.start is not None
    assert period.end is not None
    this_month = s.national_summary(records, period)
    year_to_date = s.national_summary(records, s.Period(period.start.replace(month=1), period.end))
    to_date = s.national_summary(records, period.to_date())
    empty = this_month.figures["last_month"] is None
    report = MonthlyReport(month, period, this_month, year_to_date, to_date, empty)
    if plan_dir is not None:
        report.forecast = read_forecast(plan_dir)
        report.planned_m2 = planned_in(plan_dir, period)
    if empty:
        return report
    _land_release(report, records)
    _devices(report)
    _hazards(report)
    _casualties(report, records)
    _eore_and_resources(report)
    _situation_map(report, records, map_dir, dem_path)
    if report.forecast is not None or report.planned_m2 is not None:
        _plan(report, records)
    return report


def _land_release(report: MonthlyReport, records: s.Records) -> None:
    report.tables["release_by_method"] = _release_by_method(
        {
            report.month: report.this_month,
            f"{report.period.start.year} to date" if report.period.start else "year": (
                report.year_to_date
            ),
            "All records to date": report.to_date,
        }
    )
    for by in ("district", "organisation"):
        report.tables[f"release_by_{by}"] = html_table(
            report.this_month.tables[f"released_by_{by}"],
            [Column(by, by.capitalize(), "text"), *_release_columns()],
            total=True,
        )
    assert report.period.end is not None
    months = _months(report.period.end, CHART_MONTHS)
    by_month = report.to_date.tables["released_by_month"].set_index("month")
    by_month = by_month.reindex(months, fill_value=0).rename_axis("month").reset_index()
    report.images["release_by_month"] = figures.data_uri(
        figures.release_by_month(by_month, title=f"Land released per month, last {CHART_MONTHS}")
    )


def _devices(report: MonthlyReport) -> None:
    month = report.this_month.tables["devices_by_category"]
    total = report.to_date.tables["devices_by_category"]
    merged = month.merge(total, on="category", suffixes=("", "_to_date"))
    report.tables["devices_by_category"] = html_table(
        merged,
        [
            Column("category", "Category", "text"),
            Column("found", "Found"),
            Column("destroyed", "Destroyed"),
            Column("rendered_safe", "Rendered safe"),
            Column("pending", "Pending"),
            Column("found_to_date", "Found to date"),
            Column("destroyed_to_date", "Destroyed to date"),
        ],
        total=True,
    )
    report.tables["devices_by_model"] = html_table(
        report.this_month.tables["devices_by_model"],
        [
            Column("category", "Category", "text"),
            Column("model", "Model", "text"),
            Column("found", "Found"),
        ],
        max_rows=12,
    )


def _hazards(report: MonthlyReport) -> None:
    report.tables["contamination"] = html_table(
        report.this_month.tables["contamination"],
        [
            Column("type", "Type", "text"),
            Column("contamination", "Contamination", "text"),
            Column("hazards", "Hazards"),
            Column("remaining_m2", "Area remaining (ha)", "ha"),
        ],
        total=True,
    )
    report.tables["hazards_by_district"] = html_table(
        report.this_month.tables["hazards_by_district"],
        [
            Column("district", "District", "text"),
            Column("SHA", "SHA"),
            Column("CHA", "CHA"),
            Column("hazards", "Hazards"),
            Column("remaining_m2", "Area remaining (ha)", "ha"),
        ],
        total=True,
    )


def _casualties(report: MonthlyReport, records: s.Records) -> None:
    for name, heading in (
        ("victims_by_group", "Group"),
        ("victims_by_person", "Sex and age"),
        ("victims_by_activity", "Activity at the time"),
    ):
        tables = {
            report.month: report.this_month.tables[name],
            "to date": report.to_date.tables[name],
        }
        key = name.removeprefix("victims_by_")
        report.tables[name] = _side_by_side(tables, key, ["killed", "injured"], heading)
    assert report.period.end is not None
    months = _months(report.period.end, CHART_MONTHS)
    window = s.Period(pd.Period(months[0]).start_time.date(), report.period.end)
    by_month = s.victims_by(records, window, by="month").set_index("month")
    by_month = by_month.reindex(months, fill_value=0).rename_axis("month").reset_index()
    report.images["victims_by_month"] = figures.data_uri(
        figures.casualties_by_month(by_month, title=f"Victims per month, last {CHART_MONTHS}")
    )
    trend = report.to_date.tables["casualty_trend"]
    report.images["casualty_trend"] = figures.data_uri(figures.casualty_trend(trend))
    report.tables["casualty_trend"] = html_table(
        trend,
        [
            Column("year", "Year", "text"),
            Column("accidents", "Accidents"),
            Column("killed", "Killed"),
            Column("injured", "Injured"),
            Column("victims", "Victims"),
            Column("change_pct", "Change", "pct"),
        ],
    )
    report.tables["hotspots"] = html_table(
        report.to_date.tables["hotspots"],
        [
            Column("cluster", "#"),
            Column("settlement", "Nearest settlement", "text"),
            Column("district", "District", "text"),
            Column("accidents", "Accidents"),
            Column("victims", "Victims"),
            Column("killed", "Killed"),
            Column("radius_m", "Radius (m)", "m"),
            Column("first", "First", "date"),
            Column("last", "Last", "date"),
        ],
        max_rows=10,
    )
    hotspots = report.to_date.hotspots
    if hotspots is not None:
        report.notes["hotspots"] = (
            f"Accidents within {hotspots.eps_m / 1000:g} km and {hotspots.eps_days:g} days of "
            f"each other, at least {hotspots.min_accidents} to a cluster (DBSCAN)."
        )
    links = report.to_date.tables["accident_links"]
    if not links.empty:
        outside = links[~links["inside"].astype(bool)]
        median = outside["distance_m"].median()
        report.notes["links"] = (
            f"{int(links['inside'].sum())} of {len(links)} accidents to date happened inside a "
            "recorded hazard"
            + (
                f"; the others a median {fmt(median, 'm')} m from the nearest one."
                if len(outside) and pd.notna(median)
                else "."
            )
        )
    month_acc = s.accidents(records, report.period)
    month_links = report.this_month.tables["accident_links"].set_index("id")
    for _, row in month_acc.sort_values("occurred_on").iterrows():
        link = month_links.loc[row["id"]] if row["id"] in month_links.index else None
        where = "–"
        if link is not None and pd.notna(link["hazard_ref"]):
            where = (
                f"inside {link['hazard_ref']}"
                if bool(link["inside"])
                else f"{fmt(link['distance_m'], 'm')} m from {link['hazard_ref']}"
            )
        report.accidents_this_month.append(
            {
                "ref": str(row["ref"]),
                "date": fmt(row["occurred_on"], "date"),
                "district": str(row["district"]),
                "activity": fmt(row["activity"], "text"),
                "device": fmt(row["device_category"], "text"),
                "killed": str(row["killed"]),
                "injured": str(row["injured"]),
                "hazard": where,
            }
        )


def _eore_and_resources(report: MonthlyReport) -> None:
    eore_columns = [
        Column("method", "Method", "text"),
        Column("sessions", "Sessions"),
        Column("men", "Men"),
        Column("women", "Women"),
        Column("boys", "Boys"),
        Column("girls", "Girls"),
        Column("beneficiaries", "Total"),
        Column("materials", "Materials"),
    ]
    report.tables["eore_month"] = html_table(
        report.this_month.tables["eore_by_method"], eore_columns, total=True
    )
    report.tables["eore_to_date"] = html_table(
        report.to_date.tables["eore_by_method"], eore_columns, total=True
    )
    report.tables["settlements_without_eore"] = html_table(
        report.this_month.tables["settlements_without_eore"],
        [
            Column("settlement", "Settlement", "text"),
            Column("district", "District", "text"),
            Column("accidents", "Accidents"),
            Column("victims", "Victims"),
            Column("last_accident", "Last accident", "date"),
            Column("last_eore", "Last EORE", "date"),
        ],
        max_rows=15,
    )
    report.tables["teams_and_staff"] = html_table(
        report.this_month.tables["teams_and_staff"],
        [
            Column("type", "Type", "text"),
            Column("teams", "Teams"),
            Column("staff_male", "Men"),
            Column("staff_female", "Women"),
            Column("staff", "Staff"),
            Column("assets", "Assets"),
            Column("deminers", "Deminers on assets"),
        ],
        total=True,
    )


def _situation_map(
    report: MonthlyReport, records: s.Records, map_dir: Path | None, dem_path: Path | None
) -> None:
    assert report.period.end is not None
    open_now = s.hazards_remaining(records, report.period.end)
    hazards = records.geo("hazards")
    hazards = hazards[hazards["id"].isin(open_now["id"])]
    released = records.geo("releases")
    released = released[report.period.mask(released["released_on"])]
    acc = records.geo("accidents")
    before = acc[acc["occurred_on"] < _start(report)]
    now = acc[report.period.mask(acc["occurred_on"])]
    risk = None
    if map_dir is not None:
        candidate = map_dir / "risk.tif"
        if not candidate.exists():
            raise InputFileError(map_dir, "has no risk.tif (give a folder from hazard-map build)")
        risk = candidate
    fig = figures.situation_map(
        districts=records.geo("districts"),
        hazards=hazards,
        released=released,
        accidents_before=before,
        accidents_now=now,
        settlements=records.geo("settlements"),
        risk_path=risk,
        dem_path=dem_path,
        title=(
            "Hazard map, open hazards, land released and accidents"
            if risk
            else "Open hazards, land released and accidents"
        ),
    )
    report.images["situation_map"] = figures.data_uri(fig, dpi=170)


def _plan(report: MonthlyReport, records: s.Records) -> None:
    assert report.period.end is not None
    rel = s.releases(records, report.period.to_date())
    actual = pd.Series(dtype="float64")
    if not rel.empty:
        per_month = rel.groupby(rel["released_on"] + pd.offsets.MonthEnd(0))["area_m2"].sum()
        actual = per_month.sort_index().cumsum()
    curve = report.forecast.curve if report.forecast is not None else None
    if curve is not None and not curve.empty and not actual.empty:
        # the forecast counts from where records end: put the released total under its band
        start = curve["month"].min()
        base = float(actual[actual.index < start].iloc[-1]) if (actual.index < start).any() else 0
        if float(curve["p50"].iloc[0]) < base * 0.5:
            curve = curve.assign(**{b: curve[b] + base for b in ("p10", "p50", "p90")})
        # the band starts where the released line ends
        last = actual[actual.index < start]
        if not last.empty:
            joint = pd.DataFrame(
                {"month": [last.index[-1]], **{b: [base] for b in ("p10", "p50", "p90")}}
            )
            curve = pd.concat([joint, curve], ignore_index=True)
    remaining = report.this_month.figures["area_remaining_m2"]
    total = float(actual.iloc[-1]) + remaining if not actual.empty else remaining
    report.images["forecast"] = figures.data_uri(
        figures.forecast_progress(actual, curve, total_m2=total or None)
    )


# --- writing -----------------------------------------------------------------------------------


def render_monthly(report: MonthlyReport, *, authority: str = AUTHORITY) -> str:
    """The report as one self-contained HTML page."""
    return render(
        "monthly.html.j2",
        r=report,
        f=report.this_month.figures,
        ytd=report.year_to_date.figures,
        all=report.to_date.figures,
        authority=authority,
        month_name=_start(report).strftime("%B %Y"),
        narrative=narrative(report),
    )


def _n(count: Any, one: str, many: str | None = None) -> str:
    """``3 people``, ``1 accident``: a count with its noun."""
    word = one if count == 1 else (many or one + "s")
    return f"{fmt(count)} {word}"


def narrative(report: MonthlyReport) -> list[str]:
    """The month in a few sentences, from the same figures as the tables."""
    f = report.this_month.figures
    name = _start(report).strftime("%B %Y")
    if report.empty:
        return [f"No record is dated in {name}: nothing was released, found or reported."]
    out = [
        f"In {name}, {fmt(f['area_released_m2'], 'ha')} ha of land were released: "
        f"{fmt(f['area_cancelled_m2'], 'ha')} ha cancelled by non-technical survey, "
        f"{fmt(f['area_reduced_m2'], 'ha')} ha reduced by technical survey and "
        f"{fmt(f['area_cleared_m2'], 'ha')} ha cleared. "
        f"{_n(f['devices_found'], 'explosive device')} found, "
        f"{fmt(f['devices_destroyed'])} destroyed."
    ]
    if f["accidents"]:
        groups = ", ".join(
            _n(f[f"victims_{g}"], g, plural)
            for g, plural in (
                ("civilian", "civilians"),
                ("military", "military"),
                ("deminer", "deminers"),
            )
            if f[f"victims_{g}"]
        )
        children = f" including {_n(f['victims_child'], 'child', 'children')}" * bool(
            f["victims_child"]
        )
        out.append(
            f"{_n(f['accidents'], 'accident')} killed {fmt(f['victims_killed'])} and injured "
            f"{fmt(f['victims_injured'])} ({groups}{children})."
        )
    else:
        out.append("No mine or explosive ordnance accident was recorded.")
    if f["eore_sessions"]:
        out.append(
            f"Risk education reached {_n(f['eore_beneficiaries'], 'person', 'people')} in "
            f"{_n(f['eore_sessions'], 'session')}."
        )
    else:
        out.append("No risk-education session was recorded.")
    out.append(
        f"At the end of the month {_n(f['hazards_remaining'], 'hazardous area')} remained "
        f"open, covering {fmt(f['area_remaining_m2'], 'ha')} ha."
    )
    forecast = report.forecast
    if forecast is not None and forecast.p50 is None and forecast.horizon_end is not None:
        share = forecast.share_by_horizon
        out.append(
            f"At the planned pace clearance does not finish by {forecast.horizon_end:%B %Y}, "
            "the end of the forecast"
            + ("" if share is None else f": {100 * share:.0f}% of the area is released by then")
            + " (P50). More assets are needed."
        )
    if report.forecast is not None and report.forecast.p50 is not None:
        out.append(
            f"The completion forecast puts the end of clearance in "
            f"{report.forecast.p50:%B %Y} (P50), and by {_month_name(report.forecast.p90)} "
            "with 90% confidence."
        )
    return out


def _month_name(value: dt.date | None) -> str:
    return f"{value:%B %Y}" if value else "an unknown date"


def write_monthly(
    source: s.Source,
    month: str,
    out: Path,
    *,
    map_dir: Path | None = None,
    plan_dir: Path | None = None,
    dem_path: Path | None = None,
    authority: str = AUTHORITY,
) -> ReportFiles:
    """Write the report for ``month`` to ``out`` (PDF), with ``.html`` and ``.json`` beside it.

    ``dem_path``: a DEM to draw the terrain under the month's map (the store's ``dem``).
    """
    report = build_monthly(source, month, map_dir=map_dir, plan_dir=plan_dir, dem_path=dem_path)
    html = render_monthly(report, authority=authority)
    return write_report(out, html, report.figures())
