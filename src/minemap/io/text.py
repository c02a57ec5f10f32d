"""Text files of unknown encoding: decoding them and saying which encoding was used.

Field offices hand over CSV files saved by every version of Excel: UTF-8 with
or without a byte-order mark, UTF-16 from "Unicode text", Windows-1251 for
Russian and Azerbaijani Cyrillic, Windows-1254 for Azerbaijani and Turkish
Latin, Windows-1252/Latin-1 for Spanish. UTF-8 is tried first because a
non-UTF-8 file almost never decodes as UTF-8 by accident; among the single-byte
code pages, which all decode any byte, ``charset_normalizer`` picks the one
whose text reads most like a language.
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass
from pathlib import Path

from minemap.errors import InputFileError

#: Delimiters a delimited text file may use.
DELIMITERS = ",;\t|"

#: Single-byte code pages considered after UTF-8, in the order they are preferred on a tie.
LEGACY_ENCODINGS: tuple[str, ...] = ("cp1251", "cp1254", "cp1252", "latin_1", "koi8_r")

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str


def decode_bytes(data: bytes, path: str | Path, *, encoding: str | None = None) -> DecodedText:
    """Decode ``data`` read from ``path``; ``encoding`` forces one.

    Raises :class:`InputFileError` when the bytes are not text in any encoding
    minemap knows (e.g. a binary file renamed ``.csv``).
    """
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            msg = f"unknown encoding {encoding!r}"
            raise InputFileError(path, msg) from None
        try:
            return DecodedText(data.decode(encoding), encoding)
        except UnicodeDecodeError as exc:
            msg = f"not valid {encoding} text at byte {exc.start}"
            raise InputFileError(path, msg) from None
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return DecodedText(data.decode(name), name)
            except UnicodeDecodeError as exc:
                msg = f"starts with a {name} byte-order mark but is not {name} (byte {exc.start})"
                raise InputFileError(path, msg) from None
    if b"\x00" in data:
        # NUL bytes mean UTF-16/32 without a mark or a binary file: neither is safe to guess
        msg = (
            "cannot tell the text encoding (the file holds NUL bytes: binary, or UTF-16 "
            "without a byte-order mark); give --encoding"
        )
        raise InputFileError(path, msg)
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=list(LEGACY_ENCODINGS)).best()
    if best is None or best.encoding is None:
        msg = "cannot tell the text encoding (tried utf-8, " + ", ".join(LEGACY_ENCODINGS)
        raise InputFileError(path, msg + "); give --encoding")
    name = codecs.lookup(best.encoding).name
    if name in ("cp1252", "latin_1", "iso8859-1") and _reads_as_turkic(data):
        name = "cp1254"
    return DecodedText(data.decode(name), name)


def _reads_as_turkic(data: bytes) -> bool:
    """True when the bytes of Ğğ İı Şş (cp1254) appear where cp1252 has Icelandic Ðð Ýý Þþ.

    The two code pages differ in only these six letters, which Azerbaijani and
    Turkish use all the time and Spanish or English never.
    """
    turkic = sum(data.count(bytes([b])) for b in (0xD0, 0xF0, 0xDD, 0xFD, 0xDE, 0xFE))
    return turkic > 0


def sniff_delimiter(text: str) -> str:
    """The delimiter of delimited ``text``: comma, semicolon, tab or pipe.

    :class:`csv.Sniffer` judges whole rows (quoted headers may hold commas);
    when it cannot decide, the delimiter most frequent in the header wins, and
    a single column counts as comma-separated.
    """
    sample = text[:65536]
    # drop a possibly cut last line so the sniffer sees whole rows
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rfind("\n")]
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        lines = sample.splitlines()
        header = lines[0] if lines else ""
        counts = {d: header.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] > 0 else ","


def read_text(path: Path, *, encoding: str | None = None) -> DecodedText:
    """Read and decode a whole text file (see :func:`decode_bytes`)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(path, exc.strerror or str(exc)) from None
    return decode_bytes(data, path, encoding=encoding)
