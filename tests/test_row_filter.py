"""The row filter a split read keeps: the WHERE clauses under which rules read
cloudtrail_events, or None wherever a rule may use a row no such clause describes."""

from __future__ import annotations

import json

import duckdb
import pytest

from ducktrail.engine.row_filter import row_filter
from tests.support import pack


def tree(sql: str) -> dict:
    parsed = json.loads(duckdb.execute("SELECT json_serialize_sql(?::VARCHAR)", [sql]).fetchall()[0][0])
    assert not parsed.get("error"), parsed  # a case that does not parse would prove nothing
    return parsed


def as_sql(predicate: dict | None) -> str | None:
    """The filter as SQL, through DuckDB's own deserializer, as the engine writes it."""
    if predicate is None:
        return None
    template = tree("SELECT * FROM cloudtrail_events")
    template["statements"][0]["node"]["where_clause"] = predicate
    (sql,) = duckdb.execute("SELECT json_deserialize_sql(?::JSON)", [json.dumps(template)]).fetchall()[0]
    return sql.removeprefix("SELECT * FROM cloudtrail_events WHERE ")


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (["SELECT event_name FROM cloudtrail_events WHERE event_source = 'x'"], "(event_source = 'x')"),
        (["SELECT e.event_name FROM cloudtrail_events AS e WHERE e.error_code IS NULL"], "(error_code IS NULL)"),
        (
            [
                "SELECT 1 FROM cloudtrail_events WHERE event_source = 'a'",
                "SELECT 2 FROM cloudtrail_events WHERE event_name = 'b'",
            ],
            "((event_source = 'a') OR (event_name = 'b'))",
        ),
        (
            [
                "WITH a AS (SELECT * FROM cloudtrail_events WHERE event_source = 'a'),"
                " b AS (SELECT * FROM cloudtrail_events WHERE event_source = 'a') SELECT * FROM a UNION ALL FROM b"
            ],
            "(event_source = 'a')",
        ),
        (["SELECT * FROM cloudtrail_events"], None),
        (["SELECT 1 FROM cloudtrail_events WHERE event_source = 'a'", "SELECT * FROM cloudtrail_events"], None),
        (
            ["SELECT * FROM cloudtrail_events a JOIN cloudtrail_events b USING (event_id) WHERE a.event_name = 'x'"],
            None,
        ),
        (["SELECT * FROM (SELECT * FROM cloudtrail_events) AS t WHERE event_name = 'x'"], None),
        (["SELECT * FROM cloudtrail_events WHERE event_name IN (SELECT 'x')"], None),
        (["SELECT * FROM cloudtrail_events WHERE random() < 0.5"], None),
        (["SELECT * FROM cloudtrail_events WHERE event_name = getvariable('name')"], None),
        (["SELECT * FROM cloudtrail_events WHERE event_name = 'x' USING SAMPLE 10"], None),
        (["SELECT * FROM cloudtrail_events TABLESAMPLE 3 ROWS WHERE event_name = 'x'"], None),
        (["SELECT * FROM cloudtrail_events WHERE list_any_value(resource_arns, x -> x = 'a') IS NULL"], None),
        (
            ["WITH cloudtrail_events AS (SELECT 1 AS event_name) SELECT * FROM cloudtrail_events WHERE event_name = 1"],
            None,
        ),
        (["SELECT (SELECT count(*) FROM cloudtrail_events WHERE event_name = o.name) FROM other AS o"], None),
    ],
    ids=[
        "one_where",
        "alias_dropped",
        "two_rules_or",
        "same_clause_once",
        "no_where",
        "one_rule_without_where",
        "join",
        "subquery_in_from",
        "subquery_in_where",
        "random",
        "variable",
        "sample",
        "tablesample",
        "lambda",
        "own_cte_named_like_the_relation",
        "correlated",
    ],
)
def test_the_row_filter_is_the_rules_where_clauses_or_none(rules, expected):
    assert as_sql(row_filter([tree(sql) for sql in rules])) == expected


def test_the_bundled_rule_is_read_under_its_first_filters():
    rule = pack().rules[0]
    predicate = as_sql(row_filter([tree(rule.sql(rule.version).sql)]))
    assert predicate is not None
    assert "event_source = 'lambda.amazonaws.com'" in predicate and "(request_parameters IS NOT NULL)" in predicate
