"""The status workflow: draft -> submitted -> approved | rejected."""

from __future__ import annotations

import pytest

from minemap.errors import ValidationError
from minemap.records.schema import WORKFLOW
from minemap.records.workflow import TRANSITIONS, allowed, check_transition


@pytest.mark.parametrize(
    ("current", "new"),
    [
        ("draft", "submitted"),
        ("submitted", "approved"),
        ("submitted", "rejected"),
        ("submitted", "draft"),
        ("rejected", "draft"),
        ("approved", "submitted"),
    ],
)
def test_allowed(current: str, new: str) -> None:
    assert allowed(current, new)
    check_transition(current, new)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        ("draft", "approved"),
        ("draft", "rejected"),
        ("rejected", "approved"),
        ("approved", "rejected"),
        ("approved", "draft"),
        ("draft", "draft"),
    ],
)
def test_refused(current: str, new: str) -> None:
    assert not allowed(current, new)
    with pytest.raises(ValidationError, match=f"cannot move from {current} to {new}"):
        check_transition(current, new, kind="hazards")


def test_every_state_has_its_transitions() -> None:
    assert set(TRANSITIONS) == set(WORKFLOW)
    with pytest.raises(ValidationError, match="unknown workflow state"):
        check_transition("draft", "archived")
