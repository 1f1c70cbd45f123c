"""The CloudTrail fields a set of rules reads, and the adapter's read type narrowed to them.

Every field DuckDB takes from every event costs scan time, about 1% of a scan each, whether it
is there or not: the seven leaves the bundled rule does not use cost about 8%. So before a scan
the engine sets the adapter's variable ducktrail_read_type to cloudtrail_json_value without the
fields no selected rule needs; the adapter's cast back to cloudtrail_json_value gives them NULL,
so the view keeps its shape. userIdentity and resources are kept, with one field at least, so a
file the full read rejects is still rejected. Analysts' SQL and ingest read every field.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# The raw fields each column of cloudtrail_events is made from (sql/sources/duckdb/cloudtrail.sql);
# tests/test_read_fields.py reads each column with only these fields against the full read.
COLUMN_FIELDS: dict[str, tuple[str, ...]] = {
    "source_file": (),
    "event_time": ("eventTime",),
    "event_version": ("eventVersion",),
    "event_source": ("eventSource",),
    "event_name": ("eventName",),
    "aws_region": ("awsRegion",),
    "source_ip_address": ("sourceIPAddress",),
    "source_ip": ("sourceIPAddress",),
    "error_code": ("errorCode",),
    "error_message": ("errorMessage",),
    "user_identity_type": ("userIdentity.type",),
    "user_identity_arn": ("userIdentity.arn",),
    "user_identity_account_id": ("userIdentity.accountId",),
    "user_identity_invoked_by": ("userIdentity.invokedBy",),
    "request_parameters": ("requestParameters",),
    "resources": ("resources.ARN", "resources.accountId", "resources.type"),
    "resource_arns": ("resources.ARN",),
    "event_id": ("eventID",),
    "shared_event_id": ("sharedEventID",),
    "recipient_account_id": ("recipientAccountId",),
}
# Read in every scan: the read hook tells events from other records by them.
ALWAYS_READ = frozenset({"eventVersion", "eventSource", "eventName", "eventID"})
VALUE_TYPE = "cloudtrail_json_value"


def columns_used(tree: dict[str, Any]) -> frozenset[str] | None:
    """The cloudtrail_events columns a query names, from DuckDB's serialized parse tree
    (json_serialize_sql); None when it may use any column: `*`, COLUMNS(...), or a whole row.

    >>> tree = {"node": {"select_list": [{"class": "COLUMN_REF", "column_names": ["e", "Event_Name"]}],
    ...         "from_table": {"type": "BASE_TABLE", "table_name": "cloudtrail_events", "alias": "e"}}}
    >>> sorted(columns_used(tree))
    ['event_name']
    >>> columns_used({"node": {"select_list": [{"class": "COLUMN_REF", "column_names": ["e"]}],
    ...         "from_table": {"type": "BASE_TABLE", "table_name": "cloudtrail_events", "alias": "e"}}})
    >>> columns_used({"node": {"select_list": [{"class": "STAR"}]}})
    """
    nodes = list(tree_nodes(tree))
    if any(node.get("class") == "STAR" for node in nodes):
        return None
    relations = {
        str(node.get(key, "")).lower()
        for node in nodes
        if "table_name" in node or node.get("type") in ("SUBQUERY", "TABLE_FUNCTION", "JOIN")
        for key in ("table_name", "alias")
    } - {""}
    used = set()
    for node in nodes:
        if node.get("class") == "COLUMN_REF":
            names = [str(name).lower() for name in node.get("column_names", [])]
            if len(names) == 1 and names[0] in relations:
                return None  # a whole row, as a struct
            if names:
                used.add(names[-1])
    return frozenset(used & COLUMN_FIELDS.keys())


def fields_for(columns: frozenset[str]) -> frozenset[str]:
    """The raw fields these columns need, and those every scan reads.

    >>> sorted(fields_for(frozenset({"resource_arns"})))
    ['eventID', 'eventName', 'eventSource', 'eventVersion', 'resources.ARN']
    """
    return ALWAYS_READ.union(*(COLUMN_FIELDS[column] for column in columns))


def read_type(value_type: Any, fields: frozenset[str] | None) -> str | None:
    """The adapter's value type (cloudtrail_json_value, as DuckDB describes it) with only these
    fields, as a DuckDB type; None for every field. A record's fields have the same paths at the
    top of an NDJSON line as inside "Records".

    >>> from ducktrail.engine.duckdb_module import duckdb
    >>> value = duckdb.sqltype('STRUCT("Records" STRUCT(a VARCHAR, b VARCHAR, u STRUCT(x VARCHAR, y VARCHAR))[],'
    ...                         ' a VARCHAR, b VARCHAR, u STRUCT(x VARCHAR, y VARCHAR))')
    >>> read_type(value, frozenset({"b", "u.y"}))
    'STRUCT("Records" STRUCT("b" VARCHAR, "u" STRUCT("y" VARCHAR))[], "b" VARCHAR, "u" STRUCT("y" VARCHAR))'
    >>> read_type(value, frozenset({"a"}))  # u stays an object, so that a file with a string there still fails
    'STRUCT("Records" STRUCT("a" VARCHAR, "u" STRUCT("x" VARCHAR))[], "a" VARCHAR, "u" STRUCT("x" VARCHAR))'
    """
    if fields is None:
        return None
    members = []
    for name, child in value_type.children:
        if name == "Records":
            members.append(f"{_quote(name)} {_struct(child.child, fields, '')}[]")
        else:
            members.extend(_member(name, child, fields, ""))
    return f"STRUCT({', '.join(members)})"


def _struct(struct_type: Any, fields: frozenset[str], prefix: str) -> str:
    members = [text for name, child in struct_type.children for text in _member(name, child, fields, prefix)]
    if not members:  # an unused object or list of objects: keep one field, so it is still parsed as one
        name, child = struct_type.children[0]
        members = _member(name, child, frozenset({prefix + name}), prefix)
    return f"STRUCT({', '.join(members)})"


def _member(name: str, child: Any, fields: frozenset[str], prefix: str) -> list[str]:
    # Objects and lists of objects are always read (see the module docstring); leaves only if used.
    path = prefix + name
    if child.id == "struct":
        return [f"{_quote(name)} {_struct(child, fields, path + '.')}"]
    if child.id == "list" and child.child.id == "struct":
        return [f"{_quote(name)} {_struct(child.child, fields, path + '.')}[]"]
    return [f"{_quote(name)} {child}"] if path in fields else []


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def tree_nodes(value: Any) -> Iterator[dict[str, Any]]:
    """Every object in a serialized parse tree, depth first."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from tree_nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from tree_nodes(item)
