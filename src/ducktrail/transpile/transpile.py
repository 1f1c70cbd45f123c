"""`ducktrail transpile`: one versioned rule as ready-to-run SQL for another engine."""

from __future__ import annotations

import sqlglot

from ducktrail.errors import RulePackError, RulePackErrors
from ducktrail.pack.rules import Rule
from ducktrail.pack.sql_shape import version_shape_problems
from ducktrail.transpile.assemble import ready_to_run
from ducktrail.transpile.targets import target


def transpile(
    rule: Rule, dialect: str, *, source: str = "cloudtrail", version: int | None = None, released: bool = True
) -> str:
    """The rule (newest version by default) behind the engine's source adapter; an unreleased
    version says so in the banner.

    Raises RulePackError when the version is not one SELECT over cloudtrail_events, or when
    sqlglot knows it cannot express it for that engine.
    """
    chosen = rule.sql(version)
    problems = version_shape_problems(chosen, released=released)
    if problems:
        raise problems[0] if len(problems) == 1 else RulePackErrors(problems)
    engine = target(dialect)
    try:
        sql = ready_to_run(chosen.sql, engine, source)
    except sqlglot.errors.UnsupportedError as exc:
        raise RulePackError(f"sqlglot cannot write this rule for {engine.name}: {exc}", path=str(chosen.path)) from None
    draft = "" if released else ", an unreleased draft (not in the lock file)"
    banner = (
        f"-- ducktrail rule {rule.id} version {chosen.number}{draft} ({chosen.sha256[:19]}...), "
        f"for {engine.name}, source {source}; written by sqlglot {sqlglot.__version__} from {chosen.path.name}.\n"
    )
    return banner + sql
