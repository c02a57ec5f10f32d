"""The risk model: training, choosing hyper-parameters, predicting, explaining, saving.

:func:`fit` trains a :class:`RiskModel` on a cell table ``X`` (one row per
cell, one column per feature) with labels ``y`` in {1 positive, 0 negative,
-1 unknown} and, optionally, the ``groups`` (districts, municipalities or
square blocks) the cells belong to and their metric coordinates ``xy``.

How a model is made (every choice inside the training data only):

1. **Features.** Numbers stay numbers, text columns become LightGBM
   categories. A feature that is constant within every training group can only
   tell the model *which group* a row is in (on the Antioquia table: the
   municipality's counts of conflict victims). With a handful of groups a
   tree can memorise groups through them, so a recipe leaves them out unless
   it says ``group_features``. With coordinates, **spatial evidence**
   features are added (:mod:`minemap.risk.evidence`): what survey found near
   the cell in *other* groups, with monotone constraints (more positives
   nearby never lowers the risk, more negatives never raises it).
2. **Positives and unlabelled rows.** Unknown rows are never scored as
   negatives. A recipe either learns from labelled rows only, or also from the
   unlabelled rows as *background* (presence-background learning, as in
   species-distribution models: each unlabelled row a negative of weight
   ``background_weight``, which says "mines are rarer in unsurveyed land than
   among the surveyed cells" without claiming any unlabelled cell is clear).
   No class prior is estimated: the calibrator, fitted on labelled rows
   only, maps whatever the background did to the scores back to
   probabilities of a surveyed-like cell. Whether background helps is
   decided by the inner cross-validation, which scores labelled rows only.
3. **Nested selection.** The recipes (:data:`DEFAULT_RECIPES`) are compared
   by group cross-validation *inside the training rows* (folds of whole
   groups); the best pooled ROC-AUC wins, earlier recipes winning ties. The
   defaults are shallow, strongly regularised LightGBM trees (7 leaves, 40
   rows a leaf, L2 5, row and feature subsampling), because a model that
   must carry to an unseen group learns from few groups, not many rows:
   one with background and without group-level features, one on labelled
   rows with them, and the ensemble of the two (their log-odds averaged),
   which see different evidence and err differently.
4. **Calibration.** The winner's inner out-of-fold scores fit a monotonic
   calibrator (:mod:`minemap.risk.calibration`).
5. **Final model.** The winner's boosters are refitted on all training rows.

A model is saved as one zip file (:meth:`RiskModel.save`) holding
``model.json`` (features, recipe, calibration, evidence points, metadata) and
one ``booster_<i>.txt`` per booster (LightGBM's own text format): portable,
inspectable, and never a pickle. Training is deterministic for a seed.
"""

from __future__ import annotations

import json
import logging
import math
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from minemap.errors import ConfigError, InputFileError
from minemap.files import replace_when_done
from minemap.risk.calibration import Calibrator, fit_calibrator
from minemap.risk.evidence import DEFAULT_BANDWIDTHS, Evidence, build_evidence
from minemap.risk.folds import group_splits, row_chunks, square_blocks

log = logging.getLogger(__name__)

FORMAT = "minemap-risk-model"
FORMAT_VERSION = 1
#: Rows predicted at once: bounds memory on multi-million-cell grids.
PREDICT_CHUNK = 500_000
#: Text columns with more distinct values than this are not categories but names.
MAX_CATEGORIES = 200


class MissingFeatureWarning(UserWarning):
    """A table to predict lacks features the model was trained on (they become missing)."""


# --- features ------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureSpec:
    """One input column: its name as written, and how it is encoded."""

    name: str
    kind: Literal["number", "category"] = "number"
    categories: tuple[str, ...] = ()


def infer_features(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> list[FeatureSpec]:
    """How each of ``columns`` (default: all) of ``frame`` is encoded.

    Numbers and booleans are numbers; text that reads as numbers (allowing a
    decimal comma) is a number; other text is a category when it has at most
    :data:`MAX_CATEGORIES` values, and is left out otherwise (a name, not a
    feature) with a log message.
    """
    specs: list[FeatureSpec] = []
    for name in frame.columns if columns is None else columns:
        values = frame[name]
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            specs.append(FeatureSpec(str(name)))
            continue
        present = values.dropna()
        numbers = _text_numbers(present)
        if len(present) and numbers.notna().mean() >= 0.95:
            specs.append(FeatureSpec(str(name)))
            continue
        levels = sorted(set(present.astype(str).tolist()))
        if len(levels) > MAX_CATEGORIES:
            log.info("column %r left out: %d distinct text values", name, len(levels))
            continue
        specs.append(FeatureSpec(str(name), "category", tuple(levels)))
    return specs


def _text_numbers(values: pd.Series) -> pd.Series:
    text = values.astype(str).str.strip().str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce")


def encode(frame: pd.DataFrame, specs: Sequence[FeatureSpec]) -> tuple[np.ndarray, list[str]]:
    """The ``float64`` matrix of ``specs`` from ``frame`` and the names that were missing.

    Missing columns become NaN (LightGBM's missing value); categories are
    their index in the trained category list, unseen categories NaN.
    """
    out = np.full((len(frame), len(specs)), np.nan)
    missing: list[str] = []
    for j, spec in enumerate(specs):
        if spec.name not in frame.columns:
            missing.append(spec.name)
            continue
        values = frame[spec.name]
        if spec.kind == "category":
            text = values.astype("string")
            codes = pd.Categorical(text, categories=list(spec.categories)).codes
            # code -1 is a missing or unseen category: LightGBM's missing value
            out[:, j] = np.where(codes >= 0, codes, np.nan)
        elif pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            out[:, j] = values.to_numpy(dtype=float, na_value=np.nan)
        else:
            out[:, j] = _text_numbers(values).to_numpy(dtype=float, na_value=np.nan)
    return out, missing


def group_constant_columns(matrix: np.ndarray, groups: np.ndarray) -> list[int]:
    """Columns of ``matrix`` that take one value within every group (at least two groups)."""
    groups = np.asarray(groups).astype(str)
    names = np.unique(groups)
    if len(names) < 2:
        return []
    frame = pd.DataFrame(matrix)
    frame["__group__"] = groups
    distinct = frame.groupby("__group__").nunique(dropna=False)
    sizes = frame.groupby("__group__").size()
    multi = distinct[sizes > 1]
    if multi.empty:
        return []
    return [int(j) for j in range(matrix.shape[1]) if (multi[j] <= 1).all()]


# --- recipes -------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One LightGBM recipe compared in the inner cross-validation."""

    name: str
    num_leaves: int = 7
    min_child_samples: int = 40
    num_boost_round: int = 200
    learning_rate: float = 0.05
    feature_fraction: float = 0.7
    bagging_fraction: float = 0.8
    lambda_l2: float = 5.0
    #: weight of each unlabelled row learnt as background (a weighted negative); 0: not used
    background_weight: float = 0.0
    #: random split thresholds (LightGBM's extra_trees): less fitting to the training groups
    extra_trees: bool = False
    #: also learn from features constant within every group (they only say which group)
    group_features: bool = False
    #: added to the seed: members of an ensemble that differ only here are a bagged average
    seed_offset: int = 0

    def params(self, seed: int, num_threads: int) -> dict[str, Any]:
        return {
            "objective": "binary",
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "learning_rate": self.learning_rate,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": 1 if self.bagging_fraction < 1 else 0,
            "lambda_l2": self.lambda_l2,
            "extra_trees": self.extra_trees,
            "max_bin": 255,
            "seed": seed + self.seed_offset,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": num_threads,
            "verbosity": -1,
        }


@dataclass(frozen=True)
class Ensemble:
    """Several recipes trained side by side, their raw scores (log-odds) averaged.

    Members that learn from different information (labelled rows only or with
    background; with or without group-level features) make different
    mistakes on a new group; their average is steadier than any of them.
    """

    name: str
    members: tuple[Candidate, ...]

    @property
    def background_weight(self) -> float:
        """The largest background weight of the members (0: no member uses background)."""
        return max(m.background_weight for m in self.members)


#: A recipe compared in the inner cross-validation: one booster or an average of several.
Recipe = Candidate | Ensemble


def members_of(recipe: Recipe) -> tuple[Candidate, ...]:
    """The single-booster recipes ``recipe`` is made of."""
    return recipe.members if isinstance(recipe, Ensemble) else (recipe,)


#: Shallow, regularised trees (few groups to learn from), each with and without background.
DEFAULT_CANDIDATES: tuple[Candidate, ...] = (
    Candidate("shallow"),
    Candidate("shallow+background", background_weight=1.0),
    Candidate("medium", num_leaves=15, min_child_samples=20, num_boost_round=300),
    Candidate(
        "medium+background",
        num_leaves=15,
        min_child_samples=20,
        num_boost_round=300,
        background_weight=1.0,
    ),
)


_BACKGROUND = Candidate("shallow+background", background_weight=1.0)
_GROUP_LEVEL = Candidate("shallow+group-level", group_features=True)

#: The recipes :func:`fit` compares by default (see the module docs for why these).
DEFAULT_RECIPES: tuple[Recipe, ...] = (
    Ensemble("ensemble", (_GROUP_LEVEL, _BACKGROUND)),
    _BACKGROUND,
    _GROUP_LEVEL,
)


@dataclass(frozen=True)
class ModelOptions:
    """How :func:`fit` trains; the defaults are minemap's recipe.

    ``candidates`` are the recipes compared, the first being the default.
    ``inner_folds`` is the number of group folds of the inner (selection and
    calibration) cross-validation; ``selection`` how the recipe is chosen
    from it (see :func:`_choose`). ``num_threads`` 0 lets LightGBM use every
    core. ``drop_group_constant`` lets recipes leave out group-level
    features. ``evidence`` adds the spatial-evidence features when
    coordinates are given (``evidence_bandwidths`` in cell spacings,
    ``evidence_shares`` the local prevalence). ``block_size`` (metres) makes
    square blocks when coordinates but no groups are given (default: 20 cell
    spacings).
    """

    candidates: tuple[Recipe, ...] = DEFAULT_RECIPES
    inner_folds: int = 5
    seed: int = 42
    num_threads: int = 0
    calibration: Literal["auto", "isotonic", "platt"] = "auto"
    selection: Literal["one-se", "best"] = "one-se"
    drop_group_constant: bool = True
    evidence: bool = True
    evidence_bandwidths: tuple[float, ...] = DEFAULT_BANDWIDTHS
    evidence_shares: bool = True
    block_size: float | None = None

    def __post_init__(self) -> None:
        if not self.candidates:
            msg = "at least one candidate recipe is needed"
            raise ConfigError(msg)
        names = [r.name for r in self.candidates]
        if len(set(names)) != len(names):
            msg = f"candidate recipe names must differ: {', '.join(names)}"
            raise ConfigError(msg)
        if self.inner_folds < 2:
            msg = f"inner_folds must be at least 2, not {self.inner_folds}"
            raise ConfigError(msg)


# --- the model -----------------------------------------------------------------


@dataclass
class Member:
    """One trained booster of a model: its recipe, its booster, the inputs it reads.

    ``columns`` index the model's :attr:`RiskModel.feature_names`.
    """

    candidate: Candidate
    booster: Any
    columns: list[int]

    def raw(self, matrix: np.ndarray, threads: int = 0) -> np.ndarray:
        """Raw score (log-odds) of every row of a model matrix."""
        return np.asarray(
            self.booster.predict(matrix[:, self.columns], raw_score=True, num_threads=threads)
        )


@dataclass
class RiskModel:
    """A trained, calibrated risk model.

    ``features`` are the table columns any member reads (group-constant
    columns only when a member learns from them); ``members`` the boosters
    whose raw scores are averaged (one for a single recipe); ``evidence``
    the labelled points the spatial-evidence features are drawn from (None
    when the model uses none); ``metadata`` what is worth knowing later
    (label column, counts, the inner-CV score of every recipe, dropped
    columns, coordinate columns and CRS, creation time).
    """

    features: list[FeatureSpec]
    members: list[Member]
    calibrator: Calibrator
    recipe: str
    evidence: Evidence | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        """Every model input: table columns, then evidence features."""
        names = [f.name for f in self.features]
        return names + (self.evidence.names if self.evidence is not None else [])

    def matrix(
        self,
        X: pd.DataFrame,
        *,
        xy: np.ndarray | None = None,
        groups: np.ndarray | None = None,
        warn: bool = True,
    ) -> np.ndarray:
        """The model's input matrix for table ``X`` (columns: :attr:`feature_names`).

        Missing feature columns become missing values with a
        :class:`MissingFeatureWarning` naming them; extra columns are
        ignored. Evidence for a row excludes points of its own group when
        ``groups`` is given.
        """
        matrix, missing = encode(X, self.features)
        if missing and warn:
            listed = ", ".join(repr(m) for m in missing)
            warnings.warn(
                f"{len(missing)} feature(s) missing from the table, treated as missing values: "
                f"{listed}",
                MissingFeatureWarning,
                stacklevel=3,
            )
        if self.evidence is None:
            return matrix
        if xy is None:
            if warn:
                warnings.warn(
                    "no coordinates given: the spatial-evidence features are missing values",
                    MissingFeatureWarning,
                    stacklevel=3,
                )
            extra = np.full((len(X), len(self.evidence.names)), np.nan)
        else:
            extra = self.evidence.features(np.asarray(xy, dtype=float), groups)
        return np.hstack([matrix, extra])

    def predict_raw(
        self, X: pd.DataFrame, *, xy: np.ndarray | None = None, groups: np.ndarray | None = None
    ) -> np.ndarray:
        """Raw scores (log-odds before calibration), one per row of ``X``, in order."""
        return self.raw_from_matrix(self.matrix(X, xy=xy, groups=groups))

    def raw_from_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """Raw scores of a matrix from :meth:`matrix`: the members' mean, in chunks."""
        out = np.zeros(len(matrix))
        threads = int(self.metadata.get("num_threads", 0))
        for member in self.members:
            for start in range(0, len(matrix), PREDICT_CHUNK):
                stop = min(start + PREDICT_CHUNK, len(matrix))
                out[start:stop] += member.raw(matrix[start:stop], threads)
        return out / len(self.members)

    def predict_proba(
        self, X: pd.DataFrame, *, xy: np.ndarray | None = None, groups: np.ndarray | None = None
    ) -> np.ndarray:
        """Calibrated probabilities that each row's cell is mined, in row order."""
        return self.calibrator(self.predict_raw(X, xy=xy, groups=groups))

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Per-row contributions of every input plus the baseline (last column), in log-odds.

        LightGBM's own ``pred_contrib`` (exact TreeSHAP) of each member,
        averaged like the raw scores, so a row's contributions sum to its raw
        score.
        """
        out = np.zeros((len(matrix), matrix.shape[1] + 1))
        for member in self.members:
            for start in range(0, len(matrix), PREDICT_CHUNK):
                stop = min(start + PREDICT_CHUNK, len(matrix))
                part = np.asarray(
                    member.booster.predict(matrix[start:stop, member.columns], pred_contrib=True)
                )
                out[start:stop, member.columns] += part[:, :-1]
                out[start:stop, -1] += part[:, -1]
        return out / len(self.members)

    def explain(
        self,
        X: pd.DataFrame,
        *,
        top: int = 3,
        xy: np.ndarray | None = None,
        groups: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """The ``top`` feature contributions of each row, largest in size first.

        Contributions (:meth:`contributions`) are in log-odds: positive raises
        the risk, negative lowers it. Columns ``feature_1, contribution_1, ...,
        feature_<top>, contribution_<top>`` and ``baseline`` (the log-odds
        before any feature), one row per row of ``X``, in order.
        """
        contrib = self.contributions(self.matrix(X, xy=xy, groups=groups))
        names = np.asarray(self.feature_names, dtype=object)
        top = max(1, min(top, len(names)))
        values, baseline = contrib[:, :-1], contrib[:, -1]
        order = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :top]
        columns: dict[str, Any] = {}
        for k in range(top):
            pick = order[:, k]
            columns[f"feature_{k + 1}"] = names[pick]
            columns[f"contribution_{k + 1}"] = values[np.arange(len(values)), pick]
        columns["baseline"] = baseline
        return pd.DataFrame(columns, index=X.index)

    def feature_importance(self) -> pd.Series:
        """Total gain of each model input over the members, largest first."""
        gain = np.zeros(len(self.feature_names))
        for member in self.members:
            gain[member.columns] += member.booster.feature_importance(importance_type="gain")
        return pd.Series(gain, index=self.feature_names, name="gain").sort_values(ascending=False)

    # --- the model file --------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the model to one zip file at ``path`` (replaced atomically)."""
        path = Path(path)
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "recipe": self.recipe,
            "features": [asdict(f) for f in self.features],
            "members": [
                {
                    "candidate": asdict(m.candidate),
                    "columns": list(m.columns),
                    "booster": f"booster_{i}.txt",
                }
                for i, m in enumerate(self.members)
            ],
            "calibration": self.calibrator.to_dict(),
            "evidence": None if self.evidence is None else _evidence_to_dict(self.evidence),
            "metadata": self.metadata,
        }
        with (
            replace_when_done(path) as tmp,
            zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        ):
            archive.writestr("model.json", json.dumps(document, indent=1, default=_jsonable))
            for i, member in enumerate(self.members):
                archive.writestr(f"booster_{i}.txt", member.booster.model_to_string())
        return path

    @classmethod
    def load(cls, path: str | Path) -> RiskModel:
        """Read a model written by :meth:`save`; :class:`InputFileError` if it is not one."""
        import lightgbm as lgb

        path = Path(path)
        if not path.is_file():
            raise InputFileError(path, "no such model file")
        try:
            with zipfile.ZipFile(path) as archive:
                document = json.loads(archive.read("model.json").decode("utf-8"))
                if document.get("format") != FORMAT:
                    raise InputFileError(path, "not a minemap model file")
                version = document.get("format_version")
                if not isinstance(version, int) or version > FORMAT_VERSION:
                    msg = f"model format version {version!r} is newer than this minemap reads"
                    raise InputFileError(path, msg)
                members = [
                    Member(
                        candidate=Candidate(**m["candidate"]),
                        booster=lgb.Booster(model_str=archive.read(m["booster"]).decode("utf-8")),
                        columns=[int(c) for c in m["columns"]],
                    )
                    for m in document["members"]
                ]
            features = [
                FeatureSpec(f["name"], f["kind"], tuple(f.get("categories", ())))
                for f in document["features"]
            ]
            calibrator = Calibrator.from_dict(document["calibration"])
            evidence = (
                None if document["evidence"] is None else _evidence_from_dict(document["evidence"])
            )
        except InputFileError:
            raise
        except (zipfile.BadZipFile, UnicodeDecodeError, json.JSONDecodeError):
            raise InputFileError(path, "not a minemap model file") from None
        except (KeyError, TypeError, ValueError, AttributeError, lgb.basic.LightGBMError) as exc:
            raise InputFileError(path, f"damaged model file ({exc!r})") from None
        if not members:
            raise InputFileError(path, "damaged model file (no boosters)")
        return cls(
            features=features,
            members=members,
            calibrator=calibrator,
            recipe=str(document.get("recipe", members[0].candidate.name)),
            evidence=evidence,
            metadata=dict(document.get("metadata", {})),
        )


def _jsonable(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    msg = f"cannot save {type(value).__name__} in a model file"
    raise TypeError(msg)


def _evidence_to_dict(evidence: Evidence) -> dict[str, Any]:
    return {
        "x": evidence.xy[:, 0].tolist(),
        "y": evidence.xy[:, 1].tolist(),
        "labels": evidence.labels.astype(int).tolist(),
        "groups": evidence.groups.astype(str).tolist(),
        "spacing": evidence.spacing,
        "bandwidths": list(evidence.bandwidths),
        "shares": evidence.shares,
    }


def _evidence_from_dict(data: dict[str, Any]) -> Evidence:
    xy = np.column_stack([np.asarray(data["x"], float), np.asarray(data["y"], float)])
    return Evidence(
        xy=xy.reshape(-1, 2),
        labels=np.asarray(data["labels"], dtype=np.int8),
        groups=np.asarray(data["groups"]).astype(str),
        spacing=float(data["spacing"]),
        bandwidths=tuple(float(b) for b in data["bandwidths"]),
        shares=bool(data.get("shares", False)),
    )


# --- training ------------------------------------------------------------------


def as_labels(y: Any) -> np.ndarray:
    """Labels as ``int8`` {1, 0, -1}; NaN and any other value than 0/1 is unknown (-1)."""
    values = np.asarray(y)
    if values.dtype == bool:
        return values.astype(np.int8)
    numbers = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    out = np.full(len(numbers), -1, dtype=np.int8)
    out[numbers == 1] = 1
    out[numbers == 0] = 0
    return out


def check_labels(labels: np.ndarray) -> None:
    """Raise :class:`ConfigError` unless both classes have labelled rows."""
    n_pos, n_neg = int((labels == 1).sum()), int((labels == 0).sum())
    if n_pos == 0 or n_neg == 0:
        msg = (
            f"the labels need both classes, found {n_pos} positive and {n_neg} negative rows "
            f"(and {int((labels == -1).sum())} unknown)"
        )
        raise ConfigError(msg)


def _train_booster(
    matrix: np.ndarray,
    labels: np.ndarray,
    candidate: Candidate,
    *,
    options: ModelOptions,
    monotone: list[int],
    categorical: list[int],
) -> Any:
    """Train one LightGBM booster on labelled rows, plus background rows if the recipe says so."""
    import lightgbm as lgb

    use, weight = _training_rows(labels, candidate)
    target = (labels[use] == 1).astype(float)
    params = candidate.params(options.seed, options.num_threads)
    if any(monotone):
        params["monotone_constraints"] = monotone
        params["monotone_constraints_method"] = "intermediate"
    dataset = lgb.Dataset(
        matrix[use],
        label=target,
        weight=weight,
        feature_name=[f"f{j}" for j in range(matrix.shape[1])],
        categorical_feature=categorical or "auto",
        free_raw_data=True,
        params={"verbosity": -1, "max_bin": 255},
    )
    return lgb.train(params, dataset, num_boost_round=candidate.num_boost_round)


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    keep = (labels >= 0) & np.isfinite(scores)
    y = labels[keep]
    if len(np.unique(y)) < 2:
        return math.nan
    return float(roc_auc_score(y, scores[keep]))


@dataclass
class _Design:
    """A training set turned into matrices: what fit and its inner folds share.

    ``base`` holds every table feature; ``group_constant`` the columns that
    only name a group, which a candidate leaves out unless it says
    ``group_features``.
    """

    specs: list[FeatureSpec]
    base: np.ndarray
    labels: np.ndarray
    groups: np.ndarray
    xy: np.ndarray | None
    spacing: float | None
    group_constant: list[int]
    #: the monotone sign of each evidence feature (empty without evidence)
    evidence_signs: list[int]

    def columns(self, candidate: Candidate) -> list[int]:
        """The table features ``candidate`` learns from."""
        if candidate.group_features:
            return list(range(len(self.specs)))
        dropped = set(self.group_constant)
        return [j for j in range(len(self.specs)) if j not in dropped]

    def constraints(self, candidate: Candidate) -> tuple[list[int], list[int]]:
        """Monotone constraints and categorical columns of ``candidate``'s matrix."""
        columns = self.columns(candidate)
        categorical = [k for k, j in enumerate(columns) if self.specs[j].kind == "category"]
        return [0] * len(columns) + self.evidence_signs, categorical


def _evidence_for(
    design: _Design, train: np.ndarray, rows: np.ndarray, options: ModelOptions
) -> tuple[np.ndarray, Evidence | None]:
    """Evidence features of ``rows`` drawn from the labelled rows of ``train`` only."""
    if design.xy is None:
        return np.zeros((len(rows), 0)), None
    evidence = build_evidence(
        design.xy[train],
        design.labels[train],
        design.groups[train],
        spacing=design.spacing,
        bandwidths=options.evidence_bandwidths,
        shares=options.evidence_shares,
    )
    return evidence.features(design.xy[rows], design.groups[rows]), evidence


def _matrix(
    design: _Design, candidate: Candidate, rows: np.ndarray, extra: np.ndarray
) -> np.ndarray:
    columns = np.asarray(design.columns(candidate), dtype=np.intp)
    return np.hstack([design.base[np.ix_(rows, columns)], extra])


def _training_rows(labels: np.ndarray, candidate: Candidate) -> tuple[np.ndarray, np.ndarray]:
    """Rows a recipe learns from and their weights: labelled rows, plus background if asked."""
    use = labels >= 0
    if candidate.background_weight > 0:
        use = np.ones(len(labels), dtype=bool)
    weight = np.where(labels[use] >= 0, 1.0, candidate.background_weight)
    return use, weight


def _fit_member(
    design: _Design,
    candidate: Candidate,
    rows: np.ndarray,
    extra: np.ndarray,
    options: ModelOptions,
) -> Any:
    """Train ``candidate``'s booster on ``rows`` (their evidence features ``extra``)."""
    monotone, categorical = design.constraints(candidate)
    return _train_booster(
        _matrix(design, candidate, rows, extra),
        design.labels[rows],
        candidate,
        options=options,
        monotone=monotone,
        categorical=categorical,
    )


def _member_raw(
    design: _Design, candidate: Candidate, booster: Any, rows: np.ndarray, extra: np.ndarray
) -> np.ndarray:
    return np.asarray(booster.predict(_matrix(design, candidate, rows, extra), raw_score=True))


def _inner_scores(
    design: _Design, options: ModelOptions
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Inner out-of-fold raw scores of every recipe (``(n_recipes, n_rows)``).

    Each distinct member recipe is trained once per fold; an ensemble's score
    is the mean of its members' scores, so comparing ensembles costs nothing.
    """
    n = len(design.labels)
    atoms: list[Candidate] = []
    for recipe in options.candidates:
        atoms += [m for m in members_of(recipe) if m not in atoms]
    atom_oof = np.full((len(atoms), n), np.nan)
    n_groups = len(np.unique(design.groups))
    folds = min(options.inner_folds, n_groups)
    scored = design.labels >= 0
    for _name, train, held in group_splits(design.groups, scored, folds):
        if not scored[held].any():
            continue
        train_labels = design.labels[train]
        if not ((train_labels == 1).any() and (train_labels == 0).any()):
            continue
        train_extra, _ = _evidence_for(design, train, train, options)
        held_extra, _ = _evidence_for(design, train, held, options)
        for a, candidate in enumerate(atoms):
            fitted = _fit_member(design, candidate, train, train_extra, options)
            atom_oof[a, held] = _member_raw(design, candidate, fitted, held, held_extra)
    oof = np.vstack(
        [
            np.mean([atom_oof[atoms.index(m)] for m in members_of(recipe)], axis=0)
            for recipe in options.candidates
        ]
    )
    report = [
        {"candidate": recipe.name, "inner_auc": _auc(design.labels, oof[r])}
        for r, recipe in enumerate(options.candidates)
    ]
    return oof, report


def _choose(
    oof: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    report: list[dict[str, Any]],
    options: ModelOptions,
) -> int:
    """Index of the recipe to keep, from the inner out-of-fold scores ``oof``.

    ``best``: the highest inner pooled ROC-AUC. ``one-se`` (the default): the
    first recipe (the default one) unless another beats it by more than one
    standard error of the difference, estimated by resampling whole groups
    (Breiman's one-standard-error rule). Inner scores of near-equal recipes
    differ mostly by chance; switching on chance adds variance, not skill.
    Each report entry gets the difference and its standard error.
    """
    aucs = np.asarray([r["inner_auc"] for r in report], dtype=float)
    if not np.isfinite(aucs).any():
        return 0
    best = int(np.nanargmax(aucs))
    if options.selection == "best" or best == 0 or not np.isfinite(aucs[0]):
        return best
    from sklearn.metrics import roc_auc_score

    scored = (labels >= 0) & np.isfinite(oof).all(axis=0)
    y, g = labels[scored], np.asarray(groups)[scored]
    names, inverse = np.unique(g, return_inverse=True)
    rows_of = [np.flatnonzero(inverse == k) for k in range(len(names))]
    rng = np.random.default_rng(options.seed)
    differences: list[np.ndarray] = []
    for _ in range(_BOOTSTRAP):
        rows = np.concatenate([rows_of[k] for k in rng.integers(0, len(names), len(names))])
        if len(np.unique(y[rows])) < 2:
            continue
        sample = [roc_auc_score(y[rows], oof[r, scored][rows]) for r in range(len(report))]
        differences.append(np.asarray(sample) - sample[0])
    if len(differences) < 10:
        return best
    se = np.std(np.vstack(differences), axis=0)
    for r, entry in enumerate(report):
        entry["difference_to_first"] = float(aucs[r] - aucs[0])
        entry["standard_error"] = float(se[r])
    return best if aucs[best] - aucs[0] > se[best] else 0


#: Group resamples for the standard error of the one-standard-error rule.
_BOOTSTRAP = 200


def fit(
    X: pd.DataFrame,
    y: Any,
    groups: Any = None,
    *,
    xy: np.ndarray | None = None,
    options: ModelOptions | None = None,
    features: Sequence[FeatureSpec] | None = None,
    metadata: dict[str, Any] | None = None,
) -> RiskModel:
    """Train a calibrated :class:`RiskModel` on the rows of ``X``.

    ``y`` holds 1 (positive), 0 (negative) or -1/NaN (unknown) per row;
    ``groups`` the spatial group of each row (district, municipality, block);
    ``xy`` metric coordinates ``(n, 2)`` for the spatial-evidence features and,
    without groups, for square blocks. Every column of ``X`` is a candidate
    feature (choose them before calling; see
    :func:`minemap.risk.table.identifier_reason`). Without groups or
    coordinates, the inner folds are runs of consecutive rows (never random).
    """
    options = options or ModelOptions()
    labels = as_labels(y)
    if len(labels) != len(X):
        msg = f"{len(labels)} labels for {len(X)} rows"
        raise ConfigError(msg)
    check_labels(labels)
    specs = list(features) if features is not None else infer_features(X)
    if not specs:
        msg = "no usable feature columns"
        raise ConfigError(msg)
    base, _ = encode(X, specs)
    coords = None
    if xy is not None and options.evidence:
        coords = np.asarray(xy, dtype=float)
        if coords.shape != (len(X), 2):
            msg = f"xy must have shape ({len(X)}, 2), not {coords.shape}"
            raise ConfigError(msg)
    spacing = None
    if groups is not None:
        group_names = np.asarray(groups).astype(str)
        if len(group_names) != len(X):
            msg = f"{len(group_names)} groups for {len(X)} rows"
            raise ConfigError(msg)
        group_origin = "given"
    elif xy is not None:
        from minemap.risk.evidence import cell_spacing

        spacing = cell_spacing(np.asarray(xy, dtype=float))
        size = options.block_size or 20.0 * spacing
        group_names = square_blocks(np.asarray(xy, dtype=float), size).astype(str)
        group_origin = f"square blocks of {size:.0f} m"
    else:
        group_names = row_chunks(len(X), max(options.inner_folds, 5)).astype(str)
        group_origin = "runs of consecutive rows"

    constant: list[int] = []
    if options.drop_group_constant and groups is not None:
        constant = group_constant_columns(base, group_names)
        if len(constant) == len(specs):
            constant = []  # nothing else to learn from: keep them rather than nothing
    signs: list[int] = []
    if coords is not None:
        from minemap.risk.evidence import cell_spacing

        spacing = spacing or cell_spacing(coords)
        signs = Evidence(
            np.zeros((0, 2)),
            np.zeros(0),
            np.zeros(0),
            spacing,
            options.evidence_bandwidths,
            options.evidence_shares,
        ).monotone
    design = _Design(specs, base, labels, group_names, coords, spacing, constant, signs)
    oof, report = _inner_scores(design, options)
    best = _choose(oof, labels, group_names, report, options)
    recipe = options.candidates[best]
    calibrator = fit_calibrator(oof[best], labels, method=options.calibration)
    everything = np.arange(len(labels))
    extra, evidence = _evidence_for(design, everything, everything, options)
    used = sorted({j for m in members_of(recipe) for j in design.columns(m)})
    position = {j: k for k, j in enumerate(used)}
    members = []
    for candidate in members_of(recipe):
        booster = _fit_member(design, candidate, everything, extra, options)
        columns = [position[j] for j in design.columns(candidate)]
        columns += list(range(len(used), len(used) + extra.shape[1]))
        members.append(Member(candidate=candidate, booster=booster, columns=columns))
    dropped = {
        specs[j].name: "constant within every group (identifies the group)"
        for j in range(len(specs))
        if j not in position
    }
    specs = [specs[j] for j in used]
    info = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": len(labels),
        "positives": int((labels == 1).sum()),
        "negatives": int((labels == 0).sum()),
        "unknown": int((labels == -1).sum()),
        "groups": len(np.unique(group_names)),
        "group_origin": group_origin,
        "inner_cv": report,
        "chosen": recipe.name,
        "dropped_features": dropped,
        "seed": options.seed,
        "num_threads": options.num_threads,
    }
    try:
        from minemap import __version__

        info["minemap_version"] = __version__
    except ImportError:  # pragma: no cover - the package always has a version
        pass
    info.update(metadata or {})
    log.info("chose %s (inner CV %s)", recipe.name, report)
    return RiskModel(
        features=specs,
        members=members,
        calibrator=calibrator,
        recipe=recipe.name,
        evidence=evidence,
        metadata=info,
    )
