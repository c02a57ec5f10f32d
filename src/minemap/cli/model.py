"""``minemap model cv|fit|predict``: the risk model on any analyst's feature table.

A thin layer over :mod:`minemap.risk`: read the table as it is
(:func:`~minemap.risk.table.read_table`), find the columns
(:func:`~minemap.risk.table.prepare_table`), then cross-validate, fit or
predict. Outputs are written to a temporary file and renamed, so a failure
never leaves half a file. The model library is imported when a command runs,
not when ``minemap`` starts.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from minemap.cli.options import seed_option
from minemap.errors import InputFileError
from minemap.files import replace_when_done

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from minemap.risk.model import ModelOptions, RiskModel
    from minemap.risk.table import PreparedTable
    from minemap.risk.validation import CVResult

F = TypeVar("F", bound=Callable[..., Any])


def _table_options(func: F) -> F:
    decorators = [
        click.option(
            "--table",
            "table_path",
            required=True,
            type=click.Path(dir_okay=False, path_type=Path),
            help="Feature table: CSV (any encoding), XLSX, Parquet or a vector layer.",
        ),
        click.option("--sheet", "layer", default=None, help="Sheet or layer name to read."),
        click.option(
            "--features",
            "features",
            multiple=True,
            metavar="COLS",
            help="Feature columns to use (comma-separated or repeated); default: every "
            "column but the label, group and identifier-like ones.",
        ),
        click.option(
            "--use-coordinates",
            is_flag=True,
            help="Also use the coordinate columns as features (off by default: they "
            "let a model memorise places).",
        ),
        click.option("--x", "x_column", default=None, help="X (or longitude) column."),
        click.option("--y", "y_column", default=None, help="Y (or latitude) column."),
        click.option(
            "--crs",
            default=None,
            help="CRS of the coordinates (default: degrees when they fit, else metres).",
        ),
        click.option(
            "--no-evidence",
            is_flag=True,
            help="Do not derive spatial-evidence features (labels found nearby in other "
            "groups) from the coordinates.",
        ),
        click.option(
            "--threads",
            type=click.IntRange(min=0),
            default=0,
            show_default=True,
            help="LightGBM threads (0: all cores).",
        ),
        seed_option,
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _label_options(func: F) -> F:
    func = click.option(
        "--unknown",
        default=None,
        metavar="VALUE",
        help="Label value meaning 'no information' (never treated as negative).",
    )(func)
    return click.option("--label", required=True, metavar="COL", help="Label column.")(func)


def _split_features(features: tuple[str, ...], columns: list[str], path: Path) -> list[str] | None:
    """Feature names from repeated or comma-separated ``--features`` values.

    Headers may hold commas themselves ("Homicidio, Masacre"), so a value
    that names a column as a whole is kept whole; otherwise it is split on
    commas.
    """
    from minemap.risk.table import find_column

    names: list[str] = []
    for item in features:
        try:
            names.append(find_column(columns, item, path=path, role="feature"))
        except InputFileError:
            if "," not in item:
                raise
            names += [part.strip() for part in item.split(",") if part.strip()]
    return names or None


def _options(seed: int | None, threads: int, no_evidence: bool) -> ModelOptions:
    from minemap.risk.model import ModelOptions
    from minemap.settings import get_settings

    return ModelOptions(
        seed=get_settings().seed if seed is None else seed,
        num_threads=threads,
        evidence=not no_evidence,
    )


@contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Show the model's warnings (missing features...) as ``Warning: ...`` lines."""
    from minemap.risk.model import MissingFeatureWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MissingFeatureWarning)
        yield
    for warning in caught:
        if issubclass(warning.category, MissingFeatureWarning):
            click.echo(f"Warning: {warning.message}", err=True)
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` through a temporary file (never half-written)."""
    with replace_when_done(path) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8")


def _with_probability(frame: pd.DataFrame, probability: np.ndarray) -> pd.DataFrame:
    out = frame.copy()
    if "probability" in out.columns:
        click.echo("Warning: the table's own 'probability' column is replaced", err=True)
    out["probability"] = probability
    return out


def _prepare(
    table_path: Path,
    layer: str | None,
    *,
    label: str | None,
    unknown: str | None,
    group: str | None,
    features: tuple[str, ...],
    use_coordinates: bool,
    x_column: str | None,
    y_column: str | None,
    crs: str | None,
) -> PreparedTable:
    from minemap.risk.table import prepare_table, read_table

    frame = read_table(table_path, layer=layer)
    return prepare_table(
        frame,
        path=table_path,
        label=label,
        unknown=unknown,
        group=group,
        features=_split_features(features, list(frame.columns), table_path),
        use_coordinates=use_coordinates,
        x=x_column,
        y=y_column,
        crs=crs,
    )


def _fmt(value: object) -> str:
    if not isinstance(value, float | int) or math.isnan(value):
        return "n/a"
    return f"{value:.3f}"


def _print_cv(result: CVResult, group_label: str) -> None:
    table = result.per_group
    width = max([len(group_label), *(len(str(g)) for g in table["group"])])
    click.echo(
        f"{group_label:<{width}}  {'labelled':>8}  {'pos':>5}  {'neg':>5}  "
        f"{'ROC-AUC':>7}  {'AP':>6}  recipe"
    )
    for row in table.to_dict("records"):
        click.echo(
            f"{row['group']!s:<{width}}  {row['labelled']:>8}  {row['positives']:>5}  "
            f"{row['negatives']:>5}  {_fmt(row['roc_auc']):>7}  "
            f"{_fmt(row['average_precision']):>6}  {row['chosen'] or '-'}"
        )
    labelled = int(table["labelled"].sum())
    click.echo(
        f"{'pooled':<{width}}  {labelled:>8}  {int(table['positives'].sum()):>5}  "
        f"{int(table['negatives'].sum()):>5}  {_fmt(result.pooled_auc):>7}  "
        f"{_fmt(result.pooled_ap):>6}"
    )
    click.echo(f"pooled out-of-fold ROC-AUC {_fmt(result.pooled_auc)}")
    click.echo(f"pooled out-of-fold average precision {_fmt(result.pooled_ap)}")


@click.group("model")
def model() -> None:
    """Train, validate and apply the risk model on any feature table."""


@model.command("cv")
@_table_options
@_label_options
@click.option("--group", default=None, metavar="COL", help="Group column: one held out at a time.")
@click.option(
    "--block-size",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="M",
    help="Instead of --group: square blocks of M metres over the coordinates.",
)
@click.option(
    "--folds",
    "n_folds",
    type=click.IntRange(min=2),
    default=None,
    help="Spread the groups over N folds instead of holding out one group at a time.",
)
@click.option(
    "--oof",
    "oof_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the table with an out-of-fold 'probability' column (CSV).",
)
def cv(
    *,
    table_path: Path,
    layer: str | None,
    features: tuple[str, ...],
    use_coordinates: bool,
    x_column: str | None,
    y_column: str | None,
    crs: str | None,
    no_evidence: bool,
    threads: int,
    seed: int | None,
    label: str,
    unknown: str | None,
    group: str | None,
    block_size: float | None,
    n_folds: int | None,
    oof_path: Path | None,
) -> None:
    """Spatial cross-validation: hold out whole groups, print ROC-AUC and AP per group and pooled.

    Hyper-parameters are chosen inside each training fold only (nested). Rows
    with the unknown label get a probability from the model of their fold
    but never count in the scores.
    """
    from minemap.risk.folds import square_blocks
    from minemap.risk.validation import cross_validate

    if group is None and block_size is None:
        msg = "give --group COL (e.g. a district column) or --block-size M with coordinates"
        raise click.UsageError(msg)
    table = _prepare(
        table_path,
        layer,
        label=label,
        unknown=unknown,
        group=group,
        features=features,
        use_coordinates=use_coordinates,
        x_column=x_column,
        y_column=y_column,
        crs=crs,
    )
    assert table.labels is not None
    if table.groups is not None:
        groups = table.groups
        group_label = table.group_column or "group"
    else:
        if table.xy is None:
            msg = "--block-size needs coordinates: give --x and --y"
            raise InputFileError(table_path, msg)
        groups = square_blocks(table.xy, float(block_size or 0))
        group_label = f"block ({block_size:g} m)"
    labelled_groups = sorted(set(groups[table.labels >= 0].tolist()))
    if len(labelled_groups) < 2:
        which = f"group column {table.group_column!r}" if table.group_column else "the blocks"
        msg = (
            f"{which} has labelled rows in only one group ({labelled_groups[0]!r}): "
            "cross-validation needs at least two"
        )
        raise InputFileError(table_path, msg)
    options = _options(seed, threads, no_evidence)
    with _warnings_as_lines():
        result = cross_validate(
            table.feature_frame(),
            table.labels,
            groups,
            xy=table.xy if options.evidence else None,
            options=options,
            n_folds=n_folds,
        )
    _print_cv(result, group_label)
    if oof_path is not None:
        _write_csv(_with_probability(table.frame, result.oof), oof_path)
        click.echo(f"out-of-fold probabilities: {oof_path}")


@model.command("fit")
@_table_options
@_label_options
@click.option(
    "--group",
    default=None,
    metavar="COL",
    help="Group column for the inner cross-validation (default: square blocks over the "
    "coordinates, or runs of rows).",
)
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Model file to write (a zip of JSON and LightGBM text).",
)
def fit_command(
    *,
    table_path: Path,
    layer: str | None,
    features: tuple[str, ...],
    use_coordinates: bool,
    x_column: str | None,
    y_column: str | None,
    crs: str | None,
    no_evidence: bool,
    threads: int,
    seed: int | None,
    label: str,
    unknown: str | None,
    group: str | None,
    out_path: Path,
) -> None:
    """Train a calibrated model on the labelled rows and save it to MODEL."""
    from minemap.risk.model import fit

    table = _prepare(
        table_path,
        layer,
        label=label,
        unknown=unknown,
        group=group,
        features=features,
        use_coordinates=use_coordinates,
        x_column=x_column,
        y_column=y_column,
        crs=crs,
    )
    assert table.labels is not None
    options = _options(seed, threads, no_evidence)
    metadata = {
        "table": str(table_path),
        "label_column": table.label_column,
        "unknown_value": unknown,
        "group_column": table.group_column,
        "coordinates": list(table.coordinates) if table.coordinates else None,
        "crs": table.crs,
        "coordinate_crs": table.source_crs,
        "excluded_columns": table.excluded,
    }
    with _warnings_as_lines():
        model_ = fit(
            table.feature_frame(),
            table.labels,
            table.groups,
            xy=table.xy if options.evidence else None,
            options=options,
            metadata=metadata,
        )
    model_.save(out_path)
    info = model_.metadata
    click.echo(
        f"trained on {info['positives']} positive and {info['negatives']} negative rows "
        f"({info['unknown']} unknown), {info['groups']} groups ({info['group_origin']})"
    )
    for entry in info["inner_cv"]:
        mark = "*" if entry["candidate"] == info["chosen"] else " "
        click.echo(f" {mark} {entry['candidate']:<22} inner-CV ROC-AUC {_fmt(entry['inner_auc'])}")
    if info["dropped_features"]:
        click.echo(f"dropped: {', '.join(info['dropped_features'])} (constant within each group)")
    click.echo(f"{len(model_.feature_names)} model inputs; model written to {out_path}")


@model.command("predict")
@click.option(
    "--model",
    "model_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Model file written by 'minemap model fit'.",
)
@click.option(
    "--table",
    "table_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Feature table to score.",
)
@click.option("--sheet", "layer", default=None, help="Sheet or layer name to read.")
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV to write: the table's rows in order with a 'probability' column.",
)
@click.option(
    "--explain",
    "explain_top",
    type=click.IntRange(min=0),
    default=0,
    help="Also write the N largest feature contributions of each row.",
)
def predict(
    *,
    model_path: Path,
    table_path: Path,
    layer: str | None,
    out_path: Path,
    explain_top: int,
) -> None:
    """Score every row of a table with a saved model, keeping row order."""
    from minemap.risk.model import RiskModel
    from minemap.risk.table import read_table

    model_ = RiskModel.load(model_path)
    frame = read_table(table_path, layer=layer)
    xy, groups = _prediction_context(model_, frame, table_path)
    with _warnings_as_lines():
        probability = model_.predict_proba(frame, xy=xy, groups=groups)
        out = _with_probability(frame, probability)
        if explain_top:
            reasons = model_.explain(frame, top=explain_top, xy=xy, groups=groups)
            for column in reasons.columns:
                out[column] = reasons[column].to_numpy()
    _write_csv(out, out_path)
    click.echo(f"{len(out)} rows scored: {out_path}")


def _prediction_context(
    model_: RiskModel, frame: pd.DataFrame, path: Path
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Coordinates and groups of the table, found under the names the model was trained with."""
    from minemap.risk.table import UNSTATED_METRES, find_column, metric_coordinates

    meta = model_.metadata
    xy = None
    coordinates = meta.get("coordinates")
    if model_.evidence is not None and coordinates:
        try:
            x = find_column(frame.columns, coordinates[0], path=path, role="x coordinate")
            y = find_column(frame.columns, coordinates[1], path=path, role="y coordinate")
        except InputFileError:
            x = y = ""
        if x and y:
            crs = meta.get("crs")
            target = None if crs in (None, UNSTATED_METRES) else crs
            xy, _, _ = metric_coordinates(
                frame[x], frame[y], crs=meta.get("coordinate_crs"), target=target
            )
    groups = None
    group_column = meta.get("group_column")
    if group_column:
        try:
            column = find_column(frame.columns, group_column, path=path, role="group")
            groups = frame[column].astype(str).to_numpy(dtype=object)
        except InputFileError:
            groups = None
    return xy, groups
