"""How many times a query reads the events relation, its CTEs expanded.

A scan that counts what each file holds as the rules read it (engine/read_counter.py) lets a
single rule read the files directly, so that DuckDB pushes the rule's filters into the read.
That is exact only when the rule reads the relation once: a self-join, an `IN (SELECT ...)` of
the relation or a CTE of it named twice would read, and count, every file twice. Such a rule
reads a materialised copy instead.
"""

from __future__ import annotations

from typing import Any

from ducktrail.engine.read_fields import tree_nodes

RELATION = "cloudtrail_events"


def reads(tree: dict[str, Any], relation: str = RELATION) -> int | None:
    """How many times the query in DuckDB's serialized parse tree (json_serialize_sql) names
    `relation`, each CTE counted as often as it is named; None when that cannot be told (a CTE
    named like the relation or like another CTE, a recursive CTE).

    >>> import duckdb, json
    >>> def count(sql):
    ...     return reads(json.loads(duckdb.connect().execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0]))
    >>> count("SELECT count(*) FROM cloudtrail_events WHERE event_name LIKE 'Invoke%'")
    1
    >>> count("WITH e AS (FROM cloudtrail_events) SELECT * FROM e a JOIN e b USING (event_id)")
    2
    >>> count("SELECT * FROM cloudtrail_events WHERE event_id IN (SELECT event_id FROM cloudtrail_events)")
    2
    >>> count("WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r")
    """
    definitions: dict[str, Any] = {}
    for name, body in _cte_definitions(tree):
        if name in definitions or name == relation:
            return None
        definitions[name] = body

    def count(node: Any, expanding: tuple[str, ...]) -> int | None:
        if isinstance(node, list):
            parts = [count(item, expanding) for item in node]
            return None if None in parts else sum(parts)  # type: ignore[arg-type]
        if not isinstance(node, dict):
            return 0
        if node.get("type") == "BASE_TABLE":
            name = str(node.get("table_name", "")).lower()
            if name == relation:
                return 1
            if name in definitions and not node.get("schema_name"):
                if name in expanding:
                    return None
                return count(definitions[name], (*expanding, name))
            return 0
        # A CTE's body counts where the CTE is named, not where it is defined.
        parts = [count(value, expanding) for key, value in node.items() if key != "cte_map"]
        return None if None in parts else sum(parts)  # type: ignore[arg-type]

    return count(tree, ())


def _cte_definitions(tree: Any) -> list[tuple[str, Any]]:
    """Every CTE defined anywhere in the tree, as (lower-case name, body)."""
    return [
        (str(entry["key"]).lower(), entry["value"])
        for node in tree_nodes(tree)
        if isinstance(node.get("cte_map"), dict)
        for entry in node["cte_map"].get("map", [])
    ]
