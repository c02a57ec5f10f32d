"""Kinds are found under the names users type."""

from __future__ import annotations

import pytest

from minemap.errors import ConfigError
from minemap.records.schema import get_kind


@pytest.mark.parametrize(
    "typed", ["eore_sessions", "eore-sessions", "eore", "EORE", "Eore-Sessions"]
)
def test_kind_names_as_typed(typed: str) -> None:
    assert get_kind(typed).name == "eore_sessions"


def test_minefield_records_with_a_hyphen() -> None:
    assert get_kind("minefield-records").name == "minefield_records"


def test_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown record kind 'mines'; known kinds: .*hazards"):
        get_kind("mines")
