"""`ducktrail transpile`: one versioned rule as ready-to-run SQL for another engine."""

from __future__ import annotations

import sqlglot

from ducktrail.errors import RulePackError
from ducktrail.pack.rules import Rule
from ducktrail.transpile.assemble import ready_to_run
from ducktrail.transpile.targets import target


def transpile(rule: Rule, dialect: str, *, source: str = "cloudtrail", version: int | None = None) -> str:
    """The rule (newest version by default) behind the engine's source adapter.

    Raises RulePackError when sqlglot cannot express the rule for that engine: never a
    silently different query.
    """
    chosen = rule.sql(version)
    engine = target(dialect)
    try:
        sql = ready_to_run(chosen.sql, engine, source)
    except sqlglot.errors.UnsupportedError as exc:
        raise RulePackError(f"sqlglot cannot write this rule for {engine.name}: {exc}", path=str(chosen.path)) from None
    banner = (
        f"-- ducktrail rule {rule.id} version {chosen.number} ({chosen.sha256[:19]}...), "
        f"for {engine.name}, source {source}; written by sqlglot {sqlglot.__version__} from {chosen.path.name}.\n"
    )
    return banner + sql
