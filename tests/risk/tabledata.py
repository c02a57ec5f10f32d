"""Small synthetic feature tables for the model tests, with the real data's awkward habits.

Headers with accents, commas and trailing spaces; group names with the broken
``Ñ`` of the Antioquia table; labels 1/0/-1. The risk rises with ``Distancia,
vía`` falling and ``elevación`` rising, plus noise, so a model has something
to learn and a held-out group can be ranked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

LABEL = "mines_outcome"
GROUP = "Municipio"
FEATURES = ("elevación", "Distancia, vía ", "Víctimas ", "tipo_suelo")
GROUP_NAMES = ("NARI¥O", "PE¥OL", "SAN CARLOS", "GRANADA")


def awkward_table(n_per_group: int = 60, seed: int = 0) -> pd.DataFrame:
    """A cell table of 4 groups side by side on a 1 km grid (degrees), 1/0/-1 labels."""
    rng = np.random.default_rng(seed)
    frames = []
    for g, name in enumerate(GROUP_NAMES):
        n = n_per_group
        col = np.arange(n) % 10 + 10 * g
        row = np.arange(n) // 10
        elevation = rng.normal(1000 + 100 * g, 200, n)
        distance = rng.exponential(2.0, n)
        score = 0.004 * (elevation - 1100) - 0.8 * distance + rng.normal(0, 0.7, n)
        label = (score > np.quantile(score, 0.65)).astype(int)
        unknown = rng.random(n) < 0.25
        label[unknown] = -1
        frames.append(
            pd.DataFrame(
                {
                    "LATITUD_Y": 6.0 + row * 0.009,
                    "LONGITUD_X": -75.0 + col * 0.009,
                    LABEL: label,
                    FEATURES[0]: elevation.round(1),
                    FEATURES[1]: distance.round(3),
                    FEATURES[2]: 10 * (g + 1),  # constant within each group
                    FEATURES[3]: rng.choice(["arcilla", "arena", "roca"], n),
                    GROUP: name,
                    "geometry": [
                        f"POINT ({-75.0 + c * 0.009:.4f} {6.0 + r * 0.009:.4f})"
                        for c, r in zip(col, row, strict=True)
                    ],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def write_csv(frame: pd.DataFrame, path: Path, encoding: str = "utf-8") -> Path:
    frame.to_csv(path, index=False, encoding=encoding)
    return path
