"""The status workflow of a record: draft -> submitted -> approved | rejected.

A record is written as a ``draft`` by whoever collects it, ``submitted`` for
review, then ``approved`` (it counts in national figures) or ``rejected``
(sent back with a reason). A rejected record is reworked as a draft; a
submitted one can be withdrawn to draft; an approved one can be reopened for
correction (back to submitted), which leaves its trace in the audit.
"""

from __future__ import annotations

from minemap.errors import ValidationError
from minemap.records.schema import WORKFLOW

#: The state every new record starts in.
INITIAL = "draft"

#: state -> states it may move to
TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"submitted"}),
    "submitted": frozenset({"approved", "rejected", "draft"}),
    "rejected": frozenset({"draft"}),
    "approved": frozenset({"submitted"}),
}
assert set(TRANSITIONS) == set(WORKFLOW)


def allowed(current: str, new: str) -> bool:
    """Whether a record in ``current`` may move to ``new``."""
    return new in TRANSITIONS.get(current, frozenset())


def check_transition(current: str, new: str, *, kind: str | None = None) -> None:
    """Raise :class:`ValidationError` unless ``current`` -> ``new`` is allowed."""
    if new not in WORKFLOW:
        msg = f"unknown workflow state {new!r}; states: {', '.join(WORKFLOW)}"
        raise ValidationError(msg, kind=kind, field="workflow")
    if not allowed(current, new):
        nexts = ", ".join(sorted(TRANSITIONS.get(current, ()))) or "none"
        msg = f"cannot move from {current} to {new} (allowed from {current}: {nexts})"
        raise ValidationError(msg, kind=kind, field="workflow")
