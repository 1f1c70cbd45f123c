"""Ingesting once, scanning the database many times: same alerts, incremental, open to analysts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ducktrail.cli import app
from ducktrail.ingest import ingest
from tests.support import FIXTURES, invoke, rule_columns, scan_paths, write_trail_file

EXPECTED = json.loads((FIXTURES / "AWSLogs.expected.json").read_text())["alerts"]


def run(*args):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result


@pytest.fixture
def tree(tmp_path):
    shutil.copytree(FIXTURES / "AWSLogs", tmp_path / "AWSLogs")
    return tmp_path / "AWSLogs"


def test_scan_of_the_database_raises_the_same_alerts_as_the_files(tree, tmp_path):
    db = tmp_path / "trail.duckdb"
    assert run("ingest", str(tree), "--db", str(db), "-q").exit_code == 0
    result = run("scan", "--db", str(db), "-f", "json")
    assert result.exit_code == 0, result.output
    alerts = json.loads(result.stdout)
    assert rule_columns(alerts) == EXPECTED
    assert alerts == scan_paths(tree).alerts
    assert "4 files read, 17 events" in result.stderr


def test_ingest_is_incremental_by_path_size_and_modification_time(tree, tmp_path):
    db = str(tmp_path / "trail.duckdb")
    first = ingest([str(tree)], db)
    assert (first.files_ingested, first.events_ingested, first.files_unchanged) == (4, 17, 0)
    again = ingest([str(tree)], db)
    assert (again.files_ingested, again.files_unchanged, again.events_total) == (0, 4, 17)
    plain = next(tree.rglob("*.json"))
    records = json.loads(plain.read_text())["Records"]
    plain.write_text(json.dumps({"Records": records[:1]}))
    os.utime(plain, (1, 1))
    changed = ingest([str(tree)], db)
    assert (changed.files_ingested, changed.events_ingested, changed.files_unchanged) == (1, 1, 3)
    assert changed.events_total == 16  # the file's old events were replaced, not kept beside the new


@pytest.mark.parametrize("duckdb_can_log", [True, False])
def test_ingest_counts_each_file_and_keeps_only_events(tree, tmp_path, monkeypatch, duckdb_can_log):
    import duckdb

    from ducktrail.engine.duckdb_scan import DuckDBEngine

    mixed = write_trail_file(tree / "mixed.json.gz", [{"note": "not an event"}, invoke(), {"other": 1}, invoke()])
    if not duckdb_can_log:  # counts then come from a second read of the batch
        monkeypatch.setattr(DuckDBEngine, "count_reads", lambda self: None)
    db = str(tmp_path / "trail.duckdb")

    report = ingest([str(tree)], db)

    assert (report.files_ingested, report.events_ingested, report.events_total) == (5, 19, 19)
    assert [(s.path, s.count, s.first_record) for s in report.skipped_records] == [(str(mixed), 2, 1)]
    with duckdb.connect(db, read_only=True) as con:
        stored = con.execute(
            "SELECT (SELECT count(*) FROM cloudtrail_events WHERE source_file = $mixed),"
            " (SELECT events FROM ducktrail_ingested_files WHERE path = $mixed)",
            {"mixed": str(mixed)},
        ).fetchone()
    assert stored == (2, 2)


def test_ingest_a_file_at_a_time_stores_what_one_batch_does(tree, tmp_path, monkeypatch):
    import duckdb

    import ducktrail.ingest as ingest_module

    def stored(db):
        with duckdb.connect(db, read_only=True) as con:
            return con.execute("FROM cloudtrail_events ORDER BY ALL").fetchall()

    whole = str(tmp_path / "whole.duckdb")
    assert ingest([str(tree)], whole).files_ingested == 4
    monkeypatch.setattr(ingest_module, "BATCH_BYTES", 1)
    steps = []

    class RecordedTally(ingest_module.Tally):
        def stored(self, files: int, events: int) -> None:
            super().stored(files, events)
            steps.append(self.so_far())

    monkeypatch.setattr(ingest_module, "Tally", RecordedTally)
    each = str(tmp_path / "each.duckdb")
    report = ingest([str(tree)], each)
    assert [done.files for done in steps] == [1, 2, 3, 4]
    assert (steps[-1].events, report.events_total) == (17, 17)
    assert stored(each) == stored(whole)


def test_analysts_can_query_the_database_in_duckdb(tree, tmp_path):
    import duckdb

    db = str(tmp_path / "trail.duckdb")
    ingest([str(tree)], db)
    with duckdb.connect(db, read_only=True) as con:
        (count,) = con.execute(
            "SELECT count(*) FROM cloudtrail_events WHERE event_source = 'lambda.amazonaws.com'"
        ).fetchone()
    assert count == 15  # 6 routine, 5 in the attack window, 2 partner, 2 in the org trail
    shell = Path(sys.executable).with_name("duckdb")
    if shell.exists():
        out = subprocess.run(
            [str(shell), db, "-json", "-c", "SELECT count(*) AS n FROM cloudtrail_events"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(out.stdout) == [{"n": 17}]


def test_ingest_of_an_elastic_export(tmp_path):
    from tests import elastic_oracle
    from tests.support import write_ndjson

    events = json.loads((FIXTURES / "cases" / "cross_account_invoke_alerts" / "events.json").read_text())["Records"]
    export = write_ndjson(tmp_path / "export.ndjson", [elastic_oracle.ecs_document(e) for e in events])
    db = tmp_path / "ecs.duckdb"
    assert run("ingest", str(export), "--db", str(db), "--source", "ecs", "-q").exit_code == 0
    result = run("scan", "--db", str(db), "-f", "json", "-q")
    assert [a["caller_account"] for a in json.loads(result.stdout)] == ["444455556666"]


def test_ingest_stops_at_a_bad_file_and_keeps_what_it_loaded_with_keep_going(tree, tmp_path):
    bad = tree / "broken.json"
    bad.write_text("{nope")
    db = tmp_path / "trail.duckdb"
    stopped = run("ingest", str(tree), "--db", str(db))
    assert stopped.exit_code == 3 and str(bad) in stopped.stderr, stopped.output
    kept = run("ingest", str(tree), "--db", str(db), "--keep-going")
    assert kept.exit_code == 3, kept.output
    assert "holds 4 files, 17 events" in kept.stderr
    assert f"unreadable, skipped: {bad}" in kept.stderr


def test_a_file_that_is_not_cloudtrail_is_not_recorded_as_ingested(tmp_path):
    other = tmp_path / "config.json"
    other.write_text('{"Version": "2012-10-17"}')
    db = str(tmp_path / "trail.duckdb")
    result = run("ingest", str(other), "--db", db)
    assert result.exit_code == 3 and "not CloudTrail JSON" in result.stderr, result.output
    assert ingest([str(FIXTURES / "cases" / "cross_account_invoke_alerts" / "events.json")], db).files_total == 1


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["scan", "--db", "{missing}"], 3, "no such database file"),
        (["scan", "--db", "{not_ducktrail}"], 3, "not a ducktrail database"),
        (["scan", "{tree}", "--db", "{missing}"], 2, "not both"),
        (["scan"], 2, "not both"),
    ],
)
def test_database_usage_and_input_errors(tree, tmp_path, args, code, message):
    import duckdb

    not_ducktrail = tmp_path / "other.duckdb"
    duckdb.connect(str(not_ducktrail)).execute("CREATE TABLE t AS SELECT 1").close()
    names = {"missing": tmp_path / "none.duckdb", "not_ducktrail": not_ducktrail, "tree": tree}
    result = run(*[a.format(**names) for a in args])
    assert result.exit_code == code, result.output
    assert message in result.output


def test_time_bounds_apply_to_database_scans(tree, tmp_path):
    db = str(tmp_path / "trail.duckdb")
    ingest([str(tree)], db)
    window = ["--since", "2026-11-01T01:05:00Z", "--until", "2026-11-01T01:11:00Z"]
    from_db = run("scan", "--db", db, "-f", "json", "-q", *window)
    from_files = run("scan", str(tree), "-f", "json", "-q", *window)
    assert from_db.exit_code == 0, from_db.output
    assert json.loads(from_db.stdout) == json.loads(from_files.stdout)
    assert [a["caller_account"] for a in json.loads(from_db.stdout)] == ["777788889999"]
