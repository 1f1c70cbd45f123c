"""DuckDB's regexp_matches finds the pattern anywhere in the string; Snowflake's REGEXP_LIKE,
which sqlglot writes for it, must match the whole string. REGEXP_INSTR searches as DuckDB does.

Flags (regexp_matches' third argument) are refused rather than guessed: Snowflake's
REGEXP_INSTR takes them in another position and with other letters.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.errors import UnsupportedError


def partial_regex_match(tree: exp.Expression, dialect: str) -> exp.Expression:
    """
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT * FROM t WHERE regexp_matches(event_name, '^Invoke')", read="duckdb")
    >>> partial_regex_match(tree, "snowflake").sql("snowflake")
    "SELECT * FROM t WHERE REGEXP_INSTR(event_name, '^Invoke') > 0"
    """
    if dialect != "snowflake":
        return tree

    def replace(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.RegexpLike) or node.args.get("full_match"):
            return node
        if node.args.get("flag") is not None:
            raise UnsupportedError("regexp_matches with flags has no exact Snowflake form")
        found = exp.RegexpInstr(this=node.this.copy(), expression=node.expression.copy())
        return exp.GT(this=found, expression=exp.Literal.number(0))

    return tree.transform(replace)
