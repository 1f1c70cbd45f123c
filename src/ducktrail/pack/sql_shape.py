"""A rule's SQL must be one SELECT over the canonical relation, so it runs on any source.

Checked with sqlglot when rules are locked and in the tests, not on every scan: parsing is
cheap but importing sqlglot is not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ducktrail.errors import RulePackError
from ducktrail.pack.rules import Rule, RuleVersion

CANONICAL_RELATION = "cloudtrail_events"


def shape_problems(sql: str, *, released: bool = False) -> list[str]:
    """What keeps `sql` from being a rule query; empty when it is one. A released version is not
    asked for an ORDER BY, which versions released before it was required may lack: a released
    version never changes, so that would leave its pack unable to pass `lock --check` again.

    >>> shape_problems("WITH x AS (SELECT * FROM cloudtrail_events) SELECT count(*) FROM x ORDER BY 1")
    []
    >>> shape_problems("SELECT * FROM read_json('a.json') ORDER BY ALL")
    ['reads read_json(...) instead of cloudtrail_events', 'never reads cloudtrail_events']
    >>> shape_problems("SELECT 1; SELECT 2")
    ['holds 2 statements, not one SELECT']
    >>> shape_problems("DELETE FROM cloudtrail_events")
    ['is a Delete, not a SELECT']
    >>> shape_problems('WITH "x.csv" AS (SELECT * FROM "x.csv") SELECT * FROM "x.csv", cloudtrail_events ORDER BY 1')
    ['reads "x.csv" instead of cloudtrail_events']
    >>> shape_problems("SELECT * FROM main.cloudtrail_events ORDER BY ALL")
    ['reads main.cloudtrail_events: name it cloudtrail_events, which every engine and --since/--until provide']
    >>> shape_problems("SELECT event_name, count(*) FROM cloudtrail_events GROUP BY event_name")
    ['lists its alerts in no set order: end it with an ORDER BY of the columns that tell alerts apart']
    >>> shape_problems("SELECT event_name FROM cloudtrail_events", released=True)
    []
    """
    import sqlglot
    from sqlglot import exp

    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as exc:
        return [f"does not parse: {str(exc).splitlines()[0]}"]
    if len(statements) != 1:
        return [f"holds {len(statements)} statements, not one SELECT"]
    (query,) = statements
    if not isinstance(query, exp.Query):
        return [f"is a {type(query).__name__}, not a SELECT"]
    problems = []
    try:
        cte_references = _cte_references(query)
    except Exception as exc:  # noqa: BLE001 - sqlglot's scope errors have no common base
        return [f"has tables whose scope cannot be resolved: {str(exc).splitlines()[0]}"]
    for table in query.find_all(exp.Table):
        if isinstance(table.this, exp.Func):
            function = table.this.name if isinstance(table.this, exp.Anonymous) else table.this.sql_name()
            problems.append(f"reads {function.lower()}(...) instead of {CANONICAL_RELATION}")
        elif id(table) not in cte_references and table.name != CANONICAL_RELATION:
            problems.append(f"reads {table.sql()} instead of {CANONICAL_RELATION}")
        elif table.name == CANONICAL_RELATION and (table.db or table.catalog):
            # A qualified name passes by the relation the scan defines over the files it reads.
            problems.append(
                f"reads {table.sql()}: name it {CANONICAL_RELATION}, which every engine and --since/--until provide"
            )
    if not any(t.name == CANONICAL_RELATION for t in query.find_all(exp.Table)):
        problems.append(f"never reads {CANONICAL_RELATION}")
    if not released and not _ordered(query):
        # Without one, engines and runs (a scan's threads) list the same alerts in other orders,
        # and a CI job that compares outputs sees changes where there are none.
        problems.append(
            "lists its alerts in no set order: end it with an ORDER BY of the columns that tell alerts apart"
        )
    return problems


def _ordered(query: Any) -> bool:
    """Whether the query's outermost level, inside any parentheses, has an ORDER BY with a key
    that is not a constant (a column number is a column).

    >>> import sqlglot
    >>> _ordered(sqlglot.parse_one("(SELECT a FROM t UNION ALL SELECT b FROM t ORDER BY 1)"))
    True
    >>> _ordered(sqlglot.parse_one("SELECT a FROM (SELECT a FROM t ORDER BY a)"))
    False
    >>> _ordered(sqlglot.parse_one("SELECT a FROM t ORDER BY NULL, 'a'"))
    False
    """
    from sqlglot import exp

    while isinstance(query, exp.Subquery) and not query.args.get("order"):
        query = query.this
    order = query.args.get("order")
    keys = [ordered.this for ordered in order.expressions] if order else []
    return any(not (isinstance(key, exp.Null) or (isinstance(key, exp.Literal) and key.is_string)) for key in keys)


def _cte_references(query: object) -> set[int]:
    """The ids of the table nodes that name a CTE visible where they stand. A name is a CTE only
    in its scope: inside a CTE's own body, or beside the subquery that defines it, DuckDB reads
    a table (or a file) of that name instead.

    >>> import sqlglot
    >>> query = sqlglot.parse_one('WITH "a.csv" AS (SELECT * FROM "a.csv") SELECT * FROM "a.csv"', read="duckdb")
    >>> [table.find_ancestor(sqlglot.exp.CTE) is None for table in query.find_all(sqlglot.exp.Table)
    ...  if id(table) in _cte_references(query)]
    [True]
    """
    from sqlglot.optimizer.scope import traverse_scope

    return {
        id(table)
        for scope in traverse_scope(query)
        for table in scope.tables
        if not table.args.get("db") and table.name in scope.cte_sources
    }


def version_shape_problems(version: RuleVersion, *, released: bool = False) -> list[RulePackError]:
    """One rule version checked, each problem naming its SQL file."""
    return [
        RulePackError(f"rule SQL {problem}", path=str(version.path))
        for problem in shape_problems(version.sql, released=released)
    ]


def pack_shape_problems(rules: Iterable[Rule], released: Callable[[Rule, int], bool]) -> list[RulePackError]:
    """Every version of every rule checked; `released` tells the released versions."""
    return [
        problem
        for rule in rules
        for version in rule.versions
        for problem in version_shape_problems(version, released=released(rule, version.number))
    ]
