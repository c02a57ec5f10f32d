"""Answers kept while the records they were made from are unchanged.

Map clients ask for the same tiles and views again and again (panning back,
several officers on the same districts). Vector tiles and bounding-box
GeoJSON are kept in a small LRU keyed by the store's *data version*:

* a GeoPackage store changes its file (or its ``-wal`` journal) on every
  commit, so the size and modification time of both are the version; a write
  by any process, minemap or QGIS, is seen at once;
* a PostGIS store has no such cheap signal: its version moves every few
  seconds (``POSTGIS_SECONDS``), so another process's write shows up within
  that time, as it would through the tiles' own ``Cache-Control``;
* a write through this application moves the version at once either way.

Only answers that are the same for every caller are cached (no personal data
in them).
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from minemap.api.deps import AppState

POSTGIS_SECONDS = 5.0


class AnswerCache:
    """A thread-safe LRU of byte strings, bounded in entries and in bytes."""

    def __init__(self, max_entries: int = 4096, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Hashable, value: bytes) -> None:
        if len(value) > self.max_bytes // 16:
            return  # one huge answer should not flush the rest
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old)
            self._items[key] = value
            self._bytes += len(value)
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)


def _file_version(path: Path) -> tuple[int, ...]:
    out: list[int] = []
    for p in (path, path.with_name(path.name + "-wal")):
        try:
            st = os.stat(p)
        except FileNotFoundError:
            out += [0, 0]
        else:
            out += [st.st_mtime_ns, st.st_size]
    return tuple(out)


def data_version(state: AppState) -> Hashable:
    """A value that changes whenever the store's records may have changed."""
    url = state.db_url
    if url.lower().endswith(".gpkg"):
        return (state.generation, _file_version(Path(url.removeprefix("gpkg://"))))
    return (state.generation, int(time.monotonic() // POSTGIS_SECONDS))
