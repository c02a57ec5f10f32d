"""Calibration: turning a model's raw scores into probabilities that mean what they say.

A gradient-boosted score ranks cells but its values are not frequencies: a
cell scored 0.3 is not mined three times in ten. The calibrator is fitted on
**out-of-fold** raw scores of labelled rows only (scores of rows the model
never trained on), so it learns how scores behave on unseen land, and unknown
rows never enter it.

Two methods, both monotonic (a higher score never gets a lower probability):

* ``isotonic`` (default when there are enough labelled rows): the
  pool-adjacent-violators fit of scikit-learn, read as a piecewise-linear map
  through its knots and kept within ``1/(negatives+2)`` and
  ``(positives+1)/(positives+2)`` so that no cell is ever called certainly
  clear. Isotonic fits are flat on stretches, which would turn distinct
  scores into ties and lose ranking; a tiny strictly increasing logistic term
  (weight :data:`TIE_BREAK`) keeps the map strictly increasing without moving
  any probability by more than that weight.
* ``platt``: a logistic curve on the score (two parameters), for small samples.

The calibrator is plain numbers (knots or coefficients), saved as JSON inside
the model file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Method = Literal["isotonic", "platt", "identity"]

#: Weight of the strictly increasing term that breaks the ties of an isotonic fit.
TIE_BREAK = 1e-6
#: Fewer labelled rows than this (or fewer than 10 of either class) use Platt scaling.
MIN_ISOTONIC_ROWS = 200


@dataclass(frozen=True)
class Calibrator:
    """A monotonic map from raw scores (log-odds) to probabilities."""

    method: Method
    knots_x: tuple[float, ...] = ()
    knots_y: tuple[float, ...] = ()
    slope: float = 1.0
    intercept: float = 0.0
    scale: float = 1.0
    details: dict[str, Any] = field(default_factory=dict)

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        """Probabilities for raw scores ``raw`` (any shape; NaN stays NaN)."""
        raw = np.asarray(raw, dtype=float)
        logistic = _sigmoid(self.slope * raw + self.intercept)
        if self.method == "platt":
            return logistic
        if self.method == "identity":
            return _sigmoid(raw)
        base = np.interp(raw, np.asarray(self.knots_x), np.asarray(self.knots_y))
        tie_break = _sigmoid(raw / self.scale)
        return (1.0 - TIE_BREAK) * base + TIE_BREAK * tie_break

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "knots_x": list(self.knots_x),
            "knots_y": list(self.knots_y),
            "slope": self.slope,
            "intercept": self.intercept,
            "scale": self.scale,
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        method = data.get("method")
        if method not in ("isotonic", "platt", "identity"):
            msg = f"unknown calibration method {method!r}"
            raise ValueError(msg)
        return cls(
            method=method,
            knots_x=tuple(float(v) for v in data.get("knots_x", ())),
            knots_y=tuple(float(v) for v in data.get("knots_y", ())),
            slope=float(data.get("slope", 1.0)),
            intercept=float(data.get("intercept", 0.0)),
            scale=float(data.get("scale", 1.0)),
            details=dict(data.get("details", {})),
        )


def _sigmoid(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


def fit_calibrator(
    raw: np.ndarray, labels: np.ndarray, *, method: Method | Literal["auto"] = "auto"
) -> Calibrator:
    """Fit a calibrator on out-of-fold raw scores ``raw`` of rows labelled 0/1.

    Rows with other labels (unknown, -1) or NaN scores are ignored. ``auto``
    picks isotonic with enough rows of both classes, Platt otherwise.
    """
    raw = np.asarray(raw, dtype=float)
    labels = np.asarray(labels)
    keep = np.isfinite(raw) & ((labels == 0) | (labels == 1))
    x, y = raw[keep], labels[keep].astype(float)
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    if n_pos == 0 or n_neg == 0:
        # nothing to learn a map from: the raw log-odds are the best guess
        return Calibrator(method="identity", details={"rows": len(y)})
    if method == "auto":
        enough = len(y) >= MIN_ISOTONIC_ROWS and min(n_pos, n_neg) >= 10
        method = "isotonic" if enough else "platt"
    slope, intercept = _platt(x, y)
    details = {"rows": len(y), "positives": n_pos, "negatives": n_neg}
    if method == "platt":
        return Calibrator(method="platt", slope=slope, intercept=intercept, details=details)
    if method == "identity":
        return Calibrator(method="identity", details=details)
    from sklearn.isotonic import IsotonicRegression

    # no stretch of scores is certain to be clear (or mined) because the sample saw no
    # positive there: bounds as in Laplace's rule of succession keep 0 and 1 out
    low, high = 1.0 / (n_neg + 2), (n_pos + 1.0) / (n_pos + 2)
    iso = IsotonicRegression(y_min=low, y_max=high, increasing=True, out_of_bounds="clip")
    iso.fit(x, y)
    spread = float(np.std(x)) or 1.0
    return Calibrator(
        method="isotonic",
        knots_x=tuple(float(v) for v in iso.X_thresholds_),
        knots_y=tuple(float(v) for v in iso.y_thresholds_),
        slope=slope,
        intercept=intercept,
        scale=spread,
        details=details,
    )


def _platt(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Logistic fit of ``y`` on ``x`` with Platt's smoothed targets (Newton's method)."""
    n_pos, n_neg = y.sum(), len(y) - y.sum()
    # Platt (1999): targets pulled off 0 and 1 so a separable sample gives a finite slope
    target = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    centre, spread = float(np.mean(x)), float(np.std(x)) or 1.0
    z = (x - centre) / spread
    a, b = 0.0, float(np.log((n_pos + 1) / (n_neg + 1)))
    for _ in range(100):
        p = _sigmoid(a * z + b)
        w = np.maximum(p * (1 - p), 1e-12)
        grad = np.array([np.sum((p - target) * z), np.sum(p - target)])
        hess = np.array([[np.sum(w * z * z), np.sum(w * z)], [np.sum(w * z), np.sum(w)]])
        hess += 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        a, b = a - step[0], b - step[1]
        if np.max(np.abs(step)) < 1e-10:
            break
    slope = a / spread
    intercept = b - a * centre / spread
    if not (math.isfinite(slope) and math.isfinite(intercept)) or slope <= 0:
        # a score that does not rank the labels: fall back to the plain logistic of the score
        return 1.0, 0.0
    return float(slope), float(intercept)
