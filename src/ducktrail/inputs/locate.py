"""Find, in Python, what is wrong with a file and where: only on the error path, never per scan."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

GZIP_MAGIC = b"\x1f\x8b"

# A record counts as a CloudTrail event when it carries any of these; the SQL side uses the
# same test on the canonical columns (engine/duckdb_scan.py, UNRECOGNIZED).
EVENT_KEYS = ("eventVersion", "eventSource", "eventName", "eventID")
ECS_EVENT_KEYS = ("provider", "action", "id")  # event.* in Elastic's documents
PLACEHOLDERS = ("", "-", "none")


@dataclass(frozen=True)
class Source:
    """What a --source's files hold, as the checks here and the messages about them need it."""

    # The nested shapes its adapter's schema insists on (objects and lists of objects); a record
    # breaking one makes DuckDB reject the whole file. Scalar fields accept any JSON value.
    shape: dict[str, Any]
    # The fields that make a record an event, as messages name them.
    event_fields: tuple[str, ...]
    # Whether a {"Records": [...]} value holds events (S3 deliveries) or is one record itself.
    records_hold_events: bool
    not_this_source: str  # what a file that is not of this source is
    layout: str  # the top-level values a file of this source holds
    event: str  # one event of this source, and several
    events: str
    other_source_hint: str  # advice for records of the other source among this one's


_ECS_DOCUMENT_SHAPE: dict[str, Any] = {
    "event": {},
    "aws": {"cloudtrail": {"user_identity": {}, "flattened": {}, "resources": [{}]}},
    "source": {},
    "cloud": {"account": {}},
}
# By --source name; source_of tries them in this order.
SOURCES = {
    "cloudtrail": Source(
        shape={"userIdentity": {}, "resources": [{}]},
        event_fields=EVENT_KEYS,
        records_hold_events=True,
        not_this_source="not CloudTrail JSON",
        layout='{"Records": [...]} or one event per line',
        event="a CloudTrail event",
        events="CloudTrail events",
        other_source_hint="Elastic documents among them: scan those with --source ecs",
    ),
    # A line of an Elastic export is a document or a search hit wrapping one (sql/sources/duckdb/ecs.sql).
    "ecs": Source(
        shape={"_source": _ECS_DOCUMENT_SHAPE, **_ECS_DOCUMENT_SHAPE},
        event_fields=(*(f"event.{key}" for key in ECS_EVENT_KEYS), "aws.cloudtrail.event_version"),
        records_hold_events=False,
        not_this_source="not Elastic CloudTrail documents",
        layout="one document per line, as Elastic exports them",
        event="an Elastic CloudTrail document",
        events="Elastic CloudTrail documents",
        other_source_hint="CloudTrail's own events among them: scan those without --source ecs",
    ),
}


def is_gzip(path: str) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def gzip_problem(path: str) -> str | None:
    """What is wrong with a gzip file's compression, checked to the CRC; None when it is sound."""
    try:
        with gzip.open(path, "rb") as handle:
            while handle.read(1 << 20):
                pass
    except EOFError:
        return "gzip data is truncated"
    except (OSError, zlib.error) as exc:
        return f"gzip data is corrupt ({exc})"
    return None


def starts_with(path: str, first: bytes) -> bool:
    """Whether the file's first non-blank byte (after gunzip, for gzip files) is `first`."""
    opener = gzip.open if is_gzip(path) else open
    try:
        with opener(path, "rb") as handle:  # type: ignore[operator]
            return handle.read(4096).lstrip()[:1] == first
    except (OSError, EOFError, zlib.error):
        return False


def source_of(record: Any) -> str | None:
    """The --source whose adapter reads a record as an event: "cloudtrail" (CloudTrail's own
    JSON), "ecs" (an Elastic document or search hit), or None.

    >>> source_of({"eventName": "Invoke"}), source_of({"_source": {"event": {"action": "Invoke"}}})
    ('cloudtrail', 'ecs')
    >>> source_of({"foo": 1}), source_of({"_source": {"eventName": "Invoke"}})
    (None, None)
    """
    return next((name for name in SOURCES if is_event_of(record, name)), None)


def is_event_of(record: Any, source: str) -> bool:
    """Whether the `source` adapter reads a record as an event: the negation of its SQL macro
    ducktrail_not_event (sql/sources/duckdb/).

    >>> is_event_of({"eventName": "Invoke"}, "cloudtrail"), is_event_of({"eventName": "Invoke"}, "ecs")
    (True, False)
    >>> is_event_of({"_source": {"aws": {"cloudtrail": {"event_version": "1.08"}}}}, "ecs")
    True
    >>> is_event_of({"_source": {"eventName": "Invoke"}}, "cloudtrail"), is_event_of({"event": {"id": "-"}}, "ecs")
    (False, False)
    """
    if not isinstance(record, dict):
        return False
    if source == "cloudtrail":
        return _present(record, EVENT_KEYS)
    if source != "ecs":
        raise ValueError(f"no such source: {source}")
    document = record["_source"] if isinstance(record.get("_source"), dict) else record
    cloudtrail = _object(_object(document, "aws"), "cloudtrail")
    return _present(_object(document, "event"), ECS_EVENT_KEYS) or _present(cloudtrail, ("event_version",))


def _object(record: dict[str, Any], key: str) -> dict[str, Any]:
    value = record.get(key)
    return value if isinstance(value, dict) else {}


def _present(record: dict[str, Any], keys: tuple[str, ...]) -> bool:
    return any(record.get(key) is not None and record.get(key) not in PLACEHOLDERS for key in keys)


def is_malformed(record: Any, shape: Any = SOURCES["cloudtrail"].shape) -> bool:
    """Whether a record breaks the nested shapes the reader needs (by default CloudTrail's).

    >>> is_malformed("text"), is_malformed({"userIdentity": "x"}), is_malformed({"resources": [{}]})
    (True, True, False)
    >>> is_malformed({"resources": [5]}), is_malformed({"userIdentity": {"sessionContext": []}})
    (True, False)
    >>> ecs = SOURCES["ecs"].shape
    >>> is_malformed({"_source": {"event": "x"}}, ecs), is_malformed({"event": {}}, ecs)
    (True, False)
    """
    if isinstance(shape, list):
        return not isinstance(record, list) or any(item is not None and is_malformed(item, shape[0]) for item in record)
    if not isinstance(record, dict):
        return True
    return any(record.get(key) is not None and is_malformed(record[key], inner) for key, inner in shape.items())


class InvalidJSON(ValueError):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def _text(path: str) -> str:
    """The file's text; InvalidJSON with the line and column of a byte that is not UTF-8."""
    opener = gzip.open if is_gzip(path) else open
    with opener(path, "rb") as handle:  # type: ignore[operator]
        data = handle.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Counted in characters, as Python's JSON errors count them.
        before = data[data.rfind(b"\n", 0, exc.start) + 1 : exc.start].decode("utf-8", "replace")
        reason = f"not UTF-8: byte 0x{data[exc.start]:02x} at column {len(before) + 1}"
        raise InvalidJSON(data.count(b"\n", 0, exc.start) + 1, reason) from None


class _Duplicated(dict):
    """An object that named one of its keys twice (the later value kept, as json.loads does)."""


def _noting_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return (_Duplicated if len({key for key, _ in pairs}) < len(pairs) else dict)(pairs)


def has_duplicate_keys(value: Any) -> bool:
    """Whether an object in the value, read by records(path, duplicates=True), repeated a key.

    >>> has_duplicate_keys(json.loads('{"a": {"b": 1, "b": 2}}', object_pairs_hook=_noting_duplicates))
    True
    """
    if isinstance(value, _Duplicated):
        return True
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return any(has_duplicate_keys(item) for item in items)


def records(path: str, *, duplicates: bool = False, unwrap: bool = True) -> Iterator[tuple[int, Any]]:
    """(record number, value): positions in Records for a trail file, lines for NDJSON; with
    `duplicates`, objects that repeat a key are marked for has_duplicate_keys. Without `unwrap`
    (a source whose {"Records": [...]} values are records themselves) every value is one record.

    Raises InvalidJSON with the line of the first syntax error.
    """
    text = _text(path)
    loads = partial(json.loads, object_pairs_hook=_noting_duplicates) if duplicates else json.loads
    try:
        whole = loads(text)
    except json.JSONDecodeError as exc:
        if "Extra data" not in exc.msg:
            # One JSON document broken somewhere, or NDJSON whose first line is: both by line.
            first_line = next((line for line in text.splitlines() if line.strip()), "")
            if not _parses(first_line):
                raise InvalidJSON(exc.lineno, _reason(exc)) from None
        yield from _ndjson(text, loads, unwrap)
        return
    if unwrap and isinstance(whole, dict) and isinstance(whole.get("Records"), list):
        yield from enumerate(whole["Records"], start=1)
    else:
        yield 1, whole


def _reason(exc: json.JSONDecodeError) -> str:
    """Python's reason with the column it names; a one-line file is megabytes wide.

    >>> try:
    ...     json.loads('{"a": "x\x01"}')
    ... except json.JSONDecodeError as exc:
    ...     _reason(exc)
    'Invalid control character at column 9'
    """
    return f"{exc.msg.removesuffix(' at')} at column {exc.colno}"


def _ndjson(text: str, loads: Callable[[str], Any], unwrap: bool) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidJSON(number, _reason(exc)) from None
        if unwrap and isinstance(value, dict) and isinstance(value.get("Records"), list):
            for record in value["Records"]:
                yield number, record
        else:
            yield number, value


def _parses(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def first_record(
    path: str, predicate: Callable[[Any], bool], *, duplicates: bool = False, source: str = "cloudtrail"
) -> int | None:
    """Number of the first record of a `source` file matching `predicate`, or None (also when
    unreadable here)."""
    return first_records(path, predicate, duplicates=duplicates, source=source)[0]


def first_records(
    path: str, *predicates: Callable[[Any], bool], duplicates: bool = False, source: str = "cloudtrail"
) -> list[int | None]:
    """For each predicate, the number of the first record of a `source` file matching it, or
    None (also when the file cannot be read here that far), from one read of the file."""
    found: list[int | None] = [None] * len(predicates)

    def note(number: int, record: Any) -> bool:
        for index, predicate in enumerate(predicates):
            if found[index] is None and predicate(record):
                found[index] = number
        return None not in found

    visit_records(path, note, duplicates=duplicates, source=source)
    return found


def visit_records(
    path: str, visit: Callable[[int, Any], bool], *, duplicates: bool = False, source: str = "cloudtrail"
) -> None:
    """Call visit(record number, record) on the records of a `source` file until it returns
    True; stops quietly where the file cannot be read further here."""
    try:
        for number, record in records(path, duplicates=duplicates, unwrap=SOURCES[source].records_hold_events):
            if visit(number, record):
                return
    except (OSError, EOFError, UnicodeDecodeError, zlib.error, InvalidJSON, RecursionError):
        pass


def json_syntax_error(path: str) -> InvalidJSON | None:
    """The first JSON syntax error in the file, with its line; None when Python finds none."""
    try:
        for _ in records(path):
            pass
    except InvalidJSON as exc:
        return exc
    except RecursionError:
        return InvalidJSON(1, "nested deeper than the reader follows")
    except (OSError, EOFError, UnicodeDecodeError, zlib.error):
        return None
    return None
