"""What each file held, counted while a DuckDB query reads it: for scan counts and progress.

The source adapters call the macro `ducktrail_value_read(source_file, records, unrecognized,
untimed)` once per top-level JSON value they read (a whole {"Records": [...]} file, or one line
of an NDJSON file), with how many records it holds, how many of those are not CloudTrail events,
and how many events have no readable time. The adapters define it as a no-op; `count_reads`
redefines it to write an entry to DuckDB's own in-memory log (`write_log`), which any connection
to the database can query while the read goes on. So the rules' own read of the files yields the
per-file counts: no second pass, no materialised copy of the events, and no call from DuckDB's
threads into Python (whose functions would need numpy, about 50 ms to import on every scan).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

HOOK = "ducktrail_value_read"
LOG_TYPE = "ducktrail.value_read"

# The log entries the hook wrote, as rows (path, records, unrecognized, untimed).
_ENTRIES = (
    "SELECT entry.path, entry.records, entry.unrecognized, entry.untimed FROM ("
    """ SELECT from_json(message, '{"path": "VARCHAR", "records": "BIGINT", "unrecognized": "BIGINT","""
    """ "untimed": "BIGINT"}') AS entry FROM duckdb_logs WHERE type = $log_type)"""
)


@dataclass(frozen=True)
class FileCount:
    path: str
    records: int
    unrecognized: int
    # Events without a readable time: counted only when the scan has a time window, which leaves
    # them out; 0 otherwise.
    untimed: int = 0


@dataclass(frozen=True)
class ReadCounts:
    files: int
    events: int


class ReadCounter:
    """Records and unrecognized records per file so far, from the log of the database `con` is
    connected to; each thread queries it through a cursor of its own."""

    def __init__(self, con: Any) -> None:
        self._con = con
        self._local = threading.local()
        self._untimed = False
        _define_hook(con, untimed=False)

    def count_untimed(self, on: bool) -> None:
        """Whether the hook counts the events without a readable time, which parses the time of
        every event read (about 3% of a scan): only a scan with a time window needs it."""
        if on != self._untimed:
            _define_hook(self._con, untimed=on)
            self._untimed = on

    def reset(self) -> None:
        self._con.execute("CALL truncate_duckdb_logs()")

    def snapshot(self) -> ReadCounts:
        """Files seen and events (records that are CloudTrail events) read so far; callable from
        any thread, also while a query reads the files.

        >>> import duckdb
        >>> con = duckdb.connect()
        >>> counter = count_reads(con)
        >>> con.sql("SELECT ducktrail_value_read(f, n, bad, 0) FROM (VALUES ('a.json.gz', 5000, 0),"
        ...         " ('b.json', 1, 0), ('b.json', 1, 1)) AS v(f, n, bad)").fetchall()
        [(True,), (True,), (True,)]
        >>> counter.snapshot()
        ReadCounts(files=2, events=5001)
        >>> counter.file_counts()["b.json"]
        FileCount(path='b.json', records=2, unrecognized=1, untimed=0)
        """
        files, events = self._query(
            f"SELECT count(DISTINCT path), coalesce(sum(records - unrecognized), 0) FROM ({_ENTRIES})"
        )[0]
        return ReadCounts(int(files), int(events))

    def file_counts(self) -> dict[str, FileCount]:
        """Per file read so far: records, those that are not events, and events without a readable
        time once count_untimed(True) is on.

        >>> import duckdb
        >>> con = duckdb.connect()
        >>> counter = count_reads(con)
        >>> counter.count_untimed(True)
        >>> con.sql("SELECT ducktrail_value_read('a.json', 3, 1, 2)").fetchall()
        [(True,)]
        >>> counter.file_counts()
        {'a.json': FileCount(path='a.json', records=3, unrecognized=1, untimed=2)}
        """
        rows = self._query(
            f"SELECT path, sum(records), sum(unrecognized), sum(untimed) FROM ({_ENTRIES}) GROUP BY path"
        )
        return {path: FileCount(path, *map(int, numbers)) for path, *numbers in rows}

    def _query(self, sql: str) -> list[tuple]:
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self._con.cursor()
        return cursor.execute(sql, {"log_type": LOG_TYPE}).fetchall()


def count_reads(con: Any) -> ReadCounter:
    """Make the adapter loaded on `con` log every value it reads, counted by the returned counter.

    Call after the adapter SQL ran: it replaces the adapter's no-op macro. Raises duckdb.Error on
    a DuckDB without logging to memory (before 1.3).
    """
    con.execute("CALL enable_logging(level = 'info', storage = 'memory')")
    return ReadCounter(con)


def _define_hook(con: Any, *, untimed: bool) -> None:
    # A macro argument its body does not name is never evaluated, so without `untimed` the
    # adapter's count of events without a readable time costs nothing.
    con.execute(
        f"CREATE OR REPLACE MACRO {HOOK}(source_file, records, unrecognized, untimed) AS write_log("
        "to_json({'path': source_file, 'records': records, 'unrecognized': unrecognized,"
        f" 'untimed': {'untimed' if untimed else '0'}}})::VARCHAR,"
        f" level := 'info', log_type := '{LOG_TYPE}', return_value := true)"
    )
