"""The rows of cloudtrail_events a set of rules can use: the WHERE clauses they read it under.

A scan split across threads (engine/duckdb_scan.py) keeps only these rows from each share of
the files, then runs the rules over what was kept. That is only the same scan when no rule can
see a row outside them, so the filter is given only when every place a rule reads
cloudtrail_events is a SELECT straight from it with a WHERE of plain, repeatable expressions
over its columns; otherwise None, and the scan reads in one query.

Trees are DuckDB's serialized parse trees (json_serialize_sql).
"""

from __future__ import annotations

import json
from typing import Any

from ducktrail.engine.read_fields import COLUMN_FIELDS, tree_nodes

RELATION = "cloudtrail_events"
# Expression classes a filter may hold; anything else (subqueries, windows, lambdas, parameters,
# stars) makes the rows a rule reads hard to state outside the rule.
PLAIN = frozenset(
    {"COLUMN_REF", "CONSTANT", "COMPARISON", "CONJUNCTION", "OPERATOR", "FUNCTION", "CAST", "CASE", "BETWEEN"}
)
# Functions whose value differs between the threads' queries and the rules' query.
UNREPEATABLE = frozenset(
    {"random", "setseed", "uuid", "gen_random_uuid", "uuidv4", "uuidv7", "nextval", "currval"}
    | {"getvariable", "current_setting"}
)


def row_filter(trees: list[dict[str, Any]]) -> dict[str, Any] | None:
    """One expression true of every row of cloudtrail_events these rules can use, or None.

    >>> def select(where):
    ...     return {"from_table": {"type": "BASE_TABLE", "table_name": "cloudtrail_events", "alias": "e"},
    ...             "where_clause": where}
    >>> name = {"class": "COLUMN_REF", "column_names": ["e", "event_name"]}
    >>> row_filter([{"node": select(name)}])
    {'class': 'COLUMN_REF', 'column_names': ['event_name']}
    >>> row_filter([{"node": select(name)}, {"node": select(None)}]) is None
    True
    """
    filters: dict[str, dict[str, Any]] = {}
    for tree in trees:
        nodes = list(tree_nodes(tree))
        if any(_defines_relation(node) for node in nodes):
            return None
        reads = [node for node in nodes if _is_relation(node)]
        selects = [node for node in nodes if _is_relation(node.get("from_table"))]
        if len(reads) != len(selects):
            return None  # read in a join, a set operation or a table function argument
        for select in selects:
            where = _plain(select.get("where_clause"), _names(select["from_table"]))
            # A sample (USING SAMPLE, or TABLESAMPLE on the relation) is drawn before the WHERE.
            if where is None or select.get("sample") or select["from_table"].get("sample"):
                return None
            filters[_text(where)] = where
    if not filters:
        return None
    if len(filters) == 1:
        return next(iter(filters.values()))
    return {"class": "CONJUNCTION", "type": "CONJUNCTION_OR", "alias": "", "children": list(filters.values())}


def _plain(expression: Any, relation_names: set[str]) -> dict[str, Any] | None:
    """The expression with its columns unqualified, if it only uses plain, repeatable
    expressions over columns of cloudtrail_events; else None."""
    if not isinstance(expression, dict):
        return None
    copy = json.loads(json.dumps(expression))
    for node in tree_nodes(copy):
        kind = node.get("class")
        if kind is None:
            continue  # not an expression: a literal value, a type
        if kind not in PLAIN:
            return None
        if kind == "FUNCTION" and str(node.get("function_name", "")).lower() in UNREPEATABLE:
            return None
        if kind == "COLUMN_REF":
            names = list(node.get("column_names", []))
            if len(names) > 1 and names[0].lower() in relation_names:
                names = names[1:]
            if not names or names[0].lower() not in COLUMN_FIELDS:
                return None
            node["column_names"] = names
    return copy


def _text(expression: dict[str, Any]) -> str:
    """The expression as text, the same wherever in a query it was written."""
    return json.dumps(_located_nowhere(expression), sort_keys=True)


def _located_nowhere(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _located_nowhere(v) for k, v in value.items() if not k.startswith("query_location")}
    if isinstance(value, list):
        return [_located_nowhere(item) for item in value]
    return value


def _names(table: dict[str, Any]) -> set[str]:
    return {str(table.get("alias") or "").lower(), RELATION} - {""}


def _is_relation(node: Any) -> bool:
    return (
        isinstance(node, dict)
        and node.get("type") == "BASE_TABLE"
        and str(node.get("table_name", "")).lower() == RELATION
        and str(node.get("schema_name") or "main").lower() == "main"
        and not node.get("catalog_name")
    )


def _defines_relation(node: dict[str, Any]) -> bool:
    """A CTE of the rule's own named cloudtrail_events, which a read of that name would mean."""
    entries = node.get("cte_map", {}).get("map", []) if isinstance(node.get("cte_map"), dict) else []
    return any(str(entry.get("key", "")).lower() == RELATION for entry in entries)
