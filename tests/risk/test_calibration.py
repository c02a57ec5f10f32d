"""Calibration maps scores to probabilities monotonically and honestly."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from minemap.risk.calibration import Calibrator, fit_calibrator


def _sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    raw = rng.normal(0, 2, n)
    labels = (rng.random(n) < 1 / (1 + np.exp(-(raw - 1)))).astype(int)
    return raw, labels


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(20, 600),
    method=st.sampled_from(["auto", "isotonic", "platt"]),
)
def test_calibration_is_strictly_monotonic(seed: int, n: int, method: str) -> None:
    raw, labels = _sample(n, seed)
    if labels.min() == labels.max():
        labels[0] = 1 - labels[0]
    calibrator = fit_calibrator(raw, labels, method=method)  # type: ignore[arg-type]
    grid = np.linspace(-12, 12, 2001)
    probability = calibrator(grid)
    assert np.all(np.diff(probability) > 0)
    assert np.all((probability >= 0) & (probability <= 1))


def test_isotonic_is_calibrated_on_its_sample() -> None:
    raw, labels = _sample(5000, 1)
    calibrator = fit_calibrator(raw, labels)
    assert calibrator.method == "isotonic"
    probability = calibrator(raw)
    # in every score decile the mean probability matches the share of positives
    order = np.argsort(raw)
    for part in np.array_split(order, 10):
        assert abs(probability[part].mean() - labels[part].mean()) < 0.03


def test_unknown_rows_never_enter_calibration() -> None:
    raw, labels = _sample(1000, 2)
    with_unknown = labels.copy()
    extra_raw = np.r_[raw, np.full(500, 5.0)]
    extra_labels = np.r_[with_unknown, np.full(500, -1)]
    a = fit_calibrator(raw, labels)
    b = fit_calibrator(extra_raw, extra_labels)
    assert a.to_dict() == b.to_dict()


def test_small_samples_use_platt_and_round_trip() -> None:
    raw, labels = _sample(60, 3)
    calibrator = fit_calibrator(raw, labels)
    assert calibrator.method == "platt"
    again = Calibrator.from_dict(calibrator.to_dict())
    assert np.allclose(again(raw), calibrator(raw))


def test_one_class_gives_identity() -> None:
    calibrator = fit_calibrator(np.array([0.1, 0.2]), np.array([1, 1]))
    assert calibrator.method == "identity"
    assert np.allclose(calibrator(np.array([0.0])), 0.5)


def test_isotonic_never_says_certain() -> None:
    raw = np.r_[np.linspace(-5, -3, 300), np.linspace(3, 5, 300)]
    labels = np.r_[np.zeros(300), np.ones(300)].astype(int)  # perfectly separated
    calibrator = fit_calibrator(raw, labels, method="isotonic")
    probability = calibrator(np.array([-10.0, 10.0]))
    assert 0 < probability[0] <= 1 / 300
    assert 1 - 1 / 300 <= probability[1] < 1
