"""Put an engine's source adapter in front of a translated rule, as one ready-to-run query."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from ducktrail import sqlfiles
from ducktrail.transpile.rewrites import rewrite
from ducktrail.transpile.targets import Target

CANONICAL_RELATION = "cloudtrail_events"


def translate_rule(rule_sql: str, target: Target) -> exp.Expression:
    """The rule's syntax tree, rewritten for the target; sqlglot raises on anything untranslatable."""
    tree = sqlglot.parse_one(rule_sql, read="duckdb")
    return rewrite(tree, target.dialect)


def ready_to_run(rule_sql: str, target: Target, source: str = "cloudtrail") -> str:
    """The adapter and the rule as one script (DuckDB) or one query (every other engine)."""
    adapter = sqlfiles.read_source_adapter(target.adapters, source, shown_as=target.name).strip()
    tree = translate_rule(rule_sql, target)
    if target.name == "duckdb":
        # DuckDB's adapter is a script that defines the view; the rule follows it.
        return f"{adapter}\n\n{_generate(tree, target)};\n"
    ctes = tree.args.get("with_")
    tree = tree.copy()
    tree.set("with_", None)
    parts = [f"{CANONICAL_RELATION} AS (\n{_body(adapter)}\n)"]
    if ctes is not None:
        parts += [f"{cte.alias} AS (\n{_generate(cte.this, target)}\n)" for cte in ctes.expressions]
    header = _header_comment(adapter)
    return f"{header}WITH " + ",\n".join(parts) + f"\n{_generate(tree, target)}\n"


def _generate(tree: exp.Expression, target: Target) -> str:
    return tree.sql(dialect=target.dialect, pretty=True, unsupported_level=sqlglot.ErrorLevel.RAISE)


def _header_comment(adapter: str) -> str:
    lines = []
    for line in adapter.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line)
    return "\n".join(lines) + "\n" if lines else ""


def _body(adapter: str) -> str:
    return "\n".join(line for line in adapter.splitlines() if not line.startswith("--")).strip().rstrip(";")
