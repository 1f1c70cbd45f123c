"""A scan's read split into one single-threaded query per thread, each over a share of the files.

DuckDB reads gzipped JSON about 20% slower with two threads in one query than with two
single-threaded queries over half the files each, and the read is most of a scan. So when the
rules read cloudtrail_events only under a row filter (engine/row_filter.py), each share's query
keeps the rows that pass it in a table of its own, in parallel, and the rules then run over
those few rows. The read hook counts every file as before, each query logging its own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ducktrail.engine.interrupts import interrupts_deferred
from ducktrail.engine.literal_paths import literals

# The adapter's variables that shape a read; each share's connection takes the engine's values.
READ_VARIABLES = ("ducktrail_read_type", "ducktrail_json_format", "ducktrail_maximum_object_size")
RELATION = "ducktrail_shares"


@contextmanager
def read_in_shares(con: Any, files: list[str], select_sql: str, shares: int) -> Iterator[str]:
    """Run `select_sql` (a query of cloudtrail_events) over `shares` shares of `files` at once,
    one thread each; yields the name of a view of all their rows, dropped on leaving. Raises the
    first share's error, as one query over all the files would have."""
    tables = [f"ducktrail_share_{index}" for index in range(shares)]
    parts = balanced(files, shares)
    values = [con.execute("SELECT getvariable(?)", [name]).fetchone()[0] for name in READ_VARIABLES]
    (threads,) = con.execute("SELECT current_setting('threads')").fetchone()
    cursors = [con.cursor() for _ in tables]
    try:
        for index, cursor in enumerate(cursors):
            cursor.execute("SET VARIABLE ducktrail_files = ?", [literals(parts[index])])
            for name, value in zip(READ_VARIABLES, values, strict=True):
                cursor.execute(f"SET VARIABLE {name} = ?", [value])
        # Each query then runs on its own calling thread only.
        con.execute("SET threads = 1")
        try:
            _run_at_once(
                [
                    (cursor, f"CREATE OR REPLACE TABLE {table} AS {select_sql}")
                    for cursor, table in zip(cursors, tables, strict=True)
                ]
            )
        finally:
            con.execute(f"SET threads = {int(threads)}")
        con.execute(f"CREATE OR REPLACE VIEW {RELATION} AS " + " UNION ALL ".join(f"FROM {t}" for t in tables))
        yield RELATION
    finally:
        con.execute(f"DROP VIEW IF EXISTS {RELATION}")
        for table in tables:
            con.execute(f"DROP TABLE IF EXISTS {table}")
        for cursor in cursors:
            cursor.close()


def balanced(files: list[str], shares: int) -> list[list[str]]:
    """The files in `shares` lists of about equal bytes, largest file first to the lightest
    list: S3 deliveries range from a few events to 50 MB, and the scan waits for the last share.

    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> paths = []
    >>> for name, size in [("a", 9), ("b", 5), ("c", 4), ("d", 1)]:
    ...     paths.append(os.path.join(folder, name))
    ...     _ = open(paths[-1], "wb").write(b"x" * size)
    >>> [[os.path.basename(p) for p in share] for share in balanced(paths, 2)]
    [['a', 'd'], ['b', 'c']]
    """
    loads = [0] * shares
    parts: list[list[str]] = [[] for _ in range(shares)]
    for size, path in sorted(((_size(path), path) for path in files), key=lambda item: -item[0]):
        lightest = loads.index(min(loads))
        parts[lightest].append(path)
        loads[lightest] += size
    return parts


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0  # the read reports it


def _run_at_once(statements: list[tuple[Any, str]]) -> None:
    errors: list[BaseException | None] = [None] * len(statements)
    done = [threading.Event() for _ in statements]
    stopping = threading.Event()

    def run(index: int) -> None:
        cursor, sql = statements[index]
        try:
            if not stopping.is_set():
                cursor.execute(sql)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread below
            errors[index] = exc
        finally:
            done[index].set()

    started: list[int] = []
    try:
        # Ctrl-C while the threads start would leave some running and some not; it is taken
        # once they all are (and then stops them all, below).
        with interrupts_deferred():
            for index in range(len(statements)):
                threading.Thread(target=run, args=(index,), daemon=True).start()
                started.append(index)
        for index in started:
            done[index].wait()
    except BaseException:
        # Ctrl-C (or a thread that could not start): stop every query before the caller closes
        # the cursors, which DuckDB refuses while a query runs on one. Thread.join is no use
        # here: interrupted, it can mark a thread that still runs as stopped (Python 3.11).
        with interrupts_deferred():
            stopping.set()
            for index in started:
                while not done[index].wait(0.05):
                    statements[index][0].interrupt()
        raise
    for error in errors:
        if error is not None:
            raise error
