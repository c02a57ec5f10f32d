"""Spatial cross-validation: how well a model ranks land it has never seen.

:func:`cross_validate` holds out whole groups (leave-one-group-out, or groups
spread over ``n_folds`` folds; see :mod:`minemap.risk.folds`), trains on the
rest with the full recipe of :func:`minemap.risk.model.fit` (which itself
chooses hyper-parameters and calibrates by an *inner* group cross-validation
on the training rows only: nested, so the held-out group never influences
any choice), and predicts every held-out row, labelled or not. It reports
ROC-AUC and average precision per held-out group and pooled over all
out-of-fold predictions of labelled rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from minemap.errors import ConfigError
from minemap.progress import track
from minemap.risk.folds import group_splits
from minemap.risk.model import ModelOptions, as_labels, check_labels, fit


class Predictor(Protocol):
    """What a fitter returns: anything that gives probabilities for rows."""

    def predict_proba(
        self, X: pd.DataFrame, *, xy: np.ndarray | None = ..., groups: np.ndarray | None = ...
    ) -> np.ndarray: ...


#: ``fitter(X_train, y_train, groups_train, xy_train, options) -> Predictor``; ``X_train``
#: keeps the index of the rows of ``X`` it was cut from.
Fitter = Callable[
    [pd.DataFrame, np.ndarray, np.ndarray, "np.ndarray | None", ModelOptions], Predictor
]


def _default_fitter(
    X: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray,
    xy: np.ndarray | None,
    options: ModelOptions,
) -> Predictor:
    return fit(X, y, groups, xy=xy, options=options)


@dataclass
class CVResult:
    """Out-of-fold predictions and their scores.

    ``oof`` is a probability for every row of the input, in order (unknown
    rows included, predicted by the model of the fold that held their group
    out). ``per_group`` has one row per group: rows, labelled, positives,
    negatives, unknown, ``roc_auc`` and ``average_precision`` (NaN where the
    group lacks a class), and the recipe its fold chose.
    """

    oof: np.ndarray
    per_group: pd.DataFrame
    pooled_auc: float
    pooled_ap: float
    folds: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> str:
        """One line: pooled ROC-AUC and average precision."""
        return f"pooled ROC-AUC {self.pooled_auc:.3f}, average precision {self.pooled_ap:.3f}"


def scores(labels: np.ndarray, probability: np.ndarray) -> tuple[float, float]:
    """ROC-AUC and average precision over the labelled rows (NaN where undefined)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    labels = np.asarray(labels)
    probability = np.asarray(probability, dtype=float)
    keep = (labels >= 0) & np.isfinite(probability)
    y, p = labels[keep], probability[keep]
    auc = float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else math.nan
    ap = float(average_precision_score(y, p)) if (y == 1).any() else math.nan
    return auc, ap


def cross_validate(
    X: pd.DataFrame,
    y: Any,
    groups: Any,
    *,
    xy: np.ndarray | None = None,
    options: ModelOptions | None = None,
    n_folds: int | None = None,
    fitter: Fitter | None = None,
) -> CVResult:
    """Spatial cross-validation of the risk model on the rows of ``X``.

    ``y`` is 1/0/-1 (unknown) per row; ``groups`` the group of each row;
    ``n_folds`` None holds out one group at a time, an integer spreads the
    groups over that many folds (use it with many small blocks). ``fitter``
    replaces :func:`minemap.risk.model.fit` (tests use it to watch which
    rows reach training).
    """
    options = options or ModelOptions()
    fitter = fitter or _default_fitter
    labels = as_labels(y)
    if len(labels) != len(X):
        msg = f"{len(labels)} labels for {len(X)} rows"
        raise ConfigError(msg)
    check_labels(labels)
    if groups is None:
        msg = "cross-validation needs a group for every row"
        raise ConfigError(msg)
    group_names = np.asarray(groups).astype(str)
    if len(group_names) != len(X):
        msg = f"{len(group_names)} groups for {len(X)} rows"
        raise ConfigError(msg)
    labelled_groups = np.unique(group_names[labels >= 0])
    if len(labelled_groups) < 2:
        msg = (
            f"cross-validation needs labelled rows in at least two groups, found "
            f"{len(labelled_groups)} ({', '.join(labelled_groups[:3])})"
        )
        raise ConfigError(msg)
    coords = None if xy is None else np.asarray(xy, dtype=float)

    oof = np.full(len(X), np.nan)
    fold_of_row = np.full(len(X), -1)
    folds: list[dict[str, Any]] = []
    splits = list(group_splits(group_names, labels >= 0, n_folds))
    for i, (name, train, held) in enumerate(track(splits, "cross-validating")):
        train_labels = labels[train]
        fold: dict[str, Any] = {"fold": name, "held_out": sorted(set(group_names[held].tolist()))}
        if not ((train_labels == 1).any() and (train_labels == 0).any()):
            # training rows of one class cannot make a model; the held-out rows stay unscored
            fold["skipped"] = "training rows hold only one class"
            folds.append(fold)
            continue
        model = fitter(
            X.iloc[train],
            train_labels,
            group_names[train],
            None if coords is None else coords[train],
            options,
        )
        oof[held] = model.predict_proba(
            X.iloc[held],
            xy=None if coords is None else coords[held],
            groups=group_names[held],
        )
        fold_of_row[held] = i
        metadata = getattr(model, "metadata", {})
        fold["chosen"] = metadata.get("chosen")
        fold["inner_cv"] = metadata.get("inner_cv")
        folds.append(fold)

    per_group = _per_group(labels, oof, group_names, fold_of_row, folds)
    pooled_auc, pooled_ap = scores(labels, oof)
    return CVResult(
        oof=oof, per_group=per_group, pooled_auc=pooled_auc, pooled_ap=pooled_ap, folds=folds
    )


def _per_group(
    labels: np.ndarray,
    oof: np.ndarray,
    groups: np.ndarray,
    fold_of_row: np.ndarray,
    folds: list[dict[str, Any]],
) -> pd.DataFrame:
    rows = []
    for group in sorted(set(groups.tolist())):
        mask = groups == group
        lab = labels[mask]
        auc, ap = scores(lab, oof[mask])
        fold = fold_of_row[mask][0]
        rows.append(
            {
                "group": group,
                "rows": int(mask.sum()),
                "labelled": int((lab >= 0).sum()),
                "positives": int((lab == 1).sum()),
                "negatives": int((lab == 0).sum()),
                "unknown": int((lab == -1).sum()),
                "roc_auc": auc,
                "average_precision": ap,
                "chosen": folds[fold].get("chosen") if fold >= 0 else None,
            }
        )
    return pd.DataFrame(rows)
