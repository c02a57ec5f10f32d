"""Imports, exports and minefield-record digitising: records in and out of the store.

* :func:`import_file` reads GeoPackage, Shapefile (also zipped), GeoJSON,
  KML/KMZ, CSV (WKT, lat/lon, MGRS, ODK geopoint/geoshape columns; any
  encoding), XLSX and ODK/KoboToolbox exports into records of one kind, with
  field mapping (:func:`load_mapping`), all-or-nothing batches, a rejects file
  and duplicate handling; :func:`import_scenario` loads a generated scenario.
* :func:`export_records` writes a kind to GeoPackage (with QGIS styles),
  GeoJSON, KML/KMZ, CSV, XLSX or Shapefile.
* :func:`digitise` turns minefield records into turning points and shapes and
  :func:`score_records` scores them against later finds.

Heavy parts are imported when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "Digitised",
    "ImportRefusedError",
    "ImportReport",
    "digitise",
    "digitise_store",
    "export_records",
    "import_file",
    "import_scenario",
    "load_mapping",
    "read_minefield_file",
    "read_table",
    "score_records",
]

_WHERE = {
    "Digitised": "digitise",
    "digitise": "digitise",
    "digitise_store": "digitise",
    "read_minefield_file": "digitise",
    "score_records": "digitise",
    "ImportRefusedError": "importer",
    "ImportReport": "importer",
    "import_file": "importer",
    "import_scenario": "scenario",
    "export_records": "export",
    "load_mapping": "mapping",
    "read_table": "readers",
}

if TYPE_CHECKING:
    from minemap.io.digitise import (
        Digitised,
        digitise,
        digitise_store,
        read_minefield_file,
        score_records,
    )
    from minemap.io.export import export_records
    from minemap.io.importer import ImportRefusedError, ImportReport, import_file
    from minemap.io.mapping import load_mapping
    from minemap.io.readers import read_table
    from minemap.io.scenario import import_scenario


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"minemap.io.{_WHERE[name]}"), name)
    msg = f"module 'minemap.io' has no attribute {name!r}"
    raise AttributeError(msg)
