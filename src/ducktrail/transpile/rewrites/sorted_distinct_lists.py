"""Sorted lists of distinct values, without NULLs, and [] when there are none, on every engine.

The rules aggregate with `list_sort(list_distinct(list(x)))` and, for list columns,
`list_sort(list_distinct(flatten(list(x))))`. DuckDB, Spark, ClickHouse and Snowflake skip
NULLs in their list aggregates and give [] for none. Trino and Athena keep NULLs in
ARRAY_AGG and give NULL for none; BigQuery forbids sorting an aggregate's result. Those two
get their own spelling of the same meaning.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

PLACEHOLDER = "ducktrail_value"

TEMPLATES = {
    "trino": {
        "values": "COALESCE(ARRAY_SORT(ARRAY_DISTINCT(ARRAY_AGG(ducktrail_value) "
        "FILTER (WHERE ducktrail_value IS NOT NULL))), ARRAY[])",
        "lists": "COALESCE(ARRAY_SORT(ARRAY_DISTINCT(FLATTEN(ARRAY_AGG(ducktrail_value) "
        "FILTER (WHERE ducktrail_value IS NOT NULL)))), ARRAY[])",
    },
    "bigquery": {
        "values": "ARRAY_AGG(DISTINCT ducktrail_value IGNORE NULLS ORDER BY ducktrail_value)",
        "lists": "ARRAY(SELECT DISTINCT v FROM UNNEST(ARRAY_CONCAT_AGG(ducktrail_value)) AS v "
        "WHERE v IS NOT NULL ORDER BY v)",
    },
}
TEMPLATES["athena"] = TEMPLATES["trino"]


def sorted_distinct_lists(tree: exp.Expression, dialect: str) -> exp.Expression:
    """
    >>> tree = sqlglot.parse_one("SELECT list_sort(list_distinct(list(ip))) FROM t", read="duckdb")
    >>> sorted_distinct_lists(tree, "trino").sql("trino")
    'SELECT COALESCE(ARRAY_SORT(ARRAY_DISTINCT(ARRAY_AGG(ip) FILTER(WHERE NOT ip IS NULL))), ARRAY[]) FROM t'
    >>> sorted_distinct_lists(tree, "bigquery").sql("bigquery")
    'SELECT ARRAY_AGG(DISTINCT ip IGNORE NULLS ORDER BY ip) FROM t'
    >>> sorted_distinct_lists(tree, "spark") is tree
    True
    """
    templates = TEMPLATES.get(dialect)
    if templates is None:
        return tree

    def replace(node: exp.Expression) -> exp.Expression:
        if not (isinstance(node, exp.ArraySort) and isinstance(node.this, exp.ArrayDistinct)):
            return node
        inner = node.this.this
        if isinstance(inner, exp.ArrayAgg):
            kind, value = "values", inner.this
        elif isinstance(inner, exp.Flatten) and isinstance(inner.this, exp.ArrayAgg):
            kind, value = "lists", inner.this.this
        else:
            return node
        template = sqlglot.parse_one(templates[kind], read=dialect)
        return template.transform(lambda n: value.copy() if isinstance(n, exp.Column) and n.name == PLACEHOLDER else n)

    return tree.transform(replace)
