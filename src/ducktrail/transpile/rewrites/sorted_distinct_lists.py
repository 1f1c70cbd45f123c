"""Sorted lists of distinct values, without NULLs, and [] when there are none, on every engine.

The rules aggregate with `list_sort(list_distinct(list(x)))` and, for list columns,
`list_sort(list_distinct(flatten(list(x))))`. DuckDB, Spark, ClickHouse and Snowflake skip
NULLs in their list aggregates and give [] for none. Trino and Athena keep NULLs in
ARRAY_AGG and give NULL for none; BigQuery forbids sorting an aggregate's result, and an
aggregate inside UNNEST: it concatenates a list column's lists in the grouped query and sorts
each result in a query around it. Those two get their own spelling of the same meaning. The
lists' own NULL elements, which DuckDB's list_distinct drops (as ClickHouse's arrayDistinct and
Snowflake's ARRAY_COMPACT do), Spark and Trino keep: they are filtered out there.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import UnsupportedError

PLACEHOLDER = "ducktrail_value"
GROUPED = "ducktrail_grouped"
# BigQuery: a list column's concatenated lists, sorted and de-duplicated outside the grouping.
BIGQUERY_LIST = f"ARRAY(SELECT DISTINCT v FROM UNNEST({PLACEHOLDER}) AS v WHERE v IS NOT NULL ORDER BY v)"

TEMPLATES = {
    "trino": {
        "values": "COALESCE(ARRAY_SORT(ARRAY_DISTINCT(ARRAY_AGG(ducktrail_value) "
        "FILTER (WHERE ducktrail_value IS NOT NULL))), ARRAY[])",
        "lists": "COALESCE(ARRAY_SORT(ARRAY_DISTINCT(FILTER(FLATTEN(ARRAY_AGG(ducktrail_value) "
        "FILTER (WHERE ducktrail_value IS NOT NULL)), ducktrail_element -> ducktrail_element IS NOT NULL))), ARRAY[])",
    },
    "bigquery": {
        "values": "ARRAY_AGG(DISTINCT ducktrail_value IGNORE NULLS ORDER BY ducktrail_value)",
        "lists": "ARRAY_CONCAT_AGG(ducktrail_value)",
    },
}
TEMPLATES["athena"] = TEMPLATES["trino"]
TEMPLATES["spark"] = {
    "lists": "ARRAY_SORT(ARRAY_DISTINCT(FILTER(FLATTEN(COLLECT_LIST(ducktrail_value)), "
    "ducktrail_element -> ducktrail_element IS NOT NULL)))",
}
TEMPLATES["databricks"] = TEMPLATES["spark"]


def sorted_distinct_lists(tree: exp.Expression, dialect: str) -> exp.Expression:
    """
    >>> tree = sqlglot.parse_one("SELECT list_sort(list_distinct(list(ip))) FROM t", read="duckdb")
    >>> sorted_distinct_lists(tree, "trino").sql("trino")
    'SELECT COALESCE(ARRAY_SORT(ARRAY_DISTINCT(ARRAY_AGG(ip) FILTER(WHERE NOT ip IS NULL))), ARRAY[]) FROM t'
    >>> sorted_distinct_lists(tree, "bigquery").sql("bigquery")
    'SELECT ARRAY_AGG(DISTINCT ip IGNORE NULLS ORDER BY ip) FROM t'
    >>> sorted_distinct_lists(tree, "clickhouse") is tree
    True
    >>> tree = sqlglot.parse_one("SELECT k, list_sort(list_distinct(flatten(list(xs)))) AS xs FROM t GROUP BY k"
    ...                          " ORDER BY k LIMIT 5", read="duckdb")
    >>> sorted_distinct_lists(tree, "bigquery").sql("bigquery")
    'SELECT k, ARRAY(SELECT DISTINCT v FROM UNNEST(xs) AS v WHERE NOT v IS NULL ORDER BY v) AS xs FROM (SELECT k, \
ARRAY_CONCAT_AGG(xs) AS xs FROM t GROUP BY k) AS ducktrail_grouped ORDER BY k NULLS LAST LIMIT 5'
    """
    templates = TEMPLATES.get(dialect)
    if templates is None:
        return tree
    concatenated: list[exp.Expression] = []

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
        if kind not in templates:
            return node
        written = _filled(templates[kind], value, dialect)
        if dialect == "bigquery" and kind == "lists":
            concatenated.append(written)
        return written

    tree = tree.transform(replace)
    by_select: dict[int, tuple[exp.Select, list[exp.Expression]]] = {}
    for node in concatenated:
        by_select.setdefault(id(node.parent_select), (node.parent_select, []))[1].append(node)
    for select, nodes in by_select.values():
        around = _sorted_around(select, nodes)
        tree = around if select is tree else tree
        select.replace(around)
    return tree


def _filled(template: str, value: exp.Expression, dialect: str) -> exp.Expression:
    written = sqlglot.parse_one(template, read=dialect)
    return written.transform(lambda n: value.copy() if isinstance(n, exp.Column) and n.name == PLACEHOLDER else n)


def _sorted_around(select: exp.Select, concatenated: list[exp.Expression]) -> exp.Select:
    """BigQuery: `select`, whose list columns hold their lists concatenated, inside a query that
    sorts and de-duplicates each of them; the ordering, limit and CTEs move out with it."""
    if not all(isinstance(node.parent, exp.Alias) and node.parent.parent is select for node in concatenated):
        raise UnsupportedError("BigQuery cannot sort a list column's aggregate in place: give it a column of its own")
    lists = {node.parent.alias for node in concatenated}
    names = [item.alias_or_name for item in select.expressions]
    order = select.args.get("order")
    ordered_by = list(order.find_all(exp.Column)) if order else []
    if not all(names) or any(c.table or c.name not in names or c.name in lists for c in ordered_by):
        raise UnsupportedError("BigQuery: a rule with list columns must name every column and ORDER BY the others only")
    inner = select.copy()
    moved = {key: inner.args.pop(key, None) for key in ("with_", "order", "limit", "offset")}
    outer = exp.select(
        *(_filled(BIGQUERY_LIST, exp.column(n), "bigquery").as_(n) if n in lists else exp.column(n) for n in names)
    ).from_(inner.subquery(GROUPED))
    for key, part in moved.items():
        if part is not None:
            outer.set(key, part)
    return outer
