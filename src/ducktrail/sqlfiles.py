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


def source_adapter_path(engine: str = "duckdb", name: str = "cloudtrail", *, shown_as: str = "") -> Path:
    """The adapter of source `name` in `sources/<engine>/`; a UsageError naming the sources there
    when it has none by that name (a name is never taken as a path).

    >>> source_adapter_path("duckdb", "../../x", shown_as="DuckDB")
    Traceback (most recent call last):
    ducktrail.errors.UsageError: no source '../../x' for DuckDB (sources: cloudtrail, ecs)
    """
    from ducktrail.errors import UsageError

    adapters = {path.stem: path for path in source_adapter_paths(engine)}
    if name not in adapters:
        known = ", ".join(sorted(adapters)) or "none"
        raise UsageError(f"no source {name!r} for {shown_as or engine} (sources: {known})")
    return adapters[name]


def source_adapter_paths(engine: str = "duckdb") -> list[Path]:
    """Every source adapter in `sources/<engine>/`, one per source."""
    return sorted((sql_root() / "sources" / engine).glob("*.sql"))


def read_source_adapter(engine: str = "duckdb", name: str = "cloudtrail", *, shown_as: str = "") -> str:
    """The text of that adapter; a RulePackError naming its file when it cannot be read or is
    not UTF-8 (the pack is broken, as with a rule file).

    >>> read_source_adapter("duckdb", "cloudtrail").startswith("--")
    True
    """
    from ducktrail.errors import RulePackError

    path = source_adapter_path(engine, name, shown_as=shown_as)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulePackError(f"cannot read the source adapter: {exc.strerror}", path=str(path)) from None
    except UnicodeDecodeError as exc:
        from ducktrail.pack.rules import not_utf8

        raise RulePackError(f"source adapter is {not_utf8(exc)}", path=str(path)) from None


def rules_dir() -> Path:
    return sql_root() / "rules"


def lock_path() -> Path:
    return rules_dir() / "rules.lock.json"
