"""Spatial cross-validation: held-out groups never reach training; out-of-fold in row order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from minemap.errors import ConfigError
from minemap.risk.folds import assign_folds, group_splits, row_chunks, square_blocks
from minemap.risk.model import Candidate, ModelOptions
from minemap.risk.validation import cross_validate, scores
from tests.risk.tabledata import FEATURES, GROUP, LABEL, awkward_table

QUICK = ModelOptions(
    candidates=(Candidate("tiny", num_leaves=4, min_child_samples=5, num_boost_round=20),),
    inner_folds=2,
    num_threads=1,
)


class _Spy:
    """A fitter that records the rows it is given and predicts their mean label."""

    def __init__(self) -> None:
        self.calls: list[tuple[pd.Index, np.ndarray]] = []

    def __call__(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        groups: np.ndarray,
        xy: np.ndarray | None,
        options: ModelOptions,
    ) -> _Spy:
        self.calls.append((X.index.copy(), np.asarray(groups)))
        self.rate = float(np.mean(y[y >= 0]))
        return self

    def predict_proba(
        self, X: pd.DataFrame, *, xy: np.ndarray | None = None, groups: np.ndarray | None = None
    ) -> np.ndarray:
        return np.full(len(X), self.rate) + X.iloc[:, 0].to_numpy() * 1e-9


def test_held_out_group_never_reaches_training() -> None:
    frame = awkward_table(n_per_group=20)
    frame.index = pd.RangeIndex(1000, 1000 + len(frame))  # any index: positions still hold
    spy = _Spy()
    result = cross_validate(frame[list(FEATURES)], frame[LABEL], frame[GROUP], fitter=spy)
    assert len(spy.calls) == frame[GROUP].nunique()
    groups = frame[GROUP].to_numpy()
    for (index, train_groups), held in zip(spy.calls, result.folds, strict=True):
        held_rows = frame.index[np.isin(groups, held["held_out"])]
        assert not set(index) & set(held_rows)
        assert not set(train_groups) & set(held["held_out"])
        # and everything else does reach training, unknown rows included
        assert set(index) | set(held_rows) == set(frame.index)
    assert np.isfinite(result.oof).all()


def test_oof_is_in_row_order_and_covers_unknown_rows() -> None:
    frame = awkward_table(n_per_group=40)
    result = cross_validate(frame[list(FEATURES)], frame[LABEL], frame[GROUP], options=QUICK)
    assert result.oof.shape == (len(frame),)
    assert np.isfinite(result.oof).all()
    assert ((result.oof >= 0) & (result.oof <= 1)).all()
    assert set(result.per_group["group"]) == set(frame[GROUP])
    auc, ap = scores(frame[LABEL].to_numpy(), result.oof)
    assert auc == pytest.approx(result.pooled_auc)
    assert ap == pytest.approx(result.pooled_ap)
    # the signal in the table is learnable across groups
    assert result.pooled_auc > 0.6
    row = result.per_group.set_index("group").loc["NARI¥O"]
    assert row["labelled"] + row["unknown"] == row["rows"]


def test_groups_without_labels_are_predicted_by_a_model_that_never_saw_them() -> None:
    frame = awkward_table(n_per_group=20)
    extra = frame[frame[GROUP] == "GRANADA"].copy()
    extra[GROUP] = "NUEVO"
    extra[LABEL] = -1
    frame = pd.concat([frame, extra], ignore_index=True)
    spy = _Spy()
    result = cross_validate(frame[list(FEATURES)], frame[LABEL], frame[GROUP], fitter=spy)
    nuevo = frame.index[frame[GROUP] == "NUEVO"]
    assert np.isfinite(result.oof[nuevo]).all()
    assert any(set(nuevo).isdisjoint(index) for index, _ in spy.calls)


def test_n_folds_spreads_groups() -> None:
    frame = awkward_table(n_per_group=20)
    spy = _Spy()
    result = cross_validate(
        frame[list(FEATURES)], frame[LABEL], frame[GROUP], n_folds=2, fitter=spy
    )
    assert len(spy.calls) == 2
    assert sorted(len(f["held_out"]) for f in result.folds) == [2, 2]


def test_one_group_is_refused() -> None:
    frame = awkward_table(n_per_group=20)
    with pytest.raises(ConfigError, match="at least two groups"):
        cross_validate(frame[list(FEATURES)], frame[LABEL], np.full(len(frame), "ONE"))


def test_one_class_is_refused() -> None:
    frame = awkward_table(n_per_group=20)
    with pytest.raises(ConfigError, match="both classes"):
        cross_validate(frame[list(FEATURES)], np.ones(len(frame)), frame[GROUP])


def test_square_blocks() -> None:
    xy = np.array([[0.0, 0.0], [999.0, 10.0], [1000.0, 0.0], [2500.0, 1500.0], [np.nan, 1.0]])
    blocks = square_blocks(xy, 1000)
    assert blocks.tolist() == ["0_0", "0_0", "1_0", "2_1", "none"]
    with pytest.raises(ConfigError):
        square_blocks(xy, 0)


def test_folds_are_deterministic_and_balanced() -> None:
    groups = np.array(list("aaaabbbccd"))
    folds = assign_folds(groups, np.ones(len(groups)), 2)
    assert folds == assign_folds(groups[::-1], np.ones(len(groups)), 2)
    sizes = [sum(1 for g in groups if folds[g] == f) for f in (0, 1)]
    assert sorted(sizes) == [5, 5]
    splits = list(group_splits(groups, np.ones(len(groups), dtype=bool)))
    assert [name for name, _, _ in splits] == ["a", "b", "c", "d"]
    assert row_chunks(10, 3).tolist() == ["0", "0", "0", "0", "1", "1", "1", "2", "2", "2"]
