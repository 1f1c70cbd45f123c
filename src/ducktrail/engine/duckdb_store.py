"""An ingested DuckDB database: the canonical relation stored once, then scanned in place.

`ingest` reads new or changed CloudTrail files through the source adapter into the table
cloudtrail_events of a database file, and records each file (path, size, modification time, and
the content hash of the adapter that shaped its rows) in ducktrail_ingested_files, so that a later
ingest skips it unless it or the adapter changed. Analysts can open the file in DuckDB and
query cloudtrail_events directly; `ducktrail scan --db` runs the rules over it.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ducktrail.diagnose import RejectedFiles
from ducktrail.engine import warm
from ducktrail.engine.duckdb_scan import UNRECOGNIZED, DuckDBEngine, FileCount, first_line, is_interruption
from ducktrail.engine.literal_paths import unexpanded
from ducktrail.engine.read_fields import COLUMN_FIELDS
from ducktrail.errors import InputError, UsageError

EVENTS_TABLE = "cloudtrail_events"
FILES_TABLE = "ducktrail_ingested_files"
# The columns each table must have, with their types: the events table's are the relation's
# (engine/read_fields.py; VARCHAR unless named here, as the adapter's view gives them).
EVENT_COLUMNS = {
    name: {
        "event_time": "TIMESTAMP",
        "request_parameters": "JSON",
        "resources": 'STRUCT(arn VARCHAR, account_id VARCHAR, "type" VARCHAR)[]',
        "resource_arns": "VARCHAR[]",
    }.get(name, "VARCHAR")
    for name in COLUMN_FIELDS
}
FILES_COLUMNS = {"path": "VARCHAR", "size": "BIGINT", "mtime": "DOUBLE", "events": "BIGINT", "ingested_at": "TIMESTAMP"}
# Columns of the files table that databases made by earlier versions lack: ingest adds them, and a
# scan reads a missing one as NULL.
ADDED_FILES_COLUMNS = {"adapter_sha256": "VARCHAR"}
STORAGE_VERSION = "v1.5.0"


@dataclass(frozen=True)
class FileStamp:
    size: int
    mtime: float
    # The hash of the adapter its rows were made by (engine/adapter_identity.py); None: unknown.
    adapter_sha256: str | None = None


class Store:
    """A database file attached to an engine (as `store`) for ingesting into it."""

    def __init__(self, engine: DuckDBEngine, path: str) -> None:
        self.engine = engine
        self.path = path
        # An empty file (`mktemp`, `touch`) is a database yet to be written, but DuckDB only
        # creates one where no file is: it is replaced, keeping its permissions.
        mode = _empty_file_mode(path)
        if mode is not None:
            try:
                # The file itself: a symbolic link to it stays one, and the database is made behind it.
                os.remove(os.path.realpath(path))
            except OSError as exc:
                raise InputError(f"cannot replace the empty file: {exc.strerror}", path=path) from None
        created = not os.path.exists(path)
        # New databases are written in a format DuckDB 1.5 can still open, for analysts'
        # shells that lag the Python package. TYPE duckdb: a SQLite or other file is refused as
        # such, not handed to an extension DuckDB would try to download.
        options = f"TYPE duckdb, STORAGE_VERSION '{STORAGE_VERSION}'" if created else "TYPE duckdb"
        try:
            engine.con.execute(f"ATTACH ? AS store ({options})", [unexpanded(path)])
            if mode is not None:
                os.chmod(path, mode)
            problem = schema_problem(engine, "store") or unwritable_problem(engine, "store")
            if problem is not None:
                raise InputError(f"{problem}; ingest into another database", path=path)
            # Both tables at once: an ingest stopped in its first batch leaves an empty database
            # that scans, not one that is neither new nor ducktrail's. (The adapter is loaded
            # first: a transaction writes to one database only.)
            with engine.over_no_files(), self._transaction():
                own = FILES_COLUMNS | ADDED_FILES_COLUMNS
                columns = ", ".join(f"{name} {data_type}" for name, data_type in own.items())
                engine.con.execute(f"CREATE TABLE IF NOT EXISTS store.{FILES_TABLE} ({columns}, PRIMARY KEY (path))")
                for name, data_type in ADDED_FILES_COLUMNS.items():
                    engine.con.execute(f"ALTER TABLE store.{FILES_TABLE} ADD COLUMN IF NOT EXISTS {name} {data_type}")
                engine.con.execute(f"CREATE TABLE IF NOT EXISTS store.{EVENTS_TABLE} AS FROM cloudtrail_events LIMIT 0")
        except BaseException as failure:
            # A partly written new file (a full disk) would make every later run fail on it.
            lost = self._remove_new_database(mode) if created else ""
            if is_interruption(failure):
                raise KeyboardInterrupt from None
            if isinstance(failure, engine.error_types) and not isinstance(failure, engine.resource_errors):
                reason = _without_read_only_advice(first_line(failure))
                raise InputError(f"cannot open the database: {reason}{_tilde_hint(path)}{lost}", path=path) from None
            if isinstance(failure, InputError):
                failure.message += lost
            raise

    def _remove_new_database(self, mode: int | None) -> str:
        """Take back a database this run created, leaving what was there before: nothing, or the
        empty file it replaced. Not one another process holds: an ingest started at the same
        moment may have made the file first, and this run failed on its lock. Returns what to add
        to the error when the empty file could not be made again (a full disk), else ''."""
        with contextlib.suppress(*self.engine.error_types):
            self.engine.con.execute("DETACH store")
        database = os.path.realpath(self.path)
        if held_by_another_process(database):
            return ""
        # Only tidying: where the path cannot hold a file (a read-only file system, a file where
        # a folder should be), there is nothing to take back, and the open's error says why.
        for name in (database, self.path + ".wal"):
            with contextlib.suppress(OSError):
                os.remove(name)
        if mode is not None:
            try:
                open(database, "wb").close()
                os.chmod(database, mode)
            except OSError as exc:
                return f"; the empty file ingest had replaced could not be made again: {exc.strerror or exc}"
        return ""

    def known_files(self) -> dict[str, FileStamp]:
        with self._own_tables():
            rows = self.engine.con.execute(
                f"SELECT path, size, mtime, adapter_sha256 FROM store.{FILES_TABLE}"
            ).fetchall()
        return {path: FileStamp(size, mtime, adapter) for path, size, mtime, adapter in rows}

    def ingest(
        self,
        files: list[str],
        stamps: dict[str, FileStamp],
        refuse: Callable[[dict[str, FileCount]], list[InputError]] = lambda counts: [],
        aliases: dict[str, list[str]] | None = None,
    ) -> dict[str, FileCount]:
        """Replace these files' events in the store by what they hold now, in one transaction;
        RejectedFiles, with nothing changed, when `refuse` finds problems with files of the batch
        from their counts. `aliases`: other names a file is stored by, whose rows go with it."""
        con = self.engine.con
        old_names = [name for path in files for name in (aliases or {}).get(path, [])]
        # The adapter's read hook counts each file as the insert reads it. Counting a batch's
        # stored rows instead scans the whole table each time: ingest time would grow with the
        # square of the data.
        counter = self.engine.count_reads()
        with self._transaction():
            con.execute(
                f"DELETE FROM store.{EVENTS_TABLE} WHERE source_file IN (SELECT unnest(?::VARCHAR[]))",
                [files + old_names],
            )
            if old_names:
                con.execute(f"DELETE FROM store.{FILES_TABLE} WHERE path IN (SELECT unnest(?::VARCHAR[]))", [old_names])
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
            refused = {problem.path: problem for problem in refuse(counts)}
            if refused.keys() & set(files):
                raise RejectedFiles([refused[path] for path in files if path in refused])
            # Named columns: an analyst may have added columns of their own.
            con.execute(
                f"INSERT OR REPLACE INTO store.{FILES_TABLE} (path, size, mtime, events, ingested_at, adapter_sha256)"
                " SELECT unnest($paths), unnest($sizes), unnest($mtimes), unnest($events), timezone('UTC', now()),"
                " $adapter",
                {
                    "paths": files,
                    "sizes": [stamps[path].size for path in files],
                    "mtimes": [stamps[path].mtime for path in files],
                    "events": [_events(counts.get(path)) for path in files],
                    "adapter": self.engine.adapter_sha256,
                },
            )
        return counts

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One transaction: committed if the block succeeds, else rolled back; a failure to write
        the database (a full disk) becomes an InputError naming it."""
        con = self.engine.con
        con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException as failure:
            self._roll_back()
            error = self._database_error(failure, "write")
            if error is not None:
                raise error from None
            raise
        try:
            con.execute("COMMIT")
        except self.engine.resource_errors:
            raise
        except self.engine.error_types as failure:
            self._roll_back()
            raise self._database_error(failure, "write") or self._failed("write", failure) from None

    @contextlib.contextmanager
    def _own_tables(self, verb: str = "read") -> Iterator[None]:
        """Statements over the store's own tables only, which `verb` them: whatever fails there is
        the database's."""
        try:
            yield
        except self.engine.resource_errors:
            raise
        except self.engine.error_types as failure:
            raise self._database_error(failure, verb) or self._failed(verb, failure) from None

    def _roll_back(self) -> None:
        # A failed COMMIT has already ended the transaction; the error to report is the first.
        with contextlib.suppress(*self.engine.error_types):
            self.engine.con.execute("ROLLBACK")

    def _database_error(self, failure: BaseException, verb: str = "read") -> InputError | None:
        """The failure as an error naming the database, when the database failed (a full disk, a
        corrupt block), not the reading of an input file; else None. `verb`: what was being done
        to the database, said of a failure that names its file (a write-ahead log that cannot be
        created is a failure to write)."""
        if not isinstance(failure, self.engine.error_types) or isinstance(failure, self.engine.resource_errors):
            return None
        if is_interruption(failure):
            return None
        message = str(failure)
        if "No space left on device" in message:
            return self._failed("write", failure)
        # DuckDB quotes the database file or its write-ahead log when it fails one of them.
        names = {self.path, os.path.abspath(self.path)}
        if "Corrupt database file" in message:
            return self._failed("read", failure)
        if any(re.search(re.escape(f'"{name}') + r'(?:\.wal)?"', message) for name in names):
            return self._failed(verb, failure)
        return None

    def _failed(self, verb: str, failure: BaseException) -> InputError:
        return InputError(f"cannot {verb} the database: {first_line(failure)}", path=self.path)

    def _counted(self) -> dict[str, FileCount]:
        """Each file's records, read once more: where DuckDB cannot log what the hook counts."""
        rows = self.engine.con.execute(
            f"SELECT source_file, count(*), count(*) FILTER (WHERE {UNRECOGNIZED}) FROM cloudtrail_events"
            " GROUP BY source_file"
        ).fetchall()
        return {path: FileCount(path, records, unrecognized) for path, records, unrecognized in rows}

    def forget(self, files: list[str]) -> None:
        """Drop these files' events and entries: stored files that are empty now."""
        con = self.engine.con
        with self._own_tables("write"):
            con.execute(f"DELETE FROM store.{EVENTS_TABLE} WHERE source_file IN (SELECT unnest(?::VARCHAR[]))", [files])
            con.execute(f"DELETE FROM store.{FILES_TABLE} WHERE path IN (SELECT unnest(?::VARCHAR[]))", [files])

    def checkpoint(self) -> None:
        """Write what the batches committed into the database file itself. DuckDB does so anyway
        when the database closes, but silently ignores a failure there (a full disk)."""
        try:
            self.engine.con.execute("CHECKPOINT store")
        except self.engine.resource_errors:
            raise
        except self.engine.error_types as exc:
            raise InputError(
                f"cannot write the database: {first_line(exc)}; what was loaded is kept in its write-ahead"
                " log (.wal), which DuckDB folds in when it next opens the database with room to write",
                path=self.path,
            ) from None

    def totals(self) -> tuple[int, int]:
        with self._own_tables():
            return held_totals(self.engine, "store")


def schema_problem(engine: DuckDBEngine, catalog: str, *, made: bool = False) -> str | None:
    """Why the database attached as `catalog` is not one ducktrail made (or can make), or None.
    One that holds neither table is new, unless `made` asks for both; extra tables and columns
    are an analyst's own."""
    con = engine.con
    names = [EVENTS_TABLE, FILES_TABLE]
    views = con.execute(
        "SELECT view_name FROM duckdb_views()"
        " WHERE database_name = ? AND schema_name = 'main' AND lower(view_name) IN ?",
        [catalog, names],
    ).fetchall()
    if views:
        return f"holds a view {views[0][0]} where ducktrail keeps a table"
    columns: dict[str, dict[str, str]] = {}
    for table, column, data_type in con.execute(
        "SELECT lower(table_name), lower(column_name), data_type FROM duckdb_columns()"
        " WHERE database_name = ? AND schema_name = 'main' AND lower(table_name) IN ?",
        [catalog, names],
    ).fetchall():
        columns.setdefault(table, {})[column] = data_type
    missing = [table for table in names if table not in columns]
    if (
        missing == [EVENTS_TABLE]
        and con.execute(f"SELECT count(*) > 0 FROM {catalog}.main.{FILES_TABLE}").fetchone()[0]
    ):
        # Ingest would take its files as loaded while their events are gone.
        return (
            f"{FILES_TABLE} lists files but there is no {EVENTS_TABLE} table: their events were dropped;"
            f" empty it (DELETE FROM {FILES_TABLE}) and ingest them again"
        )
    if made and missing:
        return f"no {' and no '.join(missing)} table; make one with `ducktrail ingest`"
    if EVENTS_TABLE in columns and FILES_TABLE not in columns:
        return f"holds a table {EVENTS_TABLE} that ducktrail did not make (no {FILES_TABLE} beside it)"
    for table, needed in ((EVENTS_TABLE, EVENT_COLUMNS), (FILES_TABLE, FILES_COLUMNS)):
        if table not in columns:
            continue
        missing = [name for name in needed if name not in columns[table]]
        if missing:
            return f"its table {table} lacks {', '.join(missing)}: not made by this version of ducktrail"
        if table == FILES_TABLE:
            needed = needed | {name: kind for name, kind in ADDED_FILES_COLUMNS.items() if name in columns[table]}
        for name, data_type in needed.items():
            if columns[table][name] != data_type:
                return (
                    f"its table {table} has {name} as {columns[table][name]}, not {data_type}:"
                    " not made by this version of ducktrail"
                )
    return None


def unwritable_problem(engine: DuckDBEngine, catalog: str) -> str | None:
    """Why ingest cannot write the tables of a database that schema_problem accepts, or None: it
    replaces a file's row by its path's key, and fills only its own columns."""
    con = engine.con
    exists, keyed = con.execute(
        "SELECT (SELECT count(*) FROM duckdb_tables()"
        " WHERE database_name = $catalog AND schema_name = 'main' AND lower(table_name) = $table),"
        " (SELECT count(*) FROM duckdb_constraints()"
        " WHERE database_name = $catalog AND schema_name = 'main' AND lower(table_name) = $table"
        " AND constraint_type IN ('PRIMARY KEY', 'UNIQUE') AND constraint_column_names = ['path'])",
        {"catalog": catalog, "table": FILES_TABLE},
    ).fetchone()
    if exists and not keyed:
        return f"its table {FILES_TABLE} has no primary key on path (rebuilt without it?)"
    for table, own in ((EVENTS_TABLE, EVENT_COLUMNS), (FILES_TABLE, FILES_COLUMNS | ADDED_FILES_COLUMNS)):
        required = con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND schema_name = 'main'"
            " AND lower(table_name) = ? AND NOT is_nullable AND column_default IS NULL ORDER BY column_index",
            [catalog, table],
        ).fetchall()
        extra = [name for (name,) in required if name not in own]
        if extra:
            return f"its table {table} has a NOT NULL column ducktrail does not fill: {extra[0]}"
    return None


def _empty_file_mode(path: str) -> int | None:
    """The permission bits of `path` if it is an empty regular file, else None."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mode & 0o7777 if stat.st_size == 0 and os.path.isfile(path) else None


def held_by_another_process(path: str) -> bool:
    """Whether another process holds a lock on the file, as DuckDB does on a database it has open
    (POSIX record locks; where there are none, False). Only for a file this process has closed:
    closing any descriptor of a file drops every lock the process holds on it.

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as unheld:
    ...     held_by_another_process(unheld.name)
    False
    """
    try:
        import fcntl
    except ImportError:  # Windows: DuckDB's lock there makes removing the file fail instead
        return False
    try:
        descriptor = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(descriptor)  # also releases the lock just taken
    return False


def held_totals(engine: DuckDBEngine, catalog: str) -> tuple[int, int]:
    """(files, events) the database attached as `catalog` holds: the files it lists as ingested,
    and the events its table holds now, which rows an analyst deleted no longer count in."""
    files, events = engine.con.execute(
        f"SELECT (SELECT count(*) FROM {catalog}.main.{FILES_TABLE}),"
        f" (SELECT count(*) FROM {catalog}.main.{EVENTS_TABLE})"
    ).fetchone()
    return int(files), int(events)


def stale_files(engine: DuckDBEngine, catalog: str, listed: int) -> int:
    """How many of the `listed` files the database attached as `catalog` lists had their rows made
    by an adapter this ducktrail does not have: an earlier version's (or one unknown, in a database
    made before ingest recorded it). Their rows may differ from what a scan of the files gives now."""
    from ducktrail.engine.adapter_identity import current_adapter_hashes

    recorded = engine.con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE database_name = ? AND schema_name = 'main'"
        " AND lower(table_name) = ? AND lower(column_name) = 'adapter_sha256'",
        [catalog, FILES_TABLE],
    ).fetchone()[0]
    if not recorded:
        return listed
    (count,) = engine.con.execute(
        f"SELECT count(*) FROM {catalog}.main.{FILES_TABLE} WHERE adapter_sha256 IS NULL OR adapter_sha256 NOT IN ?",
        [sorted(current_adapter_hashes())],
    ).fetchone()
    return int(count)


def _events(count: FileCount | None) -> int:
    return 0 if count is None else count.records - count.unrecognized


def check_database_name(path: str) -> None:
    """Refuse a --db that names no file: DuckDB would take an empty name or :memory: for an
    in-memory database, and a name ending in / for the file without it.

    >>> check_database_name("trail.duckdb")
    >>> check_database_name("trails/")
    Traceback (most recent call last):
    ...
    ducktrail.errors.UsageError: --db needs a database file, got 'trails/' (a folder's name)
    """
    if not path or path.startswith(":memory:"):
        raise UsageError(f"--db needs a database file, got {path!r}")
    if path.endswith(("/", os.sep)):
        raise UsageError(f"--db needs a database file, got {path!r} (a folder's name)")


def _without_read_only_advice(message: str) -> str:
    """DuckDB's error without its advice to open the database read-only, which an ingest, there
    to write, cannot take (DuckDB gives it when the process holding the lock only reads).

    >>> _without_read_only_advice('IO Error: Could not set lock on file "t.duckdb": Conflicting lock is held in'
    ...     ' python3 (PID 7). However, you would be able to open this database in read-only mode, e.g. by using'
    ...     ' the -readonly parameter in the CLI. See also https://duckdb.org/docs/current/connect/concurrency')
    'IO Error: Could not set lock on file "t.duckdb": Conflicting lock is held in python3 (PID 7). See also https://duckdb.org/docs/current/connect/concurrency'
    """
    return re.sub(r" However, you would be able to open this database in read-only mode\b.*? in the CLI\.", "", message)


def _tilde_hint(path: str) -> str:
    """Advice for a path under a folder `~` that does not exist: the shell left a `~` it did not
    expand (`--db=~/x.duckdb`).

    >>> _tilde_hint("x.duckdb"), _tilde_hint("~/x.duckdb")[:38]
    ('', '; there is no folder ~ here: the shell')
    """
    folder = path.split(os.sep, 1)[0]
    if not folder.startswith("~") or folder == path or os.path.isdir(folder):
        return ""
    return (
        f"; there is no folder {folder} here: the shell makes ~ the home folder only at the start"
        " of a word (--db ~/x.duckdb, not --db=~/x.duckdb)"
    )


def open_for_scan(path: str, *, threads: int | None, memory_limit: str | None) -> tuple[DuckDBEngine, dict[str, Any]]:
    """An engine over an ingested database, read-only, and what it holds."""
    check_database_name(path)
    if os.path.isdir(path):
        raise InputError("is a folder, not a database file (make one with `ducktrail ingest`)", path=path)
    if os.path.exists(path) and not os.path.isfile(path):
        raise InputError("not a regular file, as a database is one", path=path)
    if not os.path.isfile(path):
        raise InputError(f"no such database file (create it with `ducktrail ingest`){_tilde_hint(path)}", path=path)
    settings = warm.for_database(path, threads, memory_limit)
    engine = warm.take(**settings) or DuckDBEngine(**settings)
    try:
        (catalog,) = engine.con.execute("SELECT current_database()").fetchone()
        problem = schema_problem(engine, catalog, made=True)
        files, events = held_totals(engine, catalog) if problem is None else (0, 0)
        stale = stale_files(engine, catalog, files) if problem is None else 0
    except BaseException as failure:
        engine.close()
        if is_interruption(failure):
            raise KeyboardInterrupt from None
        if isinstance(failure, engine.error_types) and not isinstance(failure, engine.resource_errors):
            raise InputError(f"cannot read the database: {first_line(failure)}", path=path) from None
        raise
    if problem is not None:
        engine.close()
        raise InputError(f"not a ducktrail database ({problem})", path=path)
    return engine, {"files": files, "events": events, "stale_files": stale}
