"""What the monthly and annual reports share: tables for templates, Jinja2, WeasyPrint.

Reports are HTML pages rendered from the templates in ``templates/`` with
their images inside (``data:`` URIs), so the ``.html`` written beside each PDF
is one self-contained file; WeasyPrint turns the same HTML into the PDF.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from minemap import __version__
from minemap.errors import MissingDependencyError
from minemap.files import replace_when_done

HA = 10_000.0


@dataclass(frozen=True)
class Column:
    """A column of a report table: the frame's column, its heading and how to show it.

    ``style``: ``text``, ``int``, ``ha`` (m² shown in hectares), ``m`` (metres),
    ``pct`` (a signed percentage), ``date``.
    """

    name: str
    heading: str
    style: str = "int"


@dataclass(frozen=True)
class HtmlTable:
    headings: list[str]
    numeric: list[bool]
    rows: list[list[str]]
    total: list[str] | None = None
    note: str = ""


def fmt(value: Any, style: str = "int") -> str:
    """One figure as printed in a report."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "–"
    if isinstance(value, float) and pd.isna(value):
        return "–"
    if style == "ha":
        return f"{float(value) / HA:,.1f}"
    if style == "m":
        return f"{float(value):,.0f}"
    if style == "pct":
        return f"{float(value):+.0f}%"
    if style == "date":
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if style == "int":
        return f"{round(float(value)):,}"
    if style == "float":
        return f"{float(value):,.1f}"
    return str(value).replace("_", " ")


def html_table(
    frame: pd.DataFrame,
    columns: Sequence[Column],
    *,
    total: bool = False,
    max_rows: int | None = None,
    note: str = "",
) -> HtmlTable:
    """Rows of strings for a template; ``total`` adds a sum row over numeric columns."""
    shown = frame if max_rows is None else frame.head(max_rows)
    # to_dict keeps each column's type (iterrows would turn a row of numbers into floats)
    rows = [[fmt(row[c.name], c.style) for c in columns] for row in shown.to_dict("records")]
    if max_rows is not None and len(frame) > max_rows:
        more = f"{len(frame) - max_rows} more not shown"
        note = f"{note} {more}".strip()
    total_row = None
    if total and not frame.empty:
        total_row = [
            fmt(frame[c.name].sum(), c.style) if c.style in ("int", "ha") else "" for c in columns
        ]
        total_row[0] = "Total"
    return HtmlTable(
        [c.heading for c in columns],
        [c.style not in ("text", "date") for c in columns],
        rows,
        total_row,
        note,
    )


def environment() -> Any:
    """The Jinja2 environment over the package's report templates."""
    import jinja2

    templates = resources.files("minemap.report") / "templates"
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = fmt
    return env


def render(template: str, **context: Any) -> str:
    css = (resources.files("minemap.report") / "templates" / "report.css").read_text("utf-8")
    return str(
        environment()
        .get_template(template)
        .render(
            css=css,
            version=__version__,
            generated_on=dt.date.today().isoformat(),
            **context,
        )
    )


@dataclass(frozen=True)
class ReportFiles:
    """The files of one report: the PDF, and the HTML and figures (JSON) beside it."""

    pdf: Path
    html: Path
    json: Path


def write_report(out: Path, html: str, figures: dict[str, Any]) -> ReportFiles:
    """Write a report to ``out`` (PDF) with ``.html`` and ``.json`` beside it, each whole."""
    files = ReportFiles(out, out.with_suffix(".html"), out.with_suffix(".json"))
    write_text_atomic(files.html, html)
    write_text_atomic(files.json, json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    write_pdf(html, files.pdf)
    return files


def write_text_atomic(path: Path, text: str) -> None:
    with replace_when_done(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_pdf(html: str, path: Path) -> Path:
    """The HTML as a PDF via WeasyPrint, written whole or not at all."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the Pango libraries are missing
        msg = (
            f"the PDF needs WeasyPrint and Pango ({exc}); install the 'weasyprint' package "
            "and Debian's libpango-1.0-0"
        )
        raise MissingDependencyError(msg) from exc
    with replace_when_done(path) as tmp:
        weasyprint.HTML(string=html, base_url=str(path.parent)).write_pdf(tmp)
    return path
