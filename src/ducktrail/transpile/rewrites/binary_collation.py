"""Case-sensitive string matching on Snowflake, whatever the account's default collation.

The upstream rule's `eventName LIKE "Invoke*"` and `eventSource == "lambda.amazonaws.com"`
are case-sensitive. Snowflake compares by the column's collation, which an account or
database may set to case-insensitive ('en-ci'); comparing under the 'utf8' (binary)
collation keeps the rule exact there. Other engines compare bytes unless told otherwise.
"""

from __future__ import annotations

from sqlglot import exp

COMPARISONS = (exp.Like, exp.EQ, exp.NEQ)


def binary_collation(tree: exp.Expression, dialect: str) -> exp.Expression:
    """
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT * FROM t WHERE name LIKE 'Invoke%' AND n = 1", read="duckdb")
    >>> binary_collation(tree, "snowflake").sql("snowflake")
    "SELECT * FROM t WHERE COLLATE(name, 'utf8') LIKE 'Invoke%' AND n = 1"
    """
    if dialect != "snowflake":
        return tree

    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, COMPARISONS) and _is_string(node.expression) and not _is_string(node.this):
            node.set("this", exp.Collate(this=node.this.copy(), expression=exp.Literal.string("utf8")))
        return node

    return tree.transform(replace)


def _is_string(node: exp.Expression) -> bool:
    return isinstance(node, exp.Literal) and node.is_string
