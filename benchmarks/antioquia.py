"""Real data: leave-one-municipality-out on the Antioquia table (RELand, 19 municipalities).

Holds out one municipality at a time and prints ROC-AUC and average precision
per municipality and pooled over all out-of-fold predictions, for

* **plain**: LightGBM with its default parameters (100 rounds) on every
  numeric column, coordinates included, labelled rows only: what one gets
  by pointing a gradient-boosting library at the table;
* **plain, no coords**: the same without the coordinate columns;
* **minemap**: ``minemap model cv`` as shipped (nested recipe selection and
  calibration inside the training municipalities only, spatial evidence,
  unknown cells never negatives).

The held-out municipality never influences any choice of minemap's: every
hyper-parameter and recipe is chosen by group cross-validation inside the
training municipalities (see ``minemap.risk.model``). Timings on a shared
machine are noisy.

Reproduce: ``.venv/bin/python benchmarks/antioquia.py [--table FILE] [--threads N]``
or the command itself: ``minemap model cv --table ../shared/data/reland/antioquia_grid.csv
--label mines_outcome --group Municipio --unknown -1``.
Target: pooled ROC-AUC at least 0.75 (the authors' 2022 prototype: about 0.57).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from minemap.risk.folds import group_splits
from minemap.risk.model import ModelOptions
from minemap.risk.table import prepare_table, read_table
from minemap.risk.validation import cross_validate, scores

DEFAULT_TABLE = Path(__file__).resolve().parents[2] / "shared/data/reland/antioquia_grid.csv"
COMMAND = (
    "minemap model cv --table ../shared/data/reland/antioquia_grid.csv "
    "--label mines_outcome --group Municipio --unknown -1"
)


def plain_lightgbm(
    frame: pd.DataFrame, labels: np.ndarray, groups: np.ndarray, threads: int
) -> np.ndarray:
    """Out-of-fold probabilities of default LightGBM on the numeric columns of ``frame``."""
    import lightgbm as lgb

    matrix = frame.to_numpy(dtype=float)
    oof = np.full(len(frame), np.nan)
    params = {"objective": "binary", "verbosity": -1, "seed": 0, "num_threads": threads}
    for _name, train, held in group_splits(groups, labels >= 0):
        train = train[labels[train] >= 0]
        data = lgb.Dataset(matrix[train], label=labels[train])
        booster = lgb.train(params, data, num_boost_round=100)
        oof[held] = booster.predict(matrix[held])
    return oof


def _fmt(value: float) -> str:
    return "  n/a" if math.isnan(value) else f"{value:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", type=Path, default=DEFAULT_TABLE)
    parser.add_argument("--threads", type=int, default=1, help="LightGBM threads")
    args = parser.parse_args()
    if not args.table.exists():
        print(f"skipped: {args.table} not found (the RELand table lives in shared/data/reland)")
        return 0

    frame = read_table(args.table)
    table = prepare_table(
        frame,
        path=args.table,
        label="mines_outcome",
        unknown="-1",
        group="Municipio",
    )
    assert table.labels is not None
    assert table.groups is not None
    labels, groups = table.labels, table.groups
    numeric = frame.drop(columns=[table.label_column or "", table.group_column or ""])
    numeric = numeric.select_dtypes("number")
    coordinates = list(table.coordinates or ())

    results: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    results["plain"] = plain_lightgbm(numeric, labels, groups, args.threads)
    seconds["plain"] = time.perf_counter() - start
    start = time.perf_counter()
    results["plain, no coords"] = plain_lightgbm(
        numeric.drop(columns=coordinates), labels, groups, args.threads
    )
    seconds["plain, no coords"] = time.perf_counter() - start
    start = time.perf_counter()
    cv = cross_validate(
        table.feature_frame(),
        labels,
        groups,
        xy=table.xy,
        options=ModelOptions(num_threads=args.threads),
    )
    results["minemap"] = cv.oof
    seconds["minemap"] = time.perf_counter() - start

    names = list(results)
    width = max(len(str(g)) for g in np.unique(groups)) + 2
    header = f"{'municipality':<{width}}{'pos':>5}{'neg':>5}"
    header += "".join(f"  {n + ' AUC':>22}  {'AP':>6}" for n in names)
    print(header)
    for group in sorted(set(groups.tolist())):
        mask = groups == group
        line = f"{group:<{width}}{int((labels[mask] == 1).sum()):>5}"
        line += f"{int((labels[mask] == 0).sum()):>5}"
        for name in names:
            auc, ap = scores(labels[mask], results[name][mask])
            line += f"  {_fmt(auc):>22}  {_fmt(ap):>6}"
        print(line)
    line = f"{'pooled':<{width}}{int((labels == 1).sum()):>5}{int((labels == 0).sum()):>5}"
    for name in names:
        auc, ap = scores(labels, results[name])
        line += f"  {_fmt(auc):>22}  {_fmt(ap):>6}"
    print(line)
    print()
    for name in names:
        auc, ap = scores(labels, results[name])
        print(
            f"{name:<18} pooled ROC-AUC {auc:.3f}  average precision {ap:.3f}  "
            f"({seconds[name]:.0f} s)"
        )
    chosen = pd.Series([f.get("chosen") for f in cv.folds]).value_counts()
    print("recipes chosen by the inner CV:", ", ".join(f"{k} x{v}" for k, v in chosen.items()))
    print(f"reproduce: .venv/bin/python benchmarks/antioquia.py   or   {COMMAND}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
