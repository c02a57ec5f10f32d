"""The national records: kinds, vocabularies, validation, workflow and audit.

:mod:`minemap.records.schema` is the contract every other part reads.
"""

from minemap.records.schema import INSERT_ORDER, KINDS, RECORD_KINDS, Field, Kind, get_kind

__all__ = ["INSERT_ORDER", "KINDS", "RECORD_KINDS", "Field", "Kind", "get_kind"]
