"""Importing a file into the store: all or nothing, every row accounted for.

:func:`import_file` reads a file (:mod:`~minemap.io.readers`), reads its rows
as records of a kind (:mod:`~minemap.io.normalise`), checks links and rules,
looks for duplicates (:mod:`~minemap.io.duplicates`) and writes the batch in
one transaction.

* By default a batch is all or nothing: one refused row refuses the file
  (:class:`ImportRefusedError` lists every row and why) and nothing is written.
* With ``skip_invalid`` the good rows are imported and every refused row is
  written to the rejects CSV with a ``reason`` column.
* Duplicates are reported; ``on_duplicate="skip"`` leaves them out and
  ``"merge"`` merges them into the record they duplicate; either way they are
  listed in the rejects file, so that imported + listed == rows read.

The rejects file holds the file's own columns as read (geometry as WKT in the
file's CRS), preceded by ``row`` and ``reason``, so it can be corrected and
imported again.
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import pandas as pd

from minemap.errors import ConfigError, InputFileError, ValidationError
from minemap.files import replace_when_done
from minemap.io.coords import crs_area
from minemap.io.duplicates import (
    DEFAULT_MIN_OVERLAP,
    DEFAULT_TOLERANCE_M,
    Duplicate,
    find_duplicates,
    merge_into,
)
from minemap.io.mapping import FieldMapping, load_mapping
from minemap.io.normalise import Batch, normalise
from minemap.io.readers import read_table
from minemap.records.schema import SYSTEM_FIELDS, Kind, get_kind
from minemap.records.validate import validate_frame
from minemap.store.base import Store

log = logging.getLogger(__name__)

OnDuplicate = Literal["keep", "skip", "merge"]
ON_DUPLICATE: tuple[str, ...] = ("keep", "skip", "merge")


class ImportRefusedError(InputFileError):
    """Rows of a file were refused and the batch was not written."""

    def __init__(self, path: str | Path, refused: Mapping[int, str], rows_read: int) -> None:
        self.refused = dict(sorted(refused.items()))
        self.rows_read = rows_read
        first_row, first_reason = next(iter(self.refused.items()))
        more = f" (first: row {first_row}, {first_reason})"
        reason = (
            f"{len(self.refused)} of {rows_read} rows refused, nothing imported{more}; "
            "fix them, or import the rest with --skip-invalid --rejects FILE.csv"
        )
        super().__init__(path, reason)

    def lines(self) -> list[str]:
        return [f"row {row}: {reason}" for row, reason in self.refused.items()]


@dataclass
class ImportReport:
    """What an import did; ``imported + len(listed) == rows_read``."""

    kind: str
    path: Path
    format: str
    rows_read: int
    imported_ids: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)
    duplicates: list[Duplicate] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    merged: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    encoding: str | None = None
    rejects: Path | None = None

    @property
    def imported(self) -> int:
        return len(self.imported_ids)

    @property
    def listed(self) -> dict[int, str]:
        """Rows not imported, with the reason: refused, skipped or merged."""
        return dict(sorted({**self.refused, **self.skipped, **self.merged}.items()))

    def lines(self) -> list[str]:
        """The report for a person, one line each."""
        out = [f"{self.path}: {self.format}" + (f", {self.encoding}" if self.encoding else "")]
        out += [f"  note: {n}" for n in self.notes]
        for dup in self.duplicates:
            action = (
                "skipped"
                if dup.row in self.skipped
                else "merged"
                if dup.row in self.merged
                else "kept"
            )
            out.append(f"  row {dup.row}: {dup.describe()}, {action}")
        out += [f"  row {r}: refused: {why}" for r, why in sorted(self.refused.items())]
        summary = (
            f"{self.kind}: {self.rows_read} rows read, {self.imported} imported, "
            f"{len(self.refused)} refused, {len(self.skipped)} skipped, "
            f"{len(self.merged)} merged as duplicates"
        )
        out.append(summary)
        if self.rejects is not None:
            out.append(f"rejects: {self.rejects} ({len(self.listed)} rows)")
        return out


# --- checks against the store -----------------------------------------------------------------


def _refs_of(store: Store, kind: str) -> set[str]:
    frame = store.read(kind)
    return {str(r) for r in frame["ref"]} if len(frame) else set()


def check_links(store: Store, kind: Kind, batch: Batch) -> None:
    """Refuse rows whose ``<x>_ref`` names no record of the linked kind."""
    links = [*kind.links, *(f for f in SYSTEM_FIELDS if f.type == "link")]
    for f in links:
        col = f.file_name
        if col not in batch.frame.columns or f.link is None:
            continue
        values = batch.frame[col]
        wanted = {str(v) for v in values.dropna()}
        if not wanted:
            continue
        known = _refs_of(store, f.link)
        for row, value in values.items():
            if value is not None and not pd.isna(value) and str(value) not in known:
                reason = f"{col}: no {f.link} record {value!r} in the store"
                batch.refuse(cast(int, row), reason)


def check_rows(store: Store, kind: Kind, batch: Batch, *, ignore_ref: set[int]) -> None:
    """Validate the rows not yet refused: fields, geometry, extent, links and refs.

    Uses the store's own check (the validator of :mod:`minemap.records.validate`
    plus links and refs against the stored records) when the engine has one.
    Refused rows are marked in ``batch``; repairs become notes; the frame becomes
    the canonical rows (geometry repaired and in the store CRS, links resolved).
    Rows in ``ignore_ref`` are checked without their ``ref`` (they duplicate a
    stored record by ref and are skipped or merged, not inserted).
    """
    candidates = batch.good
    if not len(candidates):
        batch.frame = candidates  # every row already refused: nothing left to check
        return
    refs = candidates["ref"].copy() if "ref" in candidates.columns else None
    if ignore_ref and refs is not None:
        candidates = candidates.copy()
        candidates.loc[candidates.index.isin(list(ignore_ref)), "ref"] = None
    check = getattr(store, "check", None)
    if check is not None:
        result = check(kind.name, candidates)
    else:
        result = validate_frame(kind.name, candidates, crs=store.crs, extent=store.extent)
    for rec in result.rejects.itertuples(index=False):
        batch.refuse(cast(int, rec.row), str(rec.reason))
    batch.notes.extend(str(r) for r in result.repairs if r.field != "attributes")
    valid = result.valid
    if refs is not None and len(valid):
        valid["ref"] = refs.reindex(valid.index)
    batch.frame = valid
    if check is None:
        check_links(store, kind, batch)


# --- the rejects file -------------------------------------------------------------------------


def _raw_for_rejects(batch: Batch) -> pd.DataFrame:
    raw = pd.DataFrame(batch.raw)  # a plain frame: the geometry column becomes WKT text
    if "geometry" in raw.columns:
        wkt = [g.wkt if g is not None else "" for g in raw["geometry"]]
        raw = raw.drop(columns="geometry").assign(geometry=wkt)
    return raw


@contextmanager
def _staged_rejects(path: Path | None, batch: Batch, listed: dict[int, str]) -> Iterator[None]:
    """Write the rejects file beside its place; move it there only when the body succeeds."""
    if path is None:
        yield
        return
    path = Path(path)
    raw = _raw_for_rejects(batch)
    columns = ["row", "reason", *[str(c) for c in raw.columns if c not in ("row", "reason")]]
    with replace_when_done(path) as tmp:
        with tmp.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(columns)
            for row, reason in sorted(listed.items()):
                values = raw.loc[row]
                cells = [_cell(v) for v in values.reindex(columns[2:])]
                writer.writerow([row, reason, *cells])
        yield


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value


# --- the import -------------------------------------------------------------------------------


def _insert_frame(batch: Batch, rows: list[int]) -> pd.DataFrame:
    frame = batch.frame.loc[rows]
    # links travel as refs (resolved by the store); empty ones and the id twins are left out
    drop = [c for c in frame.columns if c.endswith("_ref") and frame[c].isna().all()]
    drop += [
        c.removesuffix("_ref") + "_id"
        for c in frame.columns
        if c.endswith("_ref") and c not in drop and c.removesuffix("_ref") + "_id" in frame.columns
    ]
    return frame.drop(columns=drop)


def import_file(
    store: Store,
    kind: str,
    path: str | Path,
    *,
    user: str,
    defaults: Mapping[str, str] | None = None,
    mapping: FieldMapping | str | Path | None = None,
    skip_invalid: bool = False,
    rejects: str | Path | None = None,
    on_duplicate: OnDuplicate = "keep",
    tolerance: float = DEFAULT_TOLERANCE_M,
    min_overlap: float = DEFAULT_MIN_OVERLAP,
    layer: str | None = None,
    crs: str | None = None,
    encoding: str | None = None,
) -> ImportReport:
    """Import ``path`` as records of ``kind`` into ``store`` (see the module docstring)."""
    k = get_kind(kind)
    path = Path(path)
    if on_duplicate not in ON_DUPLICATE:
        msg = f"--on-duplicate {on_duplicate!r}: use one of {', '.join(ON_DUPLICATE)}"
        raise ConfigError(msg)
    if skip_invalid and rejects is None:
        msg = "--skip-invalid needs --rejects FILE.csv, so that no refused row goes unlisted"
        raise ConfigError(msg)
    if not isinstance(mapping, FieldMapping):
        mapping = load_mapping(mapping) if mapping is not None else FieldMapping()
    table = read_table(
        path, layer=layer, prefer_layer=k.name, encoding=encoding or mapping.encoding
    )
    area = store.extent or crs_area(store.crs)
    batch = normalise(
        table,
        k,
        store_crs=store.crs,
        area=area,
        mapping=mapping,
        defaults=dict(defaults or {}),
        crs=crs,
    )
    ref_dups = _ref_duplicates(store, k, batch) if on_duplicate != "keep" else set()
    check_rows(store, k, batch, ignore_ref=ref_dups)
    report = ImportReport(
        k.name,
        path,
        table.format,
        batch.rows_read,
        notes=batch.notes,
        encoding=table.encoding,
        rejects=Path(rejects) if rejects is not None else None,
    )
    if batch.refused and not skip_invalid:
        raise ImportRefusedError(path, batch.refused, batch.rows_read)
    report.refused = dict(batch.refused)

    good = batch.good
    existing = _existing(store, k, good, tolerance)
    report.duplicates = find_duplicates(
        k, good, existing, tolerance=tolerance, min_overlap=min_overlap
    )
    # stored record id -> (the record as read, changes folded from every merged row, rows)
    merged_records: dict[int, tuple[dict[Any, Any], dict[str, Any], list[int]]] = {}
    if on_duplicate != "keep":
        for dup in report.duplicates:
            if on_duplicate == "skip":
                report.skipped[dup.row] = f"skipped: {dup.describe()}"
                continue
            row_values = good.loc[dup.row].to_dict()
            fields = [c for c in good.columns if c != "geometry"]
            if dup.other_row is not None:
                # merge into the earlier row of the file before anything is written
                target = batch.frame.loc[dup.other_row].to_dict()
                changes, _ = merge_into(target, row_values, fields)
                for name, value in changes.items():
                    batch.frame.at[dup.other_row, name] = value
            else:
                assert existing is not None
                assert dup.other_id is not None
                if dup.other_id not in merged_records:
                    stored = existing.loc[existing["id"] == dup.other_id].iloc[0].to_dict()
                    merged_records[dup.other_id] = (stored, {}, [])
                record, changes, rows = merged_records[dup.other_id]
                # links are not merged into stored records: they are the store's own ids
                own = [c for c in fields if not c.endswith("_ref")]
                new, _ = merge_into({**record, **changes}, row_values, own)
                changes.update(new)
                rows.append(dup.row)
            report.merged[dup.row] = f"merged: {dup.describe()}"
        good = batch.frame.loc[[r for r in good.index if r not in report.listed]]

    to_insert = [cast(int, r) for r in good.index if r not in report.listed]
    with _staged_rejects(report.rejects, batch, report.listed), store.transaction():
        if to_insert:
            try:
                report.imported_ids = store.insert(
                    k.name, _insert_frame(batch, to_insert), user=user
                )
            except ValidationError as exc:
                raise _with_file_row(exc, path) from None
        for record_id, (record, changes, rows) in merged_records.items():
            if not changes:
                continue
            store.update(
                k.name,
                record_id,
                changes,
                expected_version=int(record["version"]),
                user=user,
                reason=f"merged from {path.name} row(s) {', '.join(map(str, rows))}",
            )
    assert report.imported + len(report.listed) == report.rows_read
    return report


def _with_file_row(exc: ValidationError, path: Path) -> InputFileError:
    """The store's refusal, named by the file's row (frames are indexed by file row)."""
    row = exc.row if isinstance(exc.row, int) else None
    where = f"{exc.field}: " if exc.field else ""
    return InputFileError(path, f"{where}{exc.reason}; nothing imported", row=row)


def _ref_duplicates(store: Store, kind: Kind, batch: Batch) -> set[int]:
    """Rows whose ref is already stored or given by an earlier row."""
    good = batch.good
    if "ref" not in good.columns:
        return set()
    refs = good["ref"].dropna().astype(str)
    if not len(refs):
        return set()
    stored = _refs_of(store, kind.name)
    return {cast(int, r) for r, ref in refs.items() if ref in stored} | {
        cast(int, r) for r in refs[refs.duplicated(keep="first")].index
    }


def _existing(
    store: Store, kind: Kind, rows: pd.DataFrame, tolerance: float
) -> pd.DataFrame | None:
    """Store records that rows of the batch could duplicate."""
    if not len(rows):
        return None
    if kind.geometry is None:
        return store.read(kind.name, with_refs=True)
    geoms = rows.geometry.dropna()
    if not len(geoms):
        return None
    xmin, ymin, xmax, ymax = geoms.total_bounds
    pad = max(tolerance, 1.0)
    return store.read(
        kind.name, bbox=(xmin - pad, ymin - pad, xmax + pad, ymax + pad), with_refs=True
    )
