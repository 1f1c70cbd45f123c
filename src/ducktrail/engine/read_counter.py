"""What each file held, counted while a DuckDB query reads it: for scan counts and progress.

The source adapters call the macro `ducktrail_value_read(source_file, records, unrecognized)`
once per top-level JSON value they read (a whole {"Records": [...]} file, or one line of an
NDJSON file), with how many records it holds and how many of those are not CloudTrail events.
The adapters define it as a no-op; `count_reads` redefines it to call back into Python, which
DuckDB does from its worker threads while the query runs. So the rules' own read of the files
yields the per-file counts, with no second pass and no materialised copy of the events.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

HOOK = "ducktrail_value_read"
COUNTER_FUNCTION = "ducktrail_count_value_read"


@dataclass(frozen=True)
class FileCount:
    path: str
    records: int
    unrecognized: int


@dataclass(frozen=True)
class ReadCounts:
    files: int
    events: int


class ReadCounter:
    """Records and unrecognized records per file so far; safe to use from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, list[int]] = {}
        self._events = 0

    def record(self, source_file: str, records: int | None, unrecognized: int | None) -> bool:
        records, unrecognized = records or 0, unrecognized or 0
        with self._lock:
            count = self._files.setdefault(source_file, [0, 0])
            count[0] += records
            count[1] += unrecognized
            self._events += records - unrecognized
        return True

    def reset(self) -> None:
        with self._lock:
            self._files.clear()
            self._events = 0

    def snapshot(self) -> ReadCounts:
        """Files seen and events (records that are CloudTrail events) read so far.

        >>> counter = ReadCounter()
        >>> counter.record("a.json.gz", 5000, 0), counter.record("b.json", 1, 0), counter.record("b.json", 1, 1)
        (True, True, True)
        >>> counter.snapshot()
        ReadCounts(files=2, events=5001)
        >>> counter.file_counts()["b.json"]
        FileCount(path='b.json', records=2, unrecognized=1)
        """
        with self._lock:
            return ReadCounts(len(self._files), self._events)

    def file_counts(self) -> dict[str, FileCount]:
        with self._lock:
            return {path: FileCount(path, *count) for path, count in self._files.items()}


def count_reads(con: Any, duckdb: Any) -> ReadCounter:
    """Make the adapter loaded on `con` report every value it reads to the returned counter.

    Call after the adapter SQL ran: it replaces the adapter's no-op macro. Raises duckdb.Error
    when this DuckDB cannot register Python functions (DuckDB 1.x without numpy).
    """
    counter = ReadCounter()
    types = duckdb.sqltypes
    con.create_function(
        COUNTER_FUNCTION,
        counter.record,
        [types.VARCHAR, types.BIGINT, types.BIGINT],
        types.BOOLEAN,
        # Never skip a call (and so a row) on NULL arguments, and never fold or cache one.
        null_handling="special",
        side_effects=True,
    )
    parameters = "source_file, records, unrecognized"
    con.execute(f"CREATE OR REPLACE MACRO {HOOK}({parameters}) AS {COUNTER_FUNCTION}({parameters})")
    return counter
