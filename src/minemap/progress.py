"""Progress display for long work: a bar on a terminal, silence in a pipe.

Library code reports progress through :func:`track` and :func:`steps` so
that the command line shows a bar on stderr when stderr is a terminal and
nothing when it is piped or under test; stdout stays for the command's output.
``MINEMAP_PROGRESS=0`` turns it off, ``=1`` forces it on.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from rich.console import Console

T = TypeVar("T")


def enabled() -> bool:
    forced = os.environ.get("MINEMAP_PROGRESS")
    if forced is not None:
        return forced not in ("0", "", "false", "no")
    return sys.stderr.isatty()


def _console() -> Console:
    """The bar's console: stderr (the switch above looks at stderr, and stdout is output)."""
    from rich.console import Console

    forced = os.environ.get("MINEMAP_PROGRESS") not in (None, "0", "", "false", "no")
    return Console(stderr=True, force_terminal=True if forced else None)


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate over ``items``, showing a bar on a terminal."""
    if not enabled():
        yield from items
        return
    from rich.progress import track as rich_track

    if total is None and isinstance(items, Sequence):
        total = len(items)
    yield from rich_track(
        items, description=description, total=total, transient=True, console=_console()
    )


class Steps:
    """Named steps of a pipeline; ``advance`` moves to the next one."""

    def __init__(self, progress: object | None, task: object | None) -> None:
        self._progress = progress
        self._task = task

    def advance(self, description: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=1, description=description)  # type: ignore[attr-defined]


@contextmanager
def steps(total: int, description: str) -> Iterator[Steps]:
    """A bar over ``total`` named steps (see :class:`Steps`)."""
    if not enabled():
        yield Steps(None, None)
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=_console(),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield Steps(bar, task)
