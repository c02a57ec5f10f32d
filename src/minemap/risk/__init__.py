"""Risk modelling: spatially validated, calibrated, explained models of where mines are.

The public API, for the hazard-map pipeline and for analysts' tables alike:

* :func:`fit` trains a :class:`RiskModel` (LightGBM, nested selection of a
  recipe by inner group cross-validation, monotonic calibration);
  ``model.predict_proba(X)``, ``model.explain(X, top=3)``,
  ``model.save(path)`` and ``RiskModel.load(path)``;
* :func:`cross_validate` holds out whole groups (districts, municipalities,
  square blocks from :func:`square_blocks`) and returns a :class:`CVResult`
  with out-of-fold probabilities and ROC-AUC / average precision per group
  and pooled;
* :func:`read_table`, :func:`find_column` and :func:`parse_labels` read an
  analyst's feature table as it is.

Labels are 1 (positive), 0 (negative) and -1 (unknown); unknown rows are never
scored as negatives (see :mod:`minemap.risk.model` for how they are used).
"""

import os

# LightGBM's OpenMP threads spin while they wait by default; on a machine whose
# cores are shared (a survey office's laptop running other work, a CI runner),
# spinning threads starve each other and training becomes many times slower.
# Passive waiting costs little when the cores are free. Set before LightGBM's
# OpenMP runtime loads; a value the user set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from minemap.risk.calibration import Calibrator, fit_calibrator
from minemap.risk.folds import group_splits, square_blocks
from minemap.risk.model import (
    DEFAULT_CANDIDATES,
    DEFAULT_RECIPES,
    Candidate,
    Ensemble,
    FeatureSpec,
    MissingFeatureWarning,
    ModelOptions,
    RiskModel,
    fit,
)
from minemap.risk.table import (
    NEGATIVE,
    POSITIVE,
    UNKNOWN,
    find_column,
    metric_coordinates,
    parse_labels,
    read_table,
)
from minemap.risk.validation import CVResult, cross_validate, scores

__all__ = [
    "DEFAULT_CANDIDATES",
    "DEFAULT_RECIPES",
    "NEGATIVE",
    "POSITIVE",
    "UNKNOWN",
    "CVResult",
    "Calibrator",
    "Candidate",
    "Ensemble",
    "FeatureSpec",
    "MissingFeatureWarning",
    "ModelOptions",
    "RiskModel",
    "cross_validate",
    "find_column",
    "fit",
    "fit_calibrator",
    "group_splits",
    "metric_coordinates",
    "parse_labels",
    "read_table",
    "scores",
    "square_blocks",
]
