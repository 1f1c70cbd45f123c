"""A scan reads only the CloudTrail fields its rules use: every column must come out of that
narrowed read exactly as out of the full one, and the same files must be rejected."""

from __future__ import annotations

import json

import pytest

from ducktrail.engine.duckdb_scan import DuckDBEngine, RuleQuery
from ducktrail.engine.read_fields import ALWAYS_READ, COLUMN_FIELDS, columns_used
from tests.support import FIXTURES, invoke, pack, write_ndjson, write_trail_file

INPUTS = sorted(
    str(p)
    for p in [*(FIXTURES / "AWSLogs").rglob("*.json*"), *(FIXTURES / "cases").glob("*/events.json")]
    if "/CloudTrail/" in str(p) or "/cases/" in str(p)
)
EVERYTHING = RuleQuery("all", "SELECT * FROM cloudtrail_events")


def read(files: list[str], rule: RuleQuery) -> tuple[list[str] | str, frozenset[str] | None]:
    """The rule's rows as JSON (or the error's type), and the fields the engine read."""
    with DuckDBEngine() as engine:
        engine.use_files(files)
        try:
            rows = engine.run([rule], None, None).alert_json[rule.key]
        except engine.error_types as exc:
            return type(exc).__name__, engine.read_fields
        return rows, engine.read_fields


def column_alone(column: str) -> RuleQuery:
    return RuleQuery(column, f"SELECT source_file, {column} FROM cloudtrail_events ORDER BY 1, 2")


@pytest.mark.parametrize("column", sorted(COLUMN_FIELDS))
def test_each_column_read_with_only_its_fields_equals_the_full_read(column):
    narrowed, fields = read(INPUTS, column_alone(column))
    assert fields == ALWAYS_READ | set(COLUMN_FIELDS[column])
    full, everything = read(INPUTS, RuleQuery("full", f"SELECT * FROM ({column_alone(column).sql})"))
    assert everything is None
    assert narrowed == full and len(full) > 0


@pytest.mark.parametrize(
    "event",
    [
        invoke(resources="not a list"),
        invoke(userIdentity="not an object"),
        invoke(resources=[{"ARN": "x", "accountId": {"nested": True}}]),
        invoke(userIdentity={"type": ["odd"], "arn": "arn:aws:iam::123456789012:user/u"}),
    ],
    ids=["resources_string", "user_identity_string", "object_in_pruned_leaf", "list_in_pruned_leaf"],
)
def test_a_narrowed_read_accepts_and_rejects_the_files_the_full_read_does(tmp_path, event):
    files = [str(write_trail_file(tmp_path / "a.json", [event])), str(write_ndjson(tmp_path / "b.ndjson", [event]))]
    narrowed, fields = read(files, column_alone("event_name"))
    full, _ = read(files, RuleQuery("full", f"SELECT * FROM ({column_alone('event_name').sql})"))
    assert fields is not None and "userIdentity.type" not in fields
    assert narrowed == full


def test_the_bundled_rule_reads_twelve_fields(tmp_path):
    rule = pack().rules[0]
    sql = rule.sql(rule.version).sql
    alerts, fields = read([str(write_trail_file(tmp_path / "a.json", [invoke()]))], RuleQuery("r", sql))
    assert len(alerts) == 1
    assert fields == ALWAYS_READ | {
        "eventTime",
        "sourceIPAddress",
        "errorCode",
        "errorMessage",
        "userIdentity.arn",
        "userIdentity.invokedBy",
        "requestParameters",
        "resources.ARN",
    }


def test_a_time_window_reads_the_event_time(tmp_path):
    from datetime import datetime

    with DuckDBEngine() as engine:
        engine.use_files([str(write_trail_file(tmp_path / "a.json", [invoke()]))])
        engine.run([column_alone("event_name")], datetime(2026, 1, 1), None)
        assert "eventTime" in (engine.read_fields or set())


def serialized(sql: str) -> dict:
    import duckdb

    return json.loads(duckdb.execute("SELECT json_serialize_sql(?::VARCHAR)", [sql]).fetchall()[0][0])


@pytest.mark.parametrize(
    ("sql", "columns"),
    [
        ("SELECT event_name, count(*) FROM cloudtrail_events GROUP BY ALL", {"event_name"}),
        ("SELECT e.event_source FROM cloudtrail_events e WHERE e.error_code IS NULL", {"event_source", "error_code"}),
        ("SELECT * FROM cloudtrail_events", None),
        ("SELECT COLUMNS('user_.*') FROM cloudtrail_events", None),
        ("SELECT to_json(e) FROM cloudtrail_events AS e", None),
        ("SELECT to_json(cloudtrail_events) FROM cloudtrail_events", None),
        ("WITH x AS (SELECT event_id FROM cloudtrail_events) SELECT x FROM x", None),
        ("SELECT count(*) AS n FROM cloudtrail_events", set()),
    ],
)
def test_the_columns_a_rule_uses_or_none_when_it_may_use_any(sql, columns):
    used = columns_used(serialized(sql))
    assert used == (None if columns is None else frozenset(columns))
