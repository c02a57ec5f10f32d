"""Synthetic place names in the style of the region (none is a real place)."""

from __future__ import annotations

import numpy as np

_ROOTS = (
    "Gara",
    "Ag",
    "Sari",
    "Gizil",
    "Dash",
    "Gul",
    "Bala",
    "Mirza",
    "Shikh",
    "Kurd",
    "Baba",
    "Chay",
    "Tala",
    "Yanar",
    "Gush",
    "Narin",
    "Kend",
    "Alar",
    "Sey",
    "Husey",
    "Mollav",
    "Gasim",
    "Veli",
    "Hajil",
    "Eyvaz",
    "Khidir",
    "Bahar",
    "Sheyd",
    "Gur",
    "Tut",
    "Armud",
    "Alma",
    "Gaya",
    "Daghl",
    "Yal",
    "Bayat",
    "Jamil",
    "Kosa",
    "Ovshar",
    "Sofu",
)
_SUFFIXES = (
    "li",
    "lar",
    "kend",
    "bulag",
    "dere",
    "tepe",
    "abad",
    "oba",
    "jig",
    "beyli",
    "sheh",
    "agach",
    "yurd",
    "ganli",
    "lu",
)
_PREFIXES = ("Yukhari", "Ashagi", "Yeni", "Boyuk", "Kichik", "Orta")
_RIVER_SUFFIXES = ("chay", "su", "dere")


class NameMaker:
    """Unique names drawn from one random stream."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def _draw(self, suffixes: tuple[str, ...], prefix_share: float) -> str:
        root = _ROOTS[self._rng.integers(len(_ROOTS))]
        suffix = suffixes[self._rng.integers(len(suffixes))]
        name = root + suffix
        if self._rng.random() < prefix_share:
            name = f"{_PREFIXES[self._rng.integers(len(_PREFIXES))]} {name}"
        return name

    def unique(self, suffixes: tuple[str, ...], prefix_share: float) -> str:
        for _ in range(50):
            name = self._draw(suffixes, prefix_share)
            if name not in self._used:
                self._used.add(name)
                return name
        # the syllable space is large but finite: number the rest
        base = self._draw(suffixes, 0.0)
        n = 2
        while f"{base} {n}" in self._used:
            n += 1
        name = f"{base} {n}"
        self._used.add(name)
        return name

    def settlement(self) -> str:
        return self.unique(_SUFFIXES, 0.18)

    def river(self) -> str:
        return self.unique(_RIVER_SUFFIXES, 0.0)

    def district(self) -> str:
        return self.unique(("li", "lar", "kend", "abad", "oba"), 0.0)
