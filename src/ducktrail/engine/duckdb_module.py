"""DuckDB for the engine: the package's compiled module, without the package's Python layer.

`import duckdb` costs about 50 ms before the first query: DuckDB 2 writes its relational API in
Python (duckdb._relation) and reads its own version through importlib.metadata. Start-up is part
of every scan's time, and a cold scan of 500,000 events takes about a second. The engine needs
only connect, execute, fetch and the exception classes, which the package re-exports unchanged
from its compiled module `_duckdb` (tests/test_startup.py checks they are the same objects). A
release that moves them falls back to the package, slower but the same.

>>> duckdb.connect().execute("SELECT 40 + 2").fetchone()
(42,)
"""

from __future__ import annotations

import types

from ducktrail.engine.interrupts import interrupts_deferred


def _load() -> types.ModuleType:
    try:
        # A Ctrl-C in the middle of loading the compiled module leaves it half registered, and
        # loading it again aborts the process: the interrupt comes once it is loaded. DuckDB
        # imports `decimal` when it first binds a query parameter, and a Ctrl-C there would come
        # back as a DuckDB error: it is loaded here too.
        with interrupts_deferred():
            import decimal  # noqa: F401

            import _duckdb as compiled
    except ImportError:
        compiled = None
    if compiled is not None and all(hasattr(compiled, name) for name in USED):
        return compiled
    import duckdb as package

    return package


# What the engine takes from the module; the relational API (con.sql and the like) is not here.
USED = ("connect", "Error", "OutOfMemoryException", "DuckDBPyConnection", "StatementType")

duckdb = _load()
