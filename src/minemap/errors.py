"""The one error tree of minemap.

Every error a user can cause derives from :class:`MinemapError`; each class
also derives from the matching built-in so callers can catch by built-in type
(``except ValueError`` catches a :class:`ValidationError`). The command line
turns a ``MinemapError`` into one line on stderr and exit code 1; anything else
is a bug and shows its traceback.

Messages name what is wrong and where: the file, the row, the field.
"""

from __future__ import annotations

from pathlib import Path


class MinemapError(Exception):
    """Base of every error a user can cause and fix."""


class ConfigError(MinemapError, ValueError):
    """A setting, preset, option value or configuration file is wrong."""


class InputFileError(MinemapError, ValueError):
    """A file cannot be read or is not what it claims to be."""

    def __init__(self, path: str | Path, reason: str, *, row: int | None = None) -> None:
        self.path = str(path)
        self.row = row
        self.reason = reason
        where = f"{self.path}, row {row}" if row is not None else self.path
        super().__init__(f"{where}: {reason}")


class ValidationError(MinemapError, ValueError):
    """A record breaks a rule; ``field`` and ``row`` say where."""

    def __init__(
        self,
        reason: str,
        *,
        kind: str | None = None,
        field: str | None = None,
        row: int | None = None,
    ) -> None:
        self.reason = reason
        self.kind = kind
        self.field = field
        self.row = row
        parts = []
        if kind:
            parts.append(kind)
        if row is not None:
            parts.append(f"row {row}")
        if field:
            parts.append(f"field '{field}'")
        prefix = ", ".join(parts)
        super().__init__(f"{prefix}: {reason}" if prefix else reason)


class NotFoundError(MinemapError, LookupError):
    """A record, file or layer that was asked for does not exist."""


class ConflictError(MinemapError, RuntimeError):
    """A write was based on a stale version of a record, or would duplicate one."""


class PermissionDeniedError(MinemapError, PermissionError):
    """The user's role or organisation does not allow this action."""


class StoreError(MinemapError, OSError):
    """The store cannot be opened, read or written."""


class SchemaVersionError(StoreError):
    """The store was written by a newer (or unknown) version of minemap."""


class MissingDependencyError(MinemapError, ImportError):
    """An optional part is not installed; the message says what to install."""
