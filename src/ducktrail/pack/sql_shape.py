"""A rule's SQL must be one SELECT over the canonical relation, so it runs on any source.

Checked with sqlglot when rules are locked and in the tests, not on every scan: parsing is
cheap but importing sqlglot is not.
"""

from __future__ import annotations

from collections.abc import Iterable

from ducktrail.errors import RulePackError
from ducktrail.pack.rules import Rule, RuleVersion

CANONICAL_RELATION = "cloudtrail_events"


def shape_problems(sql: str) -> list[str]:
    """What keeps `sql` from being a rule query; empty when it is one.

    >>> shape_problems("WITH x AS (SELECT * FROM cloudtrail_events) SELECT count(*) FROM x")
    []
    >>> shape_problems("SELECT * FROM read_json('a.json')")
    ['reads read_json(...) instead of cloudtrail_events', 'never reads cloudtrail_events']
    >>> shape_problems("SELECT 1; SELECT 2")
    ['holds 2 statements, not one SELECT']
    >>> shape_problems("DELETE FROM cloudtrail_events")
    ['is a Delete, not a SELECT']
    >>> shape_problems("SELECT * FROM main.cloudtrail_events")
    ['reads main.cloudtrail_events: name it cloudtrail_events, which every engine and --since/--until provide']
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
    cte_names = {cte.alias_or_name for cte in query.find_all(exp.CTE)}
    for table in query.find_all(exp.Table):
        if isinstance(table.this, exp.Func):
            function = table.this.name if isinstance(table.this, exp.Anonymous) else table.this.sql_name()
            problems.append(f"reads {function.lower()}(...) instead of {CANONICAL_RELATION}")
        elif table.name not in cte_names and table.name != CANONICAL_RELATION:
            problems.append(f"reads {table.sql()} instead of {CANONICAL_RELATION}")
        elif table.name == CANONICAL_RELATION and (table.db or table.catalog):
            # A qualified name passes by the relation the scan defines over the files it reads.
            problems.append(
                f"reads {table.sql()}: name it {CANONICAL_RELATION}, which every engine and --since/--until provide"
            )
    if not any(t.name == CANONICAL_RELATION for t in query.find_all(exp.Table)):
        problems.append(f"never reads {CANONICAL_RELATION}")
    return problems


def version_shape_problems(version: RuleVersion) -> list[RulePackError]:
    """One rule version checked, each problem naming its SQL file."""
    return [RulePackError(f"rule SQL {problem}", path=str(version.path)) for problem in shape_problems(version.sql)]


def pack_shape_problems(rules: Iterable[Rule]) -> list[RulePackError]:
    """Every version of every rule checked."""
    return [problem for rule in rules for version in rule.versions for problem in version_shape_problems(version)]
