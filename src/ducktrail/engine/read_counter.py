"""Live counts of the files and events a running DuckDB scan has read, for the progress line.

The source adapters call the macro `ducktrail_value_read(source_file, records)` once per
top-level JSON value they read: a whole {"Records": [...]} file, or one line of an NDJSON file.
The adapters define it as a no-op; `count_reads` redefines it to call back into Python, which
DuckDB does from its worker threads while the query runs. DuckDB's own query_progress cannot
say how many files or events are done, only a percentage of the planned work.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

COUNTER_FUNCTION = "ducktrail_count_value_read"


@dataclass(frozen=True)
class ReadCounts:
    files: int
    events: int


class ReadCounter:
    """Files seen and records read so far; safe to read from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: set[str] = set()
        self._events = 0

    def record(self, source_file: str, records: int | None) -> bool:
        with self._lock:
            self._files.add(source_file)
            self._events += records or 0
        return True

    def reset(self) -> None:
        with self._lock:
            self._files.clear()
            self._events = 0

    def snapshot(self) -> ReadCounts:
        """
        >>> counter = ReadCounter()
        >>> counter.record("a.json.gz", 5000), counter.record("b.json", 1), counter.record("b.json", 1)
        (True, True, True)
        >>> counter.snapshot()
        ReadCounts(files=2, events=5002)
        """
        with self._lock:
            return ReadCounts(len(self._files), self._events)


def count_reads(con: Any, duckdb: Any) -> ReadCounter:
    """Make the adapter loaded on `con` report every value it reads to the returned counter.

    Call after the adapter SQL ran: it replaces the adapter's no-op macro. Raises duckdb.Error
    when this DuckDB cannot register Python functions.
    """
    counter = ReadCounter()
    types = duckdb.sqltypes
    con.create_function(
        COUNTER_FUNCTION,
        counter.record,
        [types.VARCHAR, types.BIGINT],
        types.BOOLEAN,
        null_handling="special",
        side_effects=True,
    )
    hook = f"{COUNTER_FUNCTION}(source_file, records)"
    con.execute(f"CREATE OR REPLACE MACRO ducktrail_value_read(source_file, records) AS {hook}")
    return counter
