"""DuckDB's regexp_extract gives '' when the pattern does not match; Trino's (and Athena's),
Snowflake's REGEXP_SUBSTR and BigQuery's REGEXP_EXTRACT give NULL. A rule testing `IS NULL` or
`= ''` on the result would keep other rows there. The result is made '' again, NULL staying
NULL for a NULL input, except where the rule already makes both NULL (`NULLIF(..., '')`, the
bundled rule's idiom), which is left as written.
"""

from __future__ import annotations

from sqlglot import exp

NULL_ON_NO_MATCH = frozenset({"trino", "athena", "snowflake", "bigquery"})


def regex_no_match(tree: exp.Expression, dialect: str) -> exp.Expression:
    """
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT regexp_extract(arn, ':([0-9]{12}):', 1) = '' FROM t", read="duckdb")
    >>> regex_no_match(tree, "trino").sql("trino")
    "SELECT CASE WHEN arn IS NULL THEN NULL ELSE COALESCE(REGEXP_EXTRACT(arn, ':([0-9]{12}):', 1), '') END = '' FROM t"
    >>> tree = sqlglot.parse_one("SELECT NULLIF(regexp_extract(arn, ':([0-9]{12}):', 1), '') FROM t", read="duckdb")
    >>> regex_no_match(tree, "trino").sql("trino")
    "SELECT NULLIF(REGEXP_EXTRACT(arn, ':([0-9]{12}):', 1), '') FROM t"
    """
    if dialect not in NULL_ON_NO_MATCH:
        return tree
    tree = tree.copy()
    # Either engine's result becomes NULL there on no match, so the difference does not show.
    made_null = {
        id(node.this)
        for node in tree.find_all(exp.Nullif)
        if isinstance(node.this, exp.RegexpExtract) and _is_empty_string(node.expression)
    }

    def replace(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.RegexpExtract) or id(node) in made_null:
            return node
        subject = node.this.copy()
        found = exp.Coalesce(this=node.copy(), expressions=[exp.Literal.string("")])
        return exp.Case(ifs=[exp.If(this=exp.Is(this=subject, expression=exp.Null()), true=exp.Null())], default=found)

    return tree.transform(replace, copy=False)


def _is_empty_string(node: exp.Expression | None) -> bool:
    return isinstance(node, exp.Literal) and node.is_string and node.this == ""
