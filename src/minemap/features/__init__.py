"""Per-cell hazard-map features as pure array functions.

* :mod:`minemap.features.kernels`: the array kernels (capped distance
  transforms, window sums and densities, terrain derivatives);
* :mod:`minemap.features.catalogue`: the documented feature list (name, unit,
  rationale) and the groups that compute them;
* :mod:`minemap.features.inputs`: layers rasterised into the kernels' inputs;
* :mod:`minemap.features.runner`: one implementation, two runners (in memory,
  tiles with halos on Dask) with identical results.
"""

from minemap.features.catalogue import CATEGORICAL, FEATURES, GROUPS, Feature, FeatureGroup
from minemap.features.runner import FeatureStack, compute_features

__all__ = [
    "CATEGORICAL",
    "FEATURES",
    "GROUPS",
    "Feature",
    "FeatureGroup",
    "FeatureStack",
    "compute_features",
]
