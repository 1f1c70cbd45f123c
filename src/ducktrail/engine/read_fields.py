"""The CloudTrail fields a set of rules reads, and the adapter's read types narrowed to them.

Every field DuckDB takes from every event costs scan time: the seven the bundled rule does not
use cost about 8% of a scan. So before a scan the engine retypes, in the CloudTrail adapter's
types (cloudtrail_record, cloudtrail_json_value), each field no selected rule needs as NULL: the
view keeps its shape, those columns read as NULL, and DuckDB skips converting the values. Only
leaf fields are retyped; userIdentity and resources keep their shape, so a file the full read
rejects is still rejected. Analysts' SQL and ingest read every field.
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
RECORD_TYPE = "cloudtrail_record"
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
    nodes = list(_nodes(tree))
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


def narrowed_types(record_type: Any, fields: frozenset[str] | None) -> list[str]:
    """Statements that retype as NULL each leaf field of the adapter's record type (a DuckDB
    STRUCT type, as DuckDB describes it) that is not in `fields`, in both adapter types; with
    `fields` None, statements that restore every field."""
    record = _struct(record_type, fields, "")
    # cloudtrail_json_value refers to cloudtrail_record, so it goes first and comes back after.
    return [
        f"DROP TYPE IF EXISTS {VALUE_TYPE}",
        f"CREATE OR REPLACE TYPE {RECORD_TYPE} AS {record}",
        f'CREATE TYPE {VALUE_TYPE} AS STRUCT("Records" {RECORD_TYPE}[], {record[len("STRUCT(") :]}',
    ]


def _struct(struct_type: Any, fields: frozenset[str] | None, prefix: str) -> str:
    members = [f"{_quote(name)} {_typed(child, fields, prefix + name)}" for name, child in struct_type.children]
    return f"STRUCT({', '.join(members)})"


def _typed(child: Any, fields: frozenset[str] | None, path: str) -> str:
    if child.id == "struct":
        return _struct(child, fields, path + ".")
    if child.id == "list" and child.child.id == "struct":
        return _struct(child.child, fields, path + ".") + "[]"
    return str(child) if fields is None or path in fields else '"NULL"'


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _nodes(item)
