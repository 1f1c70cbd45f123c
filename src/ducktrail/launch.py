"""The `ducktrail` process: set DuckDB's allocator up, start DuckDB early for a scan, run the CLI.

Kept apart from cli.py, which imports typer first thing: a scan's DuckDB connection is made on
a background thread while typer and the rest load (engine/warm.py), about 40 ms of a scan's
fixed cost of about 0.2 s.
"""

from __future__ import annotations

import os
import sys

# DuckDB's bundled allocator (jemalloc) hands freed pages back to the OS within about a second,
# and a scan then takes them again as fresh pages: 15,000-30,000 page faults in a 500,000-event
# scan, about 4% of its time. A command is a short process, so freed pages wait 10 s instead.
# DuckDB reads this variable once, when it loads; a value the user set is kept.
ALLOCATOR_ENVIRONMENT = ("DUCKDB_JE_MALLOC_CONF", "dirty_decay_ms:10000")


def main() -> None:
    try:
        keep_freed_memory()
        if is_scan(sys.argv[1:]):
            from ducktrail.engine import warm

            warm.preconnect()
        from ducktrail.cli import main as run
    except KeyboardInterrupt:
        # Before the CLI handles it. Leaving at once: the interpreter's teardown would stop the
        # thread connecting to DuckDB in the middle, which aborts the process.
        print("ducktrail: interrupted", file=sys.stderr, flush=True)
        os._exit(130)
    run()


def keep_freed_memory() -> None:
    name, value = ALLOCATOR_ENVIRONMENT
    os.environ.setdefault(name, value)


def is_scan(arguments: list[str]) -> bool:
    """Whether the command line is a scan that will run, from a look before it is parsed.

    >>> is_scan(["scan", "AWSLogs"]), is_scan(["scan", "--help"]), is_scan(["transpile", "x"])
    (True, False, False)
    """
    return arguments[:1] == ["scan"] and not {"--help", "-h"} & set(arguments)
