"""Refuse what sqlglot would copy into another engine's SQL unchanged.

sqlglot writes a function it does not know (DuckDB's list_reduce, say) under the same name, and
GLOB and SIMILAR TO as they are, for engines that have no such function or operator. The query
would then fail on the engine, or worse, mean something else there: better to stop at
transpile time, naming the construct. DuckDB's own output keeps them.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.errors import UnsupportedError

NOT_TRANSLATED = {exp.Glob: "GLOB", exp.SimilarTo: "SIMILAR TO"}


def refuse_untranslatable(tree: exp.Expression, dialect: str) -> exp.Expression:
    """
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT list_reduce(xs, lambda a, b: a + b) FROM t", read="duckdb")
    >>> try:
    ...     refuse_untranslatable(tree, "trino")
    ... except UnsupportedError as error:
    ...     print(error)
    sqlglot does not know DuckDB's function list_reduce(), so it cannot write it for trino
    >>> refuse_untranslatable(tree, "duckdb") is tree
    True
    """
    if dialect == "duckdb":
        return tree
    for node in tree.walk():
        if isinstance(node, exp.Anonymous):
            raise UnsupportedError(
                f"sqlglot does not know DuckDB's function {node.name.lower()}(), so it cannot write it for {dialect}"
            )
        for kind, name in NOT_TRANSLATED.items():
            if isinstance(node, kind):
                raise UnsupportedError(f"sqlglot copies {name} unchanged, and {dialect} does not have it")
    return tree
