"""The risk model: nested selection, unknown rows, determinism, model file, predict, explain."""

from __future__ import annotations

import json
import warnings
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import minemap.risk.model as model_module
from minemap.errors import ConfigError, InputFileError
from minemap.risk.evidence import build_evidence
from minemap.risk.model import (
    Candidate,
    Ensemble,
    MissingFeatureWarning,
    ModelOptions,
    RiskModel,
    fit,
    group_constant_columns,
    infer_features,
)
from minemap.risk.table import metric_coordinates
from minemap.risk.validation import scores
from tests.risk.tabledata import FEATURES, GROUP, LABEL, awkward_table

QUICK = ModelOptions(
    candidates=(
        Candidate("tiny", num_leaves=4, min_child_samples=5, num_boost_round=30),
        Candidate(
            "tiny+background",
            num_leaves=4,
            min_child_samples=5,
            num_boost_round=30,
            background_weight=1.0,
        ),
    ),
    inner_folds=3,
    num_threads=1,
    selection="best",
)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return awkward_table(n_per_group=50)


@pytest.fixture(scope="module")
def xy(table: pd.DataFrame) -> np.ndarray:
    return metric_coordinates(table["LONGITUD_X"], table["LATITUD_Y"])[0]


@pytest.fixture(scope="module")
def trained(table: pd.DataFrame, xy: np.ndarray) -> RiskModel:
    return fit(table[list(FEATURES)], table[LABEL], table[GROUP], xy=xy, options=QUICK)


def test_fit_chooses_by_inner_cv_and_drops_group_constant(trained: RiskModel) -> None:
    meta = trained.metadata
    assert [r["candidate"] for r in meta["inner_cv"]] == ["tiny", "tiny+background"]
    best = max(meta["inner_cv"], key=lambda r: r["inner_auc"])
    assert meta["chosen"] == best["candidate"] == trained.recipe
    # "Víctimas " is constant within each municipality: it only names the group
    assert "Víctimas " in meta["dropped_features"]
    assert "Víctimas " not in [f.name for f in trained.features]
    assert trained.feature_names[-1] == "evidence_nearest_negative_m"
    assert meta["positives"] + meta["negatives"] + meta["unknown"] == meta["rows"]


def test_one_standard_error_rule_keeps_the_first_recipe_unless_clearly_beaten() -> None:
    rng = np.random.default_rng(5)
    n = 600
    labels = (rng.random(n) < 0.3).astype(np.int8)
    groups = np.repeat(np.arange(12).astype(str), n // 12)
    signal = labels + rng.normal(0, 1.0, n)
    first = signal + rng.normal(0, 0.5, n)
    slightly = signal + rng.normal(0, 0.45, n)  # a hair better, by chance
    clearly = labels * 3.0 + rng.normal(0, 0.3, n)  # far better
    options = ModelOptions(candidates=(Candidate("a"), Candidate("b"), Candidate("c")))
    report = [{"inner_auc": scores(labels, r)[0]} for r in (first, slightly, clearly)]
    assert (
        model_module._choose(np.vstack([first, slightly]), labels, groups, report[:2], options) == 0
    )
    assert report[1]["standard_error"] > 0
    chosen = model_module._choose(
        np.vstack([first, slightly, clearly]), labels, groups, report, options
    )
    assert chosen == 2
    best = replace(options, selection="best")
    assert model_module._choose(
        np.vstack([first, slightly]), labels, groups, report[:2], best
    ) == int(report[1]["inner_auc"] > report[0]["inner_auc"])


def test_categories_are_encoded(trained: RiskModel) -> None:
    soil = next(f for f in trained.features if f.name == "tipo_suelo")
    assert soil.kind == "category"
    assert soil.categories == ("arcilla", "arena", "roca")


def test_unknown_rows_are_never_negatives(
    monkeypatch: pytest.MonkeyPatch, table: pd.DataFrame
) -> None:
    seen: list[tuple[int, int, float]] = []
    real = model_module._train_booster

    def spy(matrix: np.ndarray, labels: np.ndarray, candidate: Candidate, **kw: Any) -> Any:
        seen.append((int((labels == -1).sum()), len(labels), candidate.background_weight))
        return real(matrix, labels, candidate, **kw)

    monkeypatch.setattr(model_module, "_train_booster", spy)
    options = ModelOptions(candidates=(QUICK.candidates[0],), inner_folds=2, num_threads=1)
    model = fit(table[list(FEATURES)], table[LABEL], table[GROUP], options=options)
    assert seen
    assert all(weight == 0 for _, _, weight in seen)
    # the calibrator learnt from labelled rows only
    labelled = int((table[LABEL] >= 0).sum())
    assert model.calibrator.details["rows"] <= labelled


def test_background_rows_are_weighted_negatives(monkeypatch: pytest.MonkeyPatch) -> None:
    captured: dict[str, Any] = {}
    import lightgbm as lgb

    real = lgb.Dataset

    def spy(data: Any, label: Any = None, weight: Any = None, **kw: Any) -> Any:
        captured["label"], captured["weight"] = np.asarray(label), np.asarray(weight)
        return real(data, label=label, weight=weight, **kw)

    monkeypatch.setattr(lgb, "Dataset", spy)
    matrix = np.arange(12, dtype=float).reshape(6, 2)
    labels = np.array([1, 0, -1, -1, 1, 0], dtype=np.int8)
    model_module._train_booster(
        matrix,
        labels,
        Candidate("b", num_boost_round=2, min_child_samples=1, background_weight=0.25),
        options=QUICK,
        monotone=[0, 0],
        categorical=[],
    )
    assert captured["label"].tolist() == [1, 0, 0, 0, 1, 0]
    assert captured["weight"].tolist() == [1, 1, 0.25, 0.25, 1, 1]


def test_deterministic_for_a_seed(table: pd.DataFrame, xy: np.ndarray, trained: RiskModel) -> None:
    again = fit(table[list(FEATURES)], table[LABEL], table[GROUP], xy=xy, options=QUICK)
    a = trained.predict_proba(table, xy=xy, groups=table[GROUP].to_numpy())
    b = again.predict_proba(table, xy=xy, groups=table[GROUP].to_numpy())
    assert np.array_equal(a, b)


def test_save_and_load_round_trip(
    tmp_path: Path, table: pd.DataFrame, xy: np.ndarray, trained: RiskModel
) -> None:
    path = trained.save(tmp_path / "risk.model")
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["booster_0.txt", "model.json"]
        document = json.loads(archive.read("model.json"))
    assert document["format"] == "minemap-risk-model"
    loaded = RiskModel.load(path)
    groups = table[GROUP].to_numpy()
    assert np.array_equal(
        loaded.predict_proba(table, xy=xy, groups=groups),
        trained.predict_proba(table, xy=xy, groups=groups),
    )
    assert loaded.feature_names == trained.feature_names
    assert loaded.metadata["chosen"] == trained.metadata["chosen"]


def test_load_refuses_other_files(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.model"
    bogus.write_text("not a zip", encoding="utf-8")
    with pytest.raises(InputFileError, match="not a minemap model file"):
        RiskModel.load(bogus)
    with pytest.raises(InputFileError, match="no such model file"):
        RiskModel.load(tmp_path / "missing.model")


def test_predict_keeps_row_order_and_count(
    table: pd.DataFrame, xy: np.ndarray, trained: RiskModel
) -> None:
    groups = table[GROUP].to_numpy()
    full = trained.predict_proba(table, xy=xy, groups=groups)
    order = np.random.default_rng(0).permutation(len(table))
    shuffled = trained.predict_proba(table.iloc[order], xy=xy[order], groups=groups[order])
    assert len(full) == len(table)
    assert np.allclose(shuffled, full[order])
    assert np.allclose(
        trained.predict_proba(table.iloc[:7], xy=xy[:7], groups=groups[:7]), full[:7]
    )


def test_missing_and_extra_columns(table: pd.DataFrame, xy: np.ndarray, trained: RiskModel) -> None:
    frame = table.drop(columns=[FEATURES[0]]).assign(sin_uso=1.0)
    with pytest.warns(MissingFeatureWarning, match="elevación"):
        probability = trained.predict_proba(frame, xy=xy)
    assert probability.shape == (len(table),)
    assert np.isfinite(probability).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trained.predict_proba(table.assign(extra=0), xy=xy)
    with pytest.warns(MissingFeatureWarning, match="no coordinates"):
        trained.predict_proba(table)


def test_explain_top_contributions(table: pd.DataFrame, xy: np.ndarray, trained: RiskModel) -> None:
    groups = table[GROUP].to_numpy()
    explained = trained.explain(table.iloc[:20], top=3, xy=xy[:20], groups=groups[:20])
    assert list(explained.columns) == [
        "feature_1",
        "contribution_1",
        "feature_2",
        "contribution_2",
        "feature_3",
        "contribution_3",
        "baseline",
    ]
    assert set(explained["feature_1"]) <= set(trained.feature_names)
    sizes = explained[["contribution_1", "contribution_2", "contribution_3"]].abs().to_numpy()
    assert (np.diff(sizes, axis=1) <= 1e-12).all()
    # contributions add up to the raw score
    matrix = trained.matrix(table.iloc[:20], xy=xy[:20], groups=groups[:20])
    raw = trained.predict_raw(table.iloc[:20], xy=xy[:20], groups=groups[:20])
    assert np.allclose(trained.contributions(matrix).sum(axis=1), raw)


def test_ensemble_averages_members_with_their_own_columns(
    tmp_path: Path, table: pd.DataFrame, xy: np.ndarray
) -> None:
    plain, with_group = (
        Candidate("plain", num_leaves=4, min_child_samples=5, num_boost_round=20),
        Candidate(
            "group", num_leaves=4, min_child_samples=5, num_boost_round=20, group_features=True
        ),
    )
    options = ModelOptions(
        candidates=(plain, Ensemble("both", (plain, with_group))),
        inner_folds=3,
        num_threads=1,
        selection="best",
    )
    # choose the ensemble whatever the inner CV says, to test it
    forced = ModelOptions(
        candidates=(Ensemble("both", (plain, with_group)),), inner_folds=3, num_threads=1
    )
    model = fit(table[list(FEATURES)], table[LABEL], table[GROUP], xy=xy, options=forced)
    assert [m.candidate.name for m in model.members] == ["plain", "group"]
    names = model.feature_names
    assert "Víctimas " in names
    assert "Víctimas " not in [names[c] for c in model.members[0].columns]
    assert "Víctimas " in [names[c] for c in model.members[1].columns]
    groups = table[GROUP].to_numpy()
    matrix = model.matrix(table, xy=xy, groups=groups)
    each = [m.booster.predict(matrix[:, m.columns], raw_score=True) for m in model.members]
    assert np.allclose(model.raw_from_matrix(matrix), np.mean(each, axis=0))
    assert np.allclose(model.contributions(matrix).sum(axis=1), model.raw_from_matrix(matrix))
    loaded = RiskModel.load(model.save(tmp_path / "ensemble.model"))
    assert np.array_equal(
        loaded.predict_proba(table, xy=xy, groups=groups),
        model.predict_proba(table, xy=xy, groups=groups),
    )
    # an ensemble's inner-CV score costs no extra training: same members, same scores
    compared = fit(table[list(FEATURES)], table[LABEL], table[GROUP], xy=xy, options=options)
    assert [r["candidate"] for r in compared.metadata["inner_cv"]] == ["plain", "both"]


def test_without_groups_or_coordinates_folds_are_row_runs(table: pd.DataFrame) -> None:
    model = fit(table[list(FEATURES)], table[LABEL], options=QUICK)
    assert model.metadata["group_origin"] == "runs of consecutive rows"
    assert model.evidence is None
    assert "Víctimas " not in model.metadata["dropped_features"]


def test_errors(table: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="both classes"):
        fit(table[list(FEATURES)], np.zeros(len(table)), options=QUICK)
    with pytest.raises(ConfigError, match="labels for"):
        fit(table[list(FEATURES)], table[LABEL][:10], options=QUICK)
    with pytest.raises(ConfigError, match="candidate"):
        ModelOptions(candidates=())


def test_group_constant_columns() -> None:
    matrix = np.array([[1.0, 5.0], [1.0, 6.0], [2.0, 7.0], [2.0, 7.0]])
    assert group_constant_columns(matrix, np.array(["a", "a", "b", "b"])) == [0]
    assert group_constant_columns(matrix, np.array(["a", "a", "a", "a"])) == []


def test_infer_features_text() -> None:
    frame = pd.DataFrame({"n": ["1,5", "2", None], "c": ["x", "y", "x"], "names": ["a", "b", "c"]})
    specs = {s.name: s for s in infer_features(frame)}
    assert specs["n"].kind == "number"
    assert specs["c"].categories == ("x", "y")


def test_evidence_never_uses_own_group() -> None:
    xy = np.array([[0.0, 0.0], [100.0, 0.0], [5000.0, 0.0]])
    labels = np.array([1, 1, 0])
    groups = np.array(["a", "b", "b"])
    evidence = build_evidence(xy, labels, groups, spacing=100.0)
    own = evidence.features(xy[:1], np.array(["a"]))
    other = evidence.features(xy[:1], np.array(["c"]))
    names = evidence.names
    # from "a", the positive at 100 m (group b) counts, its own positive at 0 m does not
    assert own[0, names.index("evidence_nearest_positive_m")] == pytest.approx(100.0)
    assert other[0, names.index("evidence_nearest_positive_m")] == pytest.approx(0.0)
    first = names[0]  # positives within 2 cell spacings
    expected_own = np.exp(-0.5 * (100 / 200) ** 2)
    assert own[0, names.index(first)] == pytest.approx(expected_own, rel=0.05)
    assert other[0, names.index(first)] == pytest.approx(1 + expected_own, rel=0.05)


def test_evidence_share_is_shrunk_local_prevalence() -> None:
    xy = np.array([[0.0, 0.0], [0.0, 100.0], [0.0, 200.0], [50_000.0, 0.0]])
    labels = np.array([1, 1, 0, 0])
    groups = np.array(["a", "a", "a", "b"])
    evidence = build_evidence(xy, labels, groups, spacing=100.0)
    names = evidence.names
    assert len(evidence.monotone) == len(names)
    assert evidence.monotone[names.index("evidence_share_200m")] == 1
    far = evidence.features(np.array([[25_000.0, 90_000.0]]))[0]
    near = evidence.features(np.array([[0.0, 100.0]]))[0]
    # nothing nearby: the overall share of positives (2 of 4)
    assert far[names.index("evidence_share_200m")] == pytest.approx(0.5)
    # among mostly positive neighbours, pulled up from it
    assert near[names.index("evidence_share_200m")] > 0.55


def test_inner_folds_hold_out_whole_groups(
    monkeypatch: pytest.MonkeyPatch, table: pd.DataFrame
) -> None:
    real = model_module.group_splits
    seen: list[tuple[set[str], set[str]]] = []

    def spy(groups: np.ndarray, scored: np.ndarray, n_folds: int | None = None) -> Any:
        for name, train, held in real(groups, scored, n_folds):
            seen.append((set(groups[train]), set(groups[held])))
            yield name, train, held

    monkeypatch.setattr(model_module, "group_splits", spy)
    fit(table[list(FEATURES)], table[LABEL], table[GROUP], options=QUICK)
    assert len(seen) == QUICK.inner_folds
    for train_groups, held_groups in seen:
        assert held_groups
        assert not train_groups & held_groups
