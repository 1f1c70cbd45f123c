"""Whether rule versions bind to cloudtrail_events as the DuckDB adapter defines it.

Checked when rules are locked and by `lock --check`, so that a released version always runs: a
misspelt column is found before release, and a change to the adapter that would break a
released rule is found before it lands.
"""

from __future__ import annotations

from collections.abc import Iterable

from ducktrail.errors import RulePackError
from ducktrail.pack.rules import Rule, RuleVersion


def binding_problems(versions: Iterable[tuple[Rule, RuleVersion]]) -> list[RulePackError]:
    """A problem, naming the SQL file, for each version DuckDB cannot bind."""
    from ducktrail.engine.duckdb_scan import DuckDBEngine, RuleQuery

    problems = []
    with DuckDBEngine() as engine, engine.over_no_files():
        for rule, version in versions:
            query = RuleQuery(f"{rule.id}@{version.number}", version.sql, str(version.path))
            try:
                engine.output_columns(query)
            except RulePackError as problem:
                problems.append(problem)
    return problems
