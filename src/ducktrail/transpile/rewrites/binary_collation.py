"""Case-sensitive string matching on Snowflake, whatever the account's default collation.

The upstream rule's `eventName LIKE "Invoke*"` and `eventSource == "lambda.amazonaws.com"`
are case-sensitive. Snowflake compares by the column's collation, which an account or
database may set to case-insensitive ('en-ci'); the empty collation, `COLLATE(x, '')`, compares
Unicode code points and keeps the rule exact there. Not the binary 'utf8' pseudo-locale: LIKE
takes no locale collation ("[NOT] LIKE", collation details), while the empty specification is
Snowflake's own way to strip one before LIKE (behavior change bundle 2024_02, BCR-1535).
Other engines compare bytes unless told otherwise.
"""

from __future__ import annotations

from sqlglot import exp

COMPARISONS = (exp.Like, exp.EQ, exp.NEQ, exp.StartsWith)


def binary_collation(tree: exp.Expression, dialect: str) -> exp.Expression:
    """
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT * FROM t WHERE name LIKE 'Invoke%' AND n = 1", read="duckdb")
    >>> binary_collation(tree, "snowflake").sql("snowflake")
    "SELECT * FROM t WHERE COLLATE(name, '') LIKE 'Invoke%' AND n = 1"
    >>> tree = sqlglot.parse_one("SELECT * FROM t WHERE 'a' = name OR name IN ('Invoke', 'InvokeAsync')", read="duckdb")
    >>> binary_collation(tree, "snowflake").sql("snowflake")
    "SELECT * FROM t WHERE 'a' = COLLATE(name, '') OR COLLATE(name, '') IN ('Invoke', 'InvokeAsync')"
    """
    if dialect != "snowflake":
        return tree

    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, COMPARISONS):
            for this, other in (("this", "expression"), ("expression", "this")):
                if _is_string(node.args.get(other)) and not _is_string(node.args.get(this)):
                    node.set(this, _binary(node.args[this]))
                    break
        elif isinstance(node, exp.In) and any(_is_string(value) for value in node.expressions):
            node.set("this", _binary(node.this))
        return node

    return tree.transform(replace)


def _binary(node: exp.Expression) -> exp.Expression:
    return exp.Collate(this=node.copy(), expression=exp.Literal.string(""))


def _is_string(node: exp.Expression | None) -> bool:
    return isinstance(node, exp.Literal) and node.is_string
