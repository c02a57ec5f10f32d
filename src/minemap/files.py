"""Writing output files whole or not at all.

Every file minemap writes for a user (maps, models, reports, tables) goes
through :func:`replace_when_done`: the content goes to a hidden temporary file
beside the target, which replaces the target only once writing has succeeded.
A failure half-way (bad input found late, a full disk, Ctrl-C) leaves the old
file, or none, and nothing partial behind.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replace_when_done(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s content to; move it into place on success.

    The temporary file sits in the same folder (so the final rename is atomic),
    keeps the target's suffix (GDAL picks drivers by suffix) and has a name of
    its own (two writers never share it). The folder is created when missing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".partial-{secrets.token_hex(4)}-{path.name}")
    try:
        yield tmp
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
