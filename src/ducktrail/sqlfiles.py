"""Where the SQL pack lives: beside the package in a wheel, at the repository top in a checkout."""

from __future__ import annotations

import os
from pathlib import Path

SQL_DIR_ENV = "DUCKTRAIL_SQL_DIR"


def sql_root() -> Path:
    """The folder holding `sources/` and `rules/`.

    `DUCKTRAIL_SQL_DIR` points ducktrail at another pack (a fork, or a test's copy).
    """
    override = os.environ.get(SQL_DIR_ENV)
    if override:
        return Path(override)
    packaged = Path(__file__).parent / "sql"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "sql"


def source_adapter_path(engine: str = "duckdb", name: str = "cloudtrail") -> Path:
    return sql_root() / "sources" / engine / f"{name}.sql"


def rules_dir() -> Path:
    return sql_root() / "rules"


def lock_path() -> Path:
    return rules_dir() / "rules.lock.json"
