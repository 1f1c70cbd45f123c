"""The engines ducktrail writes SQL for, and which adapter folder and sqlglot dialect each uses."""

from __future__ import annotations

from dataclasses import dataclass

from ducktrail.errors import UsageError


@dataclass(frozen=True)
class Target:
    name: str
    dialect: str  # sqlglot's name for it
    adapters: str  # folder under sql/sources/


TARGETS = {
    target.name: target
    for target in (
        Target("duckdb", "duckdb", "duckdb"),
        Target("snowflake", "snowflake", "snowflake"),
        Target("bigquery", "bigquery", "bigquery"),
        Target("athena", "athena", "trino"),
        Target("trino", "trino", "trino"),
        Target("spark", "spark", "spark"),
        Target("databricks", "databricks", "spark"),
        Target("clickhouse", "clickhouse", "clickhouse"),
    )
}


def target(name: str) -> Target:
    """
    >>> target("athena").adapters
    'trino'
    """
    try:
        return TARGETS[name]
    except KeyError:
        raise UsageError(f"unknown dialect {name!r} (dialects: {', '.join(TARGETS)})") from None
