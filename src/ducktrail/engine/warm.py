"""The engine of a scan, made on background threads while the command loads the rest of ducktrail.

Creating a DuckDB database takes 35-40 ms (registering DuckDB's built-in functions) and binding
the source adapter's view about 12 ms, with Python's lock released. Meanwhile the command
imports typer and its own modules, parses its options, loads the rule pack and lists the files,
which holds the lock for longer. So the `ducktrail` process connects as it starts when its
command is a scan (preconnect(), from launch.py), the scan command hands its settings on once
parsed (start()), and the engine is taken where it would have been made (take()), if it was
made with the same settings: a scan's fixed cost of about 0.2 s loses 30-40 ms.

>>> preconnect()
>>> start(threads=1)
>>> engine = take(threads=1)
>>> engine.con.execute("SELECT current_setting('threads')").fetchone()
(1,)
>>> engine.con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'cloudtrail_events'").fetchone()
(1,)
>>> engine.close()
>>> take(threads=1) is None  # taken once
True
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ducktrail.engine.duckdb_scan import DuckDBEngine


def for_files(source: str, threads: int | None, memory_limit: str | None) -> dict[str, Any]:
    """The settings of a scan's engine over files, for start(), take() and DuckDBEngine."""
    return {"source": source, "threads": threads, "memory_limit": memory_limit}


def for_database(database: str, threads: int | None, memory_limit: str | None) -> dict[str, Any]:
    """The settings of a scan's engine over an ingested database."""
    return {"threads": threads, "memory_limit": memory_limit, "database": database}


_connecting: tuple[threading.Thread, list[Any]] | None = None
_making: tuple[dict[str, Any], threading.Thread, list[DuckDBEngine]] | None = None


def preconnect() -> None:
    """Load DuckDB, and begin connecting to an in-memory database for the next start()."""
    global _connecting
    # Here, not on the thread: loading a module holds Python's lock, so it would only slow the
    # command's own imports down; connecting does not.
    from ducktrail.engine.duckdb_module import duckdb
    from ducktrail.engine.duckdb_scan import CONNECTION_CONFIG

    made: list[Any] = []

    def connect() -> None:
        with contextlib.suppress(duckdb.Error):  # the engine connects again and reports it
            made.append(duckdb.connect(":memory:", config=CONNECTION_CONFIG))

    thread = threading.Thread(target=connect, name="ducktrail-connect", daemon=True)
    thread.start()
    _connecting = (thread, made)


def start(**settings: Any) -> None:
    """Begin making DuckDBEngine(**settings), its source adapter loaded, on a background thread,
    over preconnect()'s connection if there is one. An engine made before and not taken is closed."""
    global _connecting, _making
    discard()
    database = settings.get("database")
    if database is not None and not os.path.isfile(database):
        return  # opening a FIFO or a device could block: the caller's checks refuse it first
    # Imported here, not on the thread: two threads importing modules that import each other
    # can deadlock.
    from ducktrail.engine.duckdb_scan import DuckDBEngine

    connecting, _connecting = _connecting, None
    made: list[DuckDBEngine] = []

    def make() -> None:
        connection = None
        if connecting is not None:
            connecting[0].join()
            connection = connecting[1][0] if connecting[1] else None
        engine = None
        try:
            engine = DuckDBEngine(**settings, connection=connection)
            engine.load_adapter()
        except BaseException:  # noqa: BLE001 - whoever makes the engine again meets the error itself
            if engine is not None:
                engine.close()
            return
        made.append(engine)

    thread = threading.Thread(target=make, name="ducktrail-engine", daemon=True)
    thread.start()
    _making = (settings, thread, made)


def take(**settings: Any) -> DuckDBEngine | None:
    """The engine start() began with these same settings, once it is made; None if there is none
    (never started, other settings, or making it failed)."""
    global _making
    making, _making = _making, None
    if making is None:
        return None
    wanted, thread, made = making
    thread.join()
    if not made:
        return None
    if wanted != settings:
        made[0].close()
        return None
    return made[0]


def discard() -> None:
    """Close an engine start() began and no one took."""
    if _making is not None:
        engine = take(**_making[0])
        if engine is not None:
            engine.close()
