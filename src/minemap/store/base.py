"""The one store interface; engines (GeoPackage, PostGIS) implement it.

Every part of minemap reads and writes records through :class:`Store`,
obtained from :func:`minemap.store.open_store` with a URL: a ``.gpkg`` path
(the embedded default) or ``postgresql://...`` (the server engine).

Frames
------
Reads return a :class:`geopandas.GeoDataFrame` for kinds with geometry (in
the store's CRS, geometry column ``geometry``) and a :class:`pandas.DataFrame`
otherwise, with the columns ``id``, ``ref``, the kind's fields and the system
fields of :mod:`minemap.records.schema`. Links are ``<x>_id`` integer columns;
``with_refs=True`` adds the ``<x>_ref`` columns beside them.

Writes
------
Every write validates (:mod:`minemap.records.validate`), runs in one
transaction (a batch is all or nothing), bumps ``version``, and leaves an
audit entry per record (who, when, what, before, after). Updates carry the
version the caller read; a stale version raises
:class:`~minemap.errors.ConflictError`. Hazard changes append to the hazard's
status history; nothing is overwritten without trace.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from minemap.records.validate import Repair, ValidationResult

Record = dict[str, Any]
BBox = tuple[float, float, float, float]


def _no_rejects() -> pd.DataFrame:
    return pd.DataFrame({"row": pd.Series(dtype=object), "field": [], "reason": []})


@dataclass
class BatchResult:
    """What an insert did: the new ids in order, the refused rows, the repairs made."""

    ids: list[int]
    rejects: pd.DataFrame = field(default_factory=_no_rejects)  # row, field, reason
    repairs: list[Repair] = field(default_factory=list)


class Store(abc.ABC):
    """A national records store."""

    url: str

    @property
    @abc.abstractmethod
    def crs(self) -> str:
        """The store's metric CRS, e.g. ``EPSG:32638``; geometries are kept in it."""

    # --- lifecycle -------------------------------------------------------------
    @abc.abstractmethod
    def init(self, *, crs: str | None = None, extent: BBox | None = None) -> None:
        """Create (or migrate) the schema. ``extent`` is a lon/lat box records must lie in."""

    @property
    @abc.abstractmethod
    def extent(self) -> BBox | None:
        """The lon/lat box set at init, if any."""

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[Any]:
        """All writes inside commit together or not at all."""

    # --- reads -------------------------------------------------------------------
    @abc.abstractmethod
    def read(
        self,
        kind: str,
        *,
        bbox: BBox | None = None,
        ids: Sequence[int] | None = None,
        where: Mapping[str, Any] | None = None,
        with_refs: bool = False,
        include_personal: bool = False,
    ) -> pd.DataFrame:
        """Records of ``kind`` (a GeoDataFrame when the kind has geometry).

        ``bbox`` is in the store's CRS and uses the spatial index; ``where``
        maps field names to required values (equality).
        """

    @abc.abstractmethod
    def get(self, kind: str, record_id: int, *, include_personal: bool = False) -> Record:
        """One record as a dict (``geometry`` as a shapely geometry); NotFoundError if none."""

    @abc.abstractmethod
    def count(self, kind: str) -> int: ...

    # --- writes ------------------------------------------------------------------
    @abc.abstractmethod
    def insert(
        self,
        kind: str,
        records: pd.DataFrame | Sequence[Record],
        *,
        user: str,
        organisation_id: int | None = None,
    ) -> list[int]:
        """Validate and insert a batch; all or nothing. Returns the new ids in order.

        Links may be given as ``<x>_id`` or as ``<x>_ref`` (resolved here).
        """

    @abc.abstractmethod
    def insert_batch(
        self,
        kind: str,
        records: pd.DataFrame | Sequence[Record],
        *,
        user: str,
        organisation_id: int | None = None,
        skip_invalid: bool = False,
    ) -> BatchResult:
        """Like :meth:`insert`, with every refused row listed (``row``, ``field``, ``reason``).

        With ``skip_invalid=False`` any refused row raises
        :class:`~minemap.records.validate.BatchValidationError` (its ``rejects``
        lists them all) and nothing is written; with ``True`` the valid rows are
        written in one transaction and the refused ones returned.
        """

    @abc.abstractmethod
    def check(
        self,
        kind: str,
        records: pd.DataFrame | Sequence[Record],
        *,
        exclude_id: int | None = None,
    ) -> ValidationResult:
        """Validate without writing: fields, geometry, extent, links and refs.

        Rows are named by the frame's index label (1, 2... for a sequence).
        The valid frame has links resolved to ``<x>_id`` and geometry in the
        store CRS. ``exclude_id`` ignores that record in the ref uniqueness check.
        """

    @abc.abstractmethod
    def update(
        self,
        kind: str,
        record_id: int,
        changes: Mapping[str, Any],
        *,
        expected_version: int,
        user: str,
        reason: str | None = None,
    ) -> Record:
        """Change fields of one record; ConflictError when ``expected_version`` is stale."""

    @abc.abstractmethod
    def delete(self, kind: str, record_id: int, *, expected_version: int, user: str) -> None: ...

    @abc.abstractmethod
    def set_workflow(
        self, kind: str, record_id: int, state: str, *, expected_version: int, user: str
    ) -> Record:
        """Move a record along draft -> submitted -> approved | rejected."""

    # --- history and audit ----------------------------------------------------------
    @abc.abstractmethod
    def hazard_history(self, hazard_id: int) -> pd.DataFrame:
        """Every change of a hazard's type, status, area and geometry, oldest first."""

    @abc.abstractmethod
    def audit(
        self,
        *,
        kind: str | None = None,
        record_id: int | None = None,
        user: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> pd.DataFrame:
        """Audit entries (at, user, kind, record_id, action, before, after)."""

    # --- users ---------------------------------------------------------------------
    @abc.abstractmethod
    def add_user(
        self, name: str, *, role: str, password_hash: str, organisation_id: int | None
    ) -> int: ...

    @abc.abstractmethod
    def get_user(self, name: str) -> Record:
        """The user's row (name, role, organisation_id, password_hash); NotFoundError."""

    # --- rasters ------------------------------------------------------------------
    @abc.abstractmethod
    def put_raster(self, name: str, source: Path) -> Path:
        """Copy a raster layer (``dem``, ``landcover``) into the store's raster folder."""

    @abc.abstractmethod
    def raster(self, name: str) -> Path | None:
        """Path of a raster layer kept with the store, or None."""

    # --- backup --------------------------------------------------------------------
    @abc.abstractmethod
    def backup(self, out: Path) -> Path:
        """Write every record, history, audit entry and user to one file."""

    @abc.abstractmethod
    def restore(self, path: Path) -> None:
        """Replace the store's content with a backup; identical records come back."""
