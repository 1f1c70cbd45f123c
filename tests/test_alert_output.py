"""Alerts leave DuckDB as JSON text and are printed as they are: metadata first, then the rule's
columns, timestamps in ISO 8601 UTC, one alert per line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ducktrail.cli import app
from ducktrail.engine.duckdb_scan import DuckDBEngine, EngineResult, RuleQuery
from ducktrail.errors import RulePackError
from ducktrail.report.formats import RULE_KEYS
from ducktrail.scan import ScanReport, _add_alerts, select_rules
from tests.support import FIXTURES, invoke, pack, write_trail_file


def test_timestamp_columns_are_written_in_iso_8601_utc_and_nothing_else_changes(tmp_path):
    rule = RuleQuery(
        "r",
        "SELECT TIMESTAMP '2026-01-02 03:04:05.25' AS t, TIMESTAMP '2026-01-02 03:04:05' AS \"odd \"\"name\", "
        "NULL::TIMESTAMP AS n, '2026-01-02 03:04:05' AS s, [1, 2] AS l, 'é' AS u, count(*) AS c "
        "FROM cloudtrail_events",
    )
    with DuckDBEngine() as engine:
        engine.use_files([str(write_trail_file(tmp_path / "a.json", [invoke()]))])
        result = engine.run([rule], None, None)
    assert result.alert_json["r"] == [
        '{"t":"2026-01-02T03:04:05.25Z","odd \\"name":"2026-01-02T03:04:05Z","n":null,'
        '"s":"2026-01-02 03:04:05","l":[1,2],"u":"é","c":1}'
    ]
    assert result.columns["r"] == ("t", 'odd "name', "n", "s", "l", "u", "c")


def test_timestamps_with_a_time_zone_are_written_in_utc(tmp_path):
    rule = RuleQuery(
        "r",
        "SELECT TIMESTAMPTZ '2026-01-02 03:04:05-05' AS z, TIMESTAMP_NS '2026-01-02 03:04:05.123456789' AS ns "
        "FROM cloudtrail_events",
    )
    with DuckDBEngine() as engine:
        engine.con.execute("SET TimeZone = 'America/New_York'")  # the offset DuckDB writes is the session's
        engine.use_files([str(write_trail_file(tmp_path / "a.json", [invoke()]))])
        result = engine.run([rule], None, None)
    assert result.alert_json["r"] == ['{"z":"2026-01-02T08:04:05Z","ns":"2026-01-02T03:04:05.123456789Z"}']


def test_alerts_keep_the_order_the_rule_gives_them(tmp_path):
    rule = RuleQuery("r", "SELECT n FROM range(3000) AS t(n) ORDER BY n DESC")
    with DuckDBEngine() as engine:
        engine.use_files([str(write_trail_file(tmp_path / "a.json", [invoke()]))])
        alerts = engine.run([rule], None, None).alerts["r"]
    assert [a["n"] for a in alerts] == list(range(2999, -1, -1))


def test_a_rule_column_named_like_the_metadata_is_refused():
    (chosen,) = select_rules(pack(), None)
    result = EngineResult(
        alert_json={chosen.key: ['{"severity":"low"}']}, counts={}, columns={chosen.key: ("severity",)}
    )
    with pytest.raises(RulePackError, match="returns severity, which ducktrail adds"):
        _add_alerts(ScanReport(rules=[chosen]), [chosen], result)


@pytest.mark.parametrize("output_format", ["json", "ndjson"])
def test_machine_formats_print_one_alert_per_line_metadata_first(output_format):
    result = CliRunner().invoke(app, ["scan", str(FIXTURES / "AWSLogs"), "-f", output_format, "-q"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    if output_format == "json":
        assert (lines[0], lines[-1]) == ("[", "]"), result.stdout
        lines = [line.rstrip(",") for line in lines[1:-1]]
    alerts = [json.loads(line) for line in lines]
    expected = json.loads((FIXTURES / "AWSLogs.expected.json").read_text())["alerts"]
    assert [{key: alert[key] for key in expected[0]} for alert in alerts] == expected, result.stdout
    for alert in alerts:
        keys = list(alert)
        assert keys[: len(RULE_KEYS)] == list(RULE_KEYS), keys
        assert "user_identity_arn" in keys[len(RULE_KEYS) :]
        assert alert["first_seen"].endswith("Z") and "T" in alert["first_seen"]
