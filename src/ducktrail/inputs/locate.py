"""Find, in Python, the record a problem sits in: only on the error path, never per scan."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from typing import Any

GZIP_MAGIC = b"\x1f\x8b"

# A record counts as a CloudTrail event when it carries any of these; the SQL side uses the
# same test on the canonical columns (engine/duckdb_scan.py, UNRECOGNIZED).
EVENT_KEYS = ("eventVersion", "eventTime", "eventSource", "eventName", "eventID")
PLACEHOLDERS = ("", "-", "none")


def is_gzip(path: str) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def starts_like_json(path: str) -> bool:
    with open(path, "rb") as handle:
        return handle.read(64).lstrip()[:1] in (b"{", b"[")


def is_event(record: Any) -> bool:
    """
    >>> is_event({"eventName": "Invoke"}), is_event({"eventName": ""}), is_event({"foo": 1})
    (True, False, False)
    """
    return isinstance(record, dict) and any(
        record.get(key) is not None and record.get(key) not in PLACEHOLDERS for key in EVENT_KEYS
    )


def records(path: str) -> Iterator[tuple[int, Any]]:
    """(record number, value): positions in Records for a trail file, lines for NDJSON."""
    opener = gzip.open if is_gzip(path) else open
    with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
        text = handle.read()
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    if isinstance(whole, dict) and isinstance(whole.get("Records"), list):
        yield from enumerate(whole["Records"], start=1)
        return
    if whole is not None:
        yield 1, whole
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                yield number, json.loads(line)
            except ValueError:
                yield number, _MALFORMED


_MALFORMED = object()

# The nested shapes the reader's schema insists on (objects and lists of objects); a record
# breaking one makes DuckDB reject the whole file. Scalar fields accept any JSON value.
_SHAPE: dict[str, Any] = {
    "userIdentity": {"sessionContext": {"sessionIssuer": {}}},
    "resources": [{}],
}


def is_malformed(record: Any, shape: Any = _SHAPE) -> bool:
    """
    >>> is_malformed("text"), is_malformed({"userIdentity": "x"}), is_malformed({"resources": [{}]})
    (True, True, False)
    >>> is_malformed({"resources": [5]}), is_malformed({"userIdentity": {"sessionContext": []}})
    (True, True)
    """
    if record is _MALFORMED:
        return True
    if isinstance(shape, list):
        return not isinstance(record, list) or any(
            item is not None and is_malformed(item, shape[0]) for item in record
        )
    if not isinstance(record, dict):
        return True
    return any(
        record.get(key) is not None and is_malformed(record[key], inner) for key, inner in shape.items()
    )


def first_record(path: str, predicate: Any) -> int | None:
    """Number of the first record matching `predicate`, or None (also when unreadable here)."""
    try:
        for number, record in records(path):
            if predicate(record):
                return number
    except (OSError, EOFError, UnicodeDecodeError, zlib.error):
        return None
    return None
