"""Function names sqlglot writes for ClickHouse that ClickHouse does not know.

sqlglot writes ARRAY_SORT for ClickHouse, which has arraySort (its ARRAY_SORT alias does not
exist; arrayDistinct and FLATTEN do). Spelled as ClickHouse names them, as opaque calls.
"""

from __future__ import annotations

from sqlglot import exp

NAMES: dict[type[exp.Func], str] = {exp.ArraySort: "arraySort"}


def clickhouse_function_names(tree: exp.Expression, dialect: str) -> exp.Expression:
    """
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT list_sort(xs) FROM t", read="duckdb")
    >>> clickhouse_function_names(tree, "clickhouse").sql("clickhouse")
    'SELECT arraySort(xs) FROM t'
    """
    if dialect != "clickhouse":
        return tree

    def replace(node: exp.Expression) -> exp.Expression:
        name = NAMES.get(type(node))
        if name is None:
            return node
        return exp.Anonymous(this=name, expressions=[node.this.copy()])

    return tree.transform(replace)
