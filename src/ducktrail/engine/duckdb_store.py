"""An ingested DuckDB database: the canonical relation stored once, then scanned in place.

`ingest` reads new or changed CloudTrail files through the source adapter into the table
cloudtrail_events of a database file, and records each file (path, size, modification time) in
ducktrail_ingested_files so a later ingest skips it. Analysts can open the file in DuckDB and
query cloudtrail_events directly; `ducktrail scan --db` runs the rules over it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ducktrail.engine.duckdb_scan import UNRECOGNIZED, DuckDBEngine, FileCount, first_line
from ducktrail.errors import InputError

EVENTS_TABLE = "cloudtrail_events"
FILES_TABLE = "ducktrail_ingested_files"
STORAGE_VERSION = "v1.5.0"


@dataclass(frozen=True)
class FileStamp:
    size: int
    mtime: float


class Store:
    """A database file attached to an engine (as `store`) for ingesting into it."""

    def __init__(self, engine: DuckDBEngine, path: str) -> None:
        self.engine = engine
        self.path = path
        # An empty file (`mktemp`, `touch`) is a database yet to be written, but DuckDB only
        # creates one where no file is: it is replaced, keeping its permissions.
        mode = _empty_file_mode(path)
        if mode is not None:
            os.remove(path)
        # New databases are written in a format DuckDB 1.5 can still open, for analysts'
        # shells that lag the Python package.
        options = "" if os.path.exists(path) else f" (STORAGE_VERSION '{STORAGE_VERSION}')"
        try:
            engine.con.execute(f"ATTACH ? AS store{options}", [path])
        except engine.resource_errors:
            raise  # not the file's fault: the engine's exit reports it
        except engine.error_types as exc:
            raise InputError(f"cannot open the database: {first_line(exc)}", path=path) from None
        if mode is not None:
            os.chmod(path, mode)
        tables = {
            name
            for (name,) in engine.con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'store'"
            ).fetchall()
        }
        if EVENTS_TABLE in tables and FILES_TABLE not in tables:
            raise InputError(
                f"holds a table {EVENTS_TABLE} that ducktrail did not make (no {FILES_TABLE} beside it);"
                " ingest into another database",
                path=path,
            )
        engine.con.execute(
            f"CREATE TABLE IF NOT EXISTS store.{FILES_TABLE} ("
            " path VARCHAR PRIMARY KEY, size BIGINT, mtime DOUBLE, events BIGINT, ingested_at TIMESTAMP)"
        )

    def known_files(self) -> dict[str, FileStamp]:
        rows = self.engine.con.execute(f"SELECT path, size, mtime FROM store.{FILES_TABLE}").fetchall()
        return {path: FileStamp(size, mtime) for path, size, mtime in rows}

    def ingest(self, files: list[str], stamps: dict[str, FileStamp]) -> dict[str, FileCount]:
        """Replace these files' events in the store by what they hold now, in one transaction."""
        con = self.engine.con
        # The adapter's read hook counts each file as the insert reads it. Counting a batch's
        # stored rows instead scans the whole table each time: ingest time would grow with the
        # square of the data.
        counter = self.engine.count_reads()
        con.execute("BEGIN TRANSACTION")
        try:
            self._create_events_table()
            con.execute(f"DELETE FROM store.{EVENTS_TABLE} WHERE source_file IN (SELECT unnest(?::VARCHAR[]))", [files])
            if counter is not None:
                counter.reset()
            # Rows that are not events are counted, not kept. Sorted by source and name, each
            # batch stores an event type in few row groups, whose min/max let a rule's
            # `event_source = ...` skip the rest of the table unread.
            con.execute(
                f"INSERT INTO store.{EVENTS_TABLE} BY NAME FROM cloudtrail_events WHERE NOT ({UNRECOGNIZED})"
                " ORDER BY event_source, event_name, event_time"
            )
            counts = counter.file_counts() if counter is not None else self._counted()
            con.execute(
                f"INSERT OR REPLACE INTO store.{FILES_TABLE}"
                " SELECT unnest($paths), unnest($sizes), unnest($mtimes), unnest($events), now()::TIMESTAMP",
                {
                    "paths": files,
                    "sizes": [stamps[path].size for path in files],
                    "mtimes": [stamps[path].mtime for path in files],
                    "events": [_events(counts.get(path)) for path in files],
                },
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return counts

    def ensure_events_table(self) -> None:
        """Create the (empty) events table if no batch has: `scan --db` and analysts' SQL then work
        on a database that holds no files yet."""
        (exists,) = self.engine.con.execute(
            "SELECT count(*) > 0 FROM duckdb_tables() WHERE database_name = 'store' AND table_name = ?", [EVENTS_TABLE]
        ).fetchone()
        if exists:
            return
        with self.engine.over_no_files():
            self._create_events_table()

    def _create_events_table(self) -> None:
        self.engine.con.execute(f"CREATE TABLE IF NOT EXISTS store.{EVENTS_TABLE} AS FROM cloudtrail_events LIMIT 0")

    def _counted(self) -> dict[str, FileCount]:
        """Each file's records, read once more: where DuckDB cannot log what the hook counts."""
        rows = self.engine.con.execute(
            f"SELECT source_file, count(*), count(*) FILTER (WHERE {UNRECOGNIZED}) FROM cloudtrail_events"
            " GROUP BY source_file"
        ).fetchall()
        return {path: FileCount(path, records, unrecognized) for path, records, unrecognized in rows}

    def forget(self, files: list[str]) -> None:
        """Drop files from the ingested list (they did not hold CloudTrail events after all)."""
        con = self.engine.con
        con.execute(f"DELETE FROM store.{EVENTS_TABLE} WHERE source_file IN (SELECT unnest(?::VARCHAR[]))", [files])
        con.execute(f"DELETE FROM store.{FILES_TABLE} WHERE path IN (SELECT unnest(?::VARCHAR[]))", [files])

    def totals(self) -> tuple[int, int]:
        return held_totals(self.engine, f"store.{FILES_TABLE}")


def _empty_file_mode(path: str) -> int | None:
    """The permission bits of `path` if it is an empty regular file, else None."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mode & 0o7777 if stat.st_size == 0 and os.path.isfile(path) else None


def held_totals(engine: DuckDBEngine, files_table: str) -> tuple[int, int]:
    """(files, events) a database holds, from its list of ingested files."""
    files, events = engine.con.execute(f"SELECT count(*), coalesce(sum(events), 0) FROM {files_table}").fetchone()
    return int(files), int(events)


def _events(count: FileCount | None) -> int:
    return 0 if count is None else count.records - count.unrecognized


def open_for_scan(path: str, *, threads: int | None, memory_limit: str | None) -> tuple[DuckDBEngine, dict[str, Any]]:
    """An engine over an ingested database, read-only, and what it holds."""
    if os.path.isdir(path):
        raise InputError("is a folder, not a database file (make one with `ducktrail ingest`)", path=path)
    if not os.path.isfile(path):
        raise InputError("no such database file (create it with `ducktrail ingest`)", path=path)
    engine = DuckDBEngine(threads=threads, memory_limit=memory_limit, database=path)
    tables = {name for (name,) in engine.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    missing = [table for table in (EVENTS_TABLE, FILES_TABLE) if table not in tables]
    if missing:
        raise InputError(
            f"not a ducktrail database (no {' and no '.join(missing)} table; make one with `ducktrail ingest`)",
            path=path,
        )
    files, events = held_totals(engine, FILES_TABLE)
    return engine, {"files": files, "events": events}
