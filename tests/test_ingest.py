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
from ducktrail.engine.duckdb_store import (
    ADDED_FILES_COLUMNS,
    EVENT_COLUMNS,
    EVENTS_TABLE,
    FILES_COLUMNS,
    FILES_TABLE,
)
from ducktrail.errors import InputError
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
    assert f"ducktrail: {db} holds 4 files, 17 events; 3 alerts from 1 rule" in result.stderr, result.stderr


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


@pytest.mark.parametrize("change", ["size_alone", "modification_time_alone"])
def test_either_stamp_changing_alone_reloads_the_file(tmp_path, change):
    import duckdb

    path = write_trail_file(tmp_path / "a.json", [invoke(event_id="one"), invoke(event_id="two")])
    os.utime(path, (1_000_000, 1_000_000))
    db = str(tmp_path / "trail.duckdb")
    assert ingest([str(path)], db).events_total == 2
    one_event = json.dumps({"Records": [invoke(event_id="one")]})
    if change == "size_alone":
        path.write_text(one_event)  # shorter, and its old modification time put back
        os.utime(path, (1_000_000, 1_000_000))
    else:
        same_size = json.dumps({"Records": [invoke(event_id="one"), invoke(event_id="ONE")]})
        assert len(same_size) == path.stat().st_size
        path.write_text(same_size)
        os.utime(path, (2_000_000, 2_000_000))
    report = ingest([str(path)], db)
    assert (report.files_ingested, report.files_unchanged) == (1, 0)
    with duckdb.connect(db, read_only=True) as con:
        stored = sorted(event_id for (event_id,) in con.execute("SELECT event_id FROM cloudtrail_events").fetchall())
    assert stored == (["one"] if change == "size_alone" else ["ONE", "one"])


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


def test_every_file_of_a_batch_that_is_not_cloudtrail_stays_unrecorded(tmp_path):
    write_trail_file(tmp_path / "in" / "good.json", invokes("g", 2))
    for name in ("bad1", "bad2"):
        (tmp_path / "in" / f"{name}.json").write_text(json.dumps({"Records": [{name: 1}]}))
    db = tmp_path / "trail.duckdb"
    first = run("ingest", str(tmp_path / "in"), "--db", str(db))
    assert first.exit_code == 3 and "bad1.json (record 1): not CloudTrail JSON" in first.stderr, first.output
    (tmp_path / "in" / "bad1.json").unlink()
    second = run("ingest", str(tmp_path / "in"), "--db", str(db))
    assert second.exit_code == 3 and "bad2.json (record 1): not CloudTrail JSON" in second.stderr, second.output
    kept = run("ingest", str(tmp_path / "in"), "--db", str(db), "--keep-going")
    assert kept.exit_code == 3 and "holds 1 file, 2 events" in kept.stderr, kept.output
    assert stored_counts(db) == (2, 1, 2)


def test_keep_going_reports_each_bad_file_of_a_batch_once(tmp_path):
    write_trail_file(tmp_path / "in" / "good.json", invokes("g", 2))
    (tmp_path / "in" / "broken.json").write_text("{nope")
    (tmp_path / "in" / "other.json").write_text(json.dumps({"Records": [{"foo": 1}]}))
    db = tmp_path / "trail.duckdb"
    result = run("ingest", str(tmp_path / "in"), "--db", str(db), "--keep-going")
    assert result.exit_code == 3 and "holds 1 file, 2 events" in result.stderr, result.output
    skipped = [line for line in result.stderr.splitlines() if "unreadable, skipped" in line]
    assert len(skipped) == 2 and "broken.json" in skipped[0] and "other.json" in skipped[1], result.stderr


@pytest.mark.parametrize("keep_going", [False, True])
def test_a_stored_file_that_is_no_longer_cloudtrail_keeps_its_events(tmp_path, keep_going):
    stored = write_trail_file(tmp_path / "in" / "a.json", invokes("a", 3))
    write_trail_file(tmp_path / "in" / "b.json", invokes("b", 2))
    db = tmp_path / "trail.duckdb"
    assert run("ingest", str(tmp_path / "in"), "--db", str(db), "-q").exit_code == 0
    stored.write_text(json.dumps({"Records": [{"foo": 1}, {"bar": 2}]}))
    os.utime(stored, (1, 1))
    write_trail_file(tmp_path / "in" / "c.json", invokes("c", 4))
    result = run("ingest", str(tmp_path / "in"), "--db", str(db), *(["--keep-going"] if keep_going else []))
    assert result.exit_code == 3 and f"{stored} (record 1): not CloudTrail JSON" in result.stderr, result.output
    # As a file that cannot be read now: what was stored from it stays, and it is tried again next time.
    events, files, listed = stored_counts(db)
    assert (events, files, listed) == ((9, 3, 9) if keep_going else (5, 2, 5)), result.output
    assert run("ingest", str(tmp_path / "in"), "--db", str(db), "--keep-going").exit_code == 3


def fail_statement(monkeypatch, statement: str, message: str) -> None:
    """Make DuckDB fail `statement` as it does when the disk is full, in every engine opened."""
    from ducktrail.engine.duckdb_module import duckdb
    from ducktrail.engine.duckdb_scan import DuckDBEngine

    opened = DuckDBEngine.__init__

    class FullDisk:
        def __init__(self, con):
            self._con = con

        def execute(self, sql, *args):
            if sql == statement:
                if statement == "COMMIT":
                    self._con.execute("ROLLBACK")  # a failed COMMIT ends the transaction
                raise duckdb.IOException(message)
            return self._con.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self._con, name)

    def open_full_disk(self, *args, **kwargs):
        opened(self, *args, **kwargs)
        self.con = FullDisk(self.con)

    monkeypatch.setattr(DuckDBEngine, "__init__", open_full_disk)


def test_a_corrupt_database_is_named_for_ingest_and_scan(tree, tmp_path):
    db = tmp_path / "trail.duckdb"
    assert run("ingest", str(tree), "--db", str(db), "-q").exit_code == 0
    size = db.stat().st_size
    with db.open("r+b") as handle:  # every block but the first quarter: the tables' data among them
        start = 12288 + (size - 12288) // 4
        handle.seek(start)
        handle.write(bytes(size - start))
    for args in (["ingest", str(tree)], ["scan"]):
        result = run(*args, "--db", str(db))
        assert result.exit_code == 3, result.output
        assert f"{db}: cannot read the database: Corrupt database file" in result.stderr, result.output


def test_spilled_data_goes_beside_the_database(tree, tmp_path):
    from ducktrail.engine.duckdb_store import open_for_scan

    db = tmp_path / "trail.duckdb"
    assert run("ingest", str(tree), "--db", str(db), "-q").exit_code == 0
    engine, _ = open_for_scan(str(db), threads=None, memory_limit=None)
    with engine:
        (folder,) = engine.con.execute("SELECT current_setting('temp_directory')").fetchone()
    assert folder == f"{db}.tmp"


def test_a_write_ahead_log_that_cannot_be_made_is_a_failure_to_write(tree, tmp_path, monkeypatch):
    db = tmp_path / "trail.duckdb"
    fail_statement(monkeypatch, "COMMIT", f'Failed to commit: Cannot open file "{db}.wal": Permission denied')
    result = run("ingest", str(tree), "--db", str(db))
    assert result.exit_code == 3, result.output
    assert f"{db}: cannot write the database: Failed to commit" in result.stderr, result.output


def test_a_database_that_cannot_be_written_is_named_with_the_reason(tree, tmp_path, monkeypatch):
    db = tmp_path / "trail.duckdb"
    fail_statement(monkeypatch, "COMMIT", f'Failed to commit: Could not write file "{db}.wal": No space left on device')
    result = run("ingest", str(tree), "--db", str(db))
    assert result.exit_code == 3, result.output
    assert f"{db}: cannot write the database: Failed to commit" in result.stderr, result.output
    assert "No space left on device" in result.stderr and "rollback" not in result.stderr, result.output
    # The database this run began is taken back: a partial file would fail every later run.
    assert not db.exists() and not Path(f"{db}.wal").exists()
    db.touch(mode=0o600)
    db.chmod(0o600)
    assert run("ingest", str(tree), "--db", str(db)).exit_code == 3
    assert db.stat().st_size == 0 and db.stat().st_mode & 0o777 == 0o600


def test_a_checkpoint_that_fails_at_the_end_of_an_ingest_is_reported(tree, tmp_path, monkeypatch):
    db = tmp_path / "trail.duckdb"
    fail_statement(monkeypatch, "CHECKPOINT store", f'Could not write file "{db}": No space left on device')
    result = run("ingest", str(tree), "--db", str(db))
    assert result.exit_code == 3 and f"{db}: cannot write the database: " in result.stderr, result.output
    assert "kept in its write-ahead log" in result.stderr, result.output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["scan", "--db", "{missing}"], 3, "no such database file"),
        (["scan", "--db", "{not_ducktrail}"], 3, "not a ducktrail database (no cloudtrail_events and no"),
        (["scan", "--db", "{foreign_events}"], 3, "not a ducktrail database (no ducktrail_ingested_files table"),
        (["ingest", "{tree}", "--db", "{foreign_events}"], 3, "holds a table cloudtrail_events that ducktrail"),
        (["scan", "--db", "{tree}"], 3, "is a folder, not a database file"),
        (["scan", "{tree}", "--db", "{missing}"], 2, "not both"),
        (["scan"], 2, "give PATH... to scan files, or --db FILE to scan a database"),
        (["scan", "--db", "{missing}", "--keep-going"], 2, "--source and --keep-going apply to files"),
        (["scan", "--db", "{missing}", "--source", "ecs"], 2, "--source and --keep-going apply to files"),
        (["scan", "--db", "{missing}", "--source", "cloudtrail"], 2, "--source and --keep-going apply to files"),
        (["ingest", "{tree}", "--db", ""], 2, "--db needs a database file, got ''"),
        (["ingest", "{tree}", "--db", ":memory:"], 2, "--db needs a database file, got ':memory:'"),
        (["ingest", "{tree}", "--db", "{missing}/"], 2, "(a folder's name)"),
        (["scan", "--db", "{missing}/"], 2, "(a folder's name)"),
        # Rebuilt by hand (CREATE TABLE ... AS drops the key), or given a column ingest cannot fill.
        (["ingest", "{tree}", "--db", "{files_without_key}"], 3, "has no primary key on path"),
        (["ingest", "{tree}", "--db", "{required_column}"], 3, "has a NOT NULL column ducktrail does not fill: note"),
        (["ingest", "{tree}", "--db", "{sqlite}"], 3, "not a valid DuckDB database file"),
        (["scan", "--db", "{sqlite}"], 3, "not a valid DuckDB database file"),
        # What the README's analyst commands leave in a database file opened in the shell.
        (["ingest", "{tree}", "--db", "{view}"], 3, "holds a view cloudtrail_events where ducktrail keeps a table"),
        (["scan", "--db", "{other_columns}"], 3, "its table cloudtrail_events lacks event_time, event_version"),
        (["ingest", "{tree}", "--db", "{other_columns}"], 3, "its table cloudtrail_events lacks event_time"),
        (["ingest", "{tree}", "--db", "{other_files_table}"], 3, "its table ducktrail_ingested_files lacks path"),
        # Ingested files listed without their events: ingest would take them as loaded.
        (["ingest", "{tree}", "--db", "{events_dropped}"], 3, "lists files but there is no cloudtrail_events"),
        (["scan", "--db", "{events_dropped}"], 3, "lists files but there is no cloudtrail_events"),
        (["scan", "--db", "{other_schema}"], 3, "not a ducktrail database (no cloudtrail_events and no"),
        # The right names with other types: made by another version, or by hand.
        (["scan", "--db", "{other_types}"], 3, "its table cloudtrail_events has event_time as VARCHAR, not TIMESTAMP"),
        (["ingest", "{tree}", "--db", "{other_types}"], 3, "has event_time as VARCHAR, not TIMESTAMP"),
        # DuckDB's names are case-insensitive: this table would take the events.
        (["ingest", "{tree}", "--db", "{mixed_case}"], 3, "holds a table cloudtrail_events that ducktrail did not"),
        # No extension download for a path DuckDB would read through one.
        (["ingest", "{tree}", "--db", "s3://bucket/trail.duckdb"], 3, "requires the extension httpfs to be loaded"),
    ],
)
def test_database_usage_and_input_errors(tree, tmp_path, args, code, message):
    import sqlite3

    import duckdb

    files_table = (
        "ducktrail_ingested_files (path VARCHAR, size BIGINT, mtime DOUBLE, events BIGINT, ingested_at TIMESTAMP)"
    )
    keyed_files_table = files_table.replace("path VARCHAR", "path VARCHAR PRIMARY KEY")
    varchar_columns = [(name, "VARCHAR") for name in EVENT_COLUMNS]
    made = {
        "not_ducktrail": ["CREATE TABLE t AS SELECT 1"],
        "foreign_events": ["CREATE TABLE cloudtrail_events (x INTEGER)"],
        "view": ["CREATE VIEW cloudtrail_events AS SELECT 1 AS x"],
        "other_columns": [
            "CREATE TABLE cloudtrail_events (source_file VARCHAR, x INTEGER)",
            f"CREATE TABLE {files_table}",
        ],
        "other_files_table": ["CREATE TABLE ducktrail_ingested_files (name VARCHAR, n INTEGER)"],
        "other_schema": [
            "CREATE SCHEMA s",
            "CREATE TABLE s.cloudtrail_events (x INTEGER)",
            f"CREATE TABLE s.{files_table}",
        ],
        "mixed_case": ['CREATE TABLE "CloudTrail_Events" (x INTEGER)'],
        "events_dropped": [
            f"CREATE TABLE {keyed_files_table}",
            "INSERT INTO ducktrail_ingested_files VALUES ('/x.json', 1, 1.0, 5, now())",
        ],
        "other_types": [
            f"CREATE TABLE cloudtrail_events ({', '.join(f'{name} {kind}' for name, kind in varchar_columns)})",
            f"CREATE TABLE {files_table}",
        ],
        "files_without_key": [
            f"CREATE TABLE cloudtrail_events ({', '.join(f'{name} {kind}' for name, kind in EVENT_COLUMNS.items())})",
            f"CREATE TABLE {files_table}",
        ],
        "required_column": [
            f"CREATE TABLE cloudtrail_events ({', '.join(f'{name} {kind}' for name, kind in EVENT_COLUMNS.items())},"
            " note VARCHAR NOT NULL)",
            f"CREATE TABLE {keyed_files_table}",
        ],
    }
    names = {"missing": tmp_path / "none.duckdb", "tree": tree, "sqlite": tmp_path / "made-by-sqlite.db"}
    sqlite3.connect(names["sqlite"]).execute("CREATE TABLE t (a)").connection.commit()
    for name, statements in made.items():
        names[name] = tmp_path / f"{name}.duckdb"
        with duckdb.connect(str(names[name])) as con:
            for statement in statements:
                con.execute(statement)
    before = {name: path.read_bytes() for name, path in names.items() if name in made}
    result = run(*[a.format(**names) for a in args])
    assert result.exit_code == code, result.output
    assert message in result.output
    # A database ducktrail cannot use is left as it was.
    assert {name: names[name].read_bytes() for name in before} == before


def test_the_schema_check_expects_the_columns_ingest_writes(tree, tmp_path):
    import duckdb

    db = tmp_path / "trail.duckdb"
    ingest([str(tree)], str(db))
    with duckdb.connect(str(db), read_only=True) as con:
        written = {
            table: dict(
                con.execute(
                    "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?", [table]
                ).fetchall()
            )
            for table in (EVENTS_TABLE, FILES_TABLE)
        }
    assert written == {EVENTS_TABLE: EVENT_COLUMNS, FILES_TABLE: FILES_COLUMNS | ADDED_FILES_COLUMNS}


def test_time_bounds_apply_to_database_scans(tree, tmp_path):
    db = str(tmp_path / "trail.duckdb")
    ingest([str(tree)], db)
    window = ["--since", "2026-11-01T01:05:00Z", "--until", "2026-11-01T01:11:00Z"]
    from_db = run("scan", "--db", db, "-f", "json", "-q", *window)
    from_files = run("scan", str(tree), "-f", "json", "-q", *window)
    assert from_db.exit_code == 0, from_db.output
    assert json.loads(from_db.stdout) == json.loads(from_files.stdout)
    assert [a["caller_account"] for a in json.loads(from_db.stdout)] == ["777788889999"]


def test_events_deleted_by_an_analyst_stay_deleted_and_are_not_counted(tree, tmp_path):
    import duckdb

    from ducktrail.scan import scan_database
    from tests.support import pack

    db = str(tmp_path / "trail.duckdb")
    first = ingest([str(tree)], db)
    with duckdb.connect(db) as con:
        con.execute("DELETE FROM cloudtrail_events WHERE event_source <> 'lambda.amazonaws.com'")
        (kept,) = con.execute("SELECT count(*) FROM cloudtrail_events").fetchone()
    assert 0 < kept < first.events_total

    again = ingest([str(tree)], db)
    scanned = scan_database(db, pack())

    assert (again.files_ingested, again.files_total, again.events_total) == (0, first.files_total, kept)
    assert (scanned.files_read, scanned.events_read) == (first.files_total, kept)


def stored_counts(db) -> tuple[int, int, int]:
    """(events stored, files listed, events the file list records)."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        (events,) = con.execute("SELECT count(*) FROM cloudtrail_events").fetchone()
        files, listed = con.execute(
            "SELECT count(*), coalesce(sum(events), 0) FROM ducktrail_ingested_files"
        ).fetchone()
    return events, files, listed


def invokes(prefix: str, count: int) -> list[dict]:
    return [invoke(event_id=f"{prefix}-{n}") for n in range(count)]


def test_files_recompressed_in_place_are_stored_again_with_a_warning(tmp_path):
    plain = write_trail_file(tmp_path / "logs" / "x.json", invokes("e", 4))
    db = tmp_path / "trail.duckdb"
    assert run("ingest", str(tmp_path / "logs"), "--db", str(db), "-q").exit_code == 0
    subprocess.run(["gzip", str(plain)], check=True)  # x.json -> x.json.gz, as `gzip -r` does
    result = run("ingest", str(tmp_path / "logs"), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert (
        f"warning: 1 new file has the name of a file stored from another path (first: {plain}.gz, stored as {plain})"
    ) in result.stderr, result.stderr
    assert stored_counts(db)[:2] == (8, 2)


def stored_by_link_path(db: Path, link: Path, real: Path) -> None:
    """Store a file under the path it was given by through a symlinked folder, as ducktrail did
    before it knew files by their real path."""
    import duckdb

    with duckdb.connect(str(db)) as con:
        for table, column in ((EVENTS_TABLE, "source_file"), (FILES_TABLE, "path")):
            con.execute(f"UPDATE {table} SET {column} = replace({column}, ?, ?)", [str(real), str(link)])


@pytest.mark.parametrize("given_by", ["link", "a"], ids=["given_by_the_link", "given_by_the_real_path"])
@pytest.mark.parametrize("readable", [True, False], ids=["file_unchanged", "file_unreadable_now"])
def test_a_file_stored_by_its_link_path_is_stored_once_by_its_real_path(tmp_path, readable, given_by):
    write_trail_file(tmp_path / "a" / "x.json", invokes("x", 3))
    write_trail_file(tmp_path / "a" / "y.json", invokes("y", 2))
    (tmp_path / "link").symlink_to(tmp_path / "a")
    db = tmp_path / "trail.duckdb"
    ingest([str(tmp_path / "a")], str(db))
    stored_by_link_path(db, tmp_path / "link", tmp_path / "a")
    if not readable:
        (tmp_path / "a" / "x.json").write_text("garbage")
    result = run("ingest", str(tmp_path / given_by), "--db", str(db), "--keep-going")
    assert result.exit_code == (0 if readable else 3), result.output
    # Each file's events once: under its real path once read again, under the old name while not.
    assert stored_counts(db) == (5, 2, 5)
    assert "stored from another path" not in result.stderr, result.stderr


def test_a_file_reached_through_a_symlink_is_stored_once(tmp_path):
    write_trail_file(tmp_path / "a" / "x.json", invokes("e", 5))
    (tmp_path / "link").symlink_to(tmp_path / "a")
    db = tmp_path / "trail.duckdb"
    ingest([str(tmp_path / "a" / "x.json")], str(db))
    again = ingest([str(tmp_path / "link" / "x.json")], str(db))
    assert (again.files_ingested, again.files_unchanged) == (0, 1)
    assert stored_counts(db) == (5, 1, 5)


@pytest.fixture
def hard_linked(tmp_path):
    """A database holding b/x.json, whose file is also a/x.json: a walk of both folders meets
    a/x.json first."""
    write_trail_file(tmp_path / "b" / "x.json", invokes("e", 5))
    os.makedirs(tmp_path / "a")
    os.link(tmp_path / "b" / "x.json", tmp_path / "a" / "x.json")
    db = tmp_path / "trail.duckdb"
    ingest([str(tmp_path / "b")], str(db))
    return db


def test_a_hard_linked_file_is_stored_once_whichever_of_its_names_a_run_reads(tmp_path, hard_linked):
    result = run("ingest", str(tmp_path), "--db", str(hard_linked))
    assert result.exit_code == 0, result.output
    assert stored_counts(hard_linked) == (5, 1, 5)
    assert "stored from another path" not in result.stderr, result.stderr


def test_a_hard_linked_file_emptied_loses_its_events_under_the_name_they_were_stored_by(tmp_path, hard_linked):
    (tmp_path / "b" / "x.json").write_bytes(b"")  # both names: one file
    again = ingest([str(tmp_path)], str(hard_linked))
    assert again.files_emptied == 1
    assert stored_counts(hard_linked)[0] == 0


def test_a_moved_tree_is_stored_again_with_a_warning(tree, tmp_path):
    db = tmp_path / "trail.duckdb"
    assert run("ingest", str(tree), "--db", str(db), "-q").exit_code == 0
    moved = tree.rename(tmp_path / "moved")
    unreadable = next(moved.rglob("*.json"))  # same name and size, but not stored: no warning for it
    unreadable.write_bytes(b"x" + unreadable.read_bytes()[1:])
    result = run("ingest", str(moved), "--db", str(db), "--keep-going")
    assert result.exit_code == 3, result.output
    assert "warning: 3 new files have the name of a file stored from another path" in result.stderr
    assert "if files were moved or recompressed, their events are now stored twice" in result.stderr, result.stderr
    assert stored_counts(db)[:2] == (17 + 17 - 2, 7)
    # Both trees given: two copies, stored as a scan of both would count them; nothing to warn of.
    unreadable.unlink()
    shutil.copytree(moved, tmp_path / "copy")
    again = run("ingest", str(moved), str(tmp_path / "copy"), "--db", str(db))
    assert again.exit_code == 0 and "warning" not in again.stderr, again.output


def test_a_file_with_glob_characters_in_its_name_stores_its_own_events(tmp_path):
    for folder, count in (("case [1]", 2), ("case 1", 5)):  # as a pattern, "case [1]" matches "case 1"
        write_trail_file(tmp_path / folder / "x.json", invokes(folder, count))
    report = ingest([str(tmp_path / "case [1]")], str(tmp_path / "trail.duckdb"))
    assert (report.files_ingested, report.events_ingested) == (1, 2)
    assert stored_counts(tmp_path / "trail.duckdb") == (2, 1, 2)


def test_a_stored_file_emptied_since_no_longer_contributes_events(tmp_path):
    write_trail_file(tmp_path / "logs" / "a.json", invokes("a", 5))
    write_trail_file(tmp_path / "logs" / "b.json", invokes("b", 3))
    db = tmp_path / "trail.duckdb"
    ingest([str(tmp_path / "logs")], str(db))
    (tmp_path / "logs" / "a.json").write_bytes(b"")
    report = ingest([str(tmp_path / "logs")], str(db))
    assert [(skipped.reason, report.files_unchanged) for skipped in report.skipped_files] == [("empty file", 1)]
    assert (report.files_emptied, report.files_total, report.events_total) == (1, 1, 3)
    assert stored_counts(db) == (3, 1, 3)
    assert ingest([str(tmp_path / "logs")], str(db)).files_emptied == 0  # no longer stored


def test_an_ingest_of_nothing_leaves_a_database_that_scan_db_reads(tmp_path):
    (tmp_path / "empty").mkdir()
    db = tmp_path / "trail.duckdb"
    assert run("ingest", str(tmp_path / "empty"), "--db", str(db), "-q").exit_code == 0
    result = run("scan", "--db", str(db), "-f", "json")
    assert (result.exit_code, json.loads(result.stdout)) == (0, []), result.output
    assert f"warning: {db} holds no events (load files into it with `ducktrail ingest`)" in result.stderr
    assert "no CloudTrail files found" not in result.stderr, result.output
    assert stored_counts(db) == (0, 0, 0)


@pytest.mark.parametrize(
    ("command", "limit", "code", "message"),
    [
        ("scan", "lots", 2, "DuckDB rejected --memory-limit 'lots'"),
        ("ingest", "lots", 2, "DuckDB rejected --memory-limit 'lots'"),
        ("scan", "1KB", 4, "DuckDB ran out of resources"),  # opening the database
        ("scan", "2MB", 4, "DuckDB ran out of resources"),  # the rule's query
    ],
)
def test_memory_limits_fail_as_settings_or_engine_errors_over_a_database(tree, tmp_path, command, limit, code, message):
    db = tmp_path / "trail.duckdb"
    assert run("ingest", str(tree), "--db", str(db), "-q").exit_code == 0
    paths = [str(tree)] if command == "ingest" else []
    result = run(command, *paths, "--db", str(db), "--memory-limit", limit)
    assert (result.exit_code, message in result.stderr) == (code, True), result.output


def test_a_query_interrupted_by_ctrl_c_exits_130_and_keeps_committed_batches(tree, tmp_path, monkeypatch):
    import ducktrail.ingest as ingest_module
    from ducktrail.engine.duckdb_store import Store

    monkeypatch.setattr(ingest_module, "BATCH_BYTES", 1)
    store_batch = Store.ingest
    batches = []

    def interrupted_second_batch(self, files, stamps, **options):
        batches.append(files)
        if len(batches) == 2:
            # What DuckDB's Python API raises when SIGINT reaches a running query.
            raise RuntimeError("Query interrupted")
        return store_batch(self, files, stamps, **options)

    monkeypatch.setattr(Store, "ingest", interrupted_second_batch)
    db = tmp_path / "trail.duckdb"
    result = run("ingest", str(tree), "--db", str(db), "-q")
    assert result.exit_code == 130, result.output
    assert "internal error" not in result.output, result.output
    events, files, listed = stored_counts(db)
    assert files == 1 and events == listed > 0


def test_ctrl_c_in_the_first_batch_says_so_and_leaves_a_database_that_scans(tree, tmp_path, monkeypatch, capsys):
    from ducktrail import cli
    from ducktrail.engine.duckdb_store import Store

    def interrupted(self, files, stamps, **options):
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "ingest", interrupted)
    db = tmp_path / "trail.duckdb"
    monkeypatch.setattr(sys, "argv", ["ducktrail", "ingest", str(tree), "--db", str(db), "-q"])
    assert cli.run_cli() == 130
    assert capsys.readouterr().err == "ducktrail: interrupted\n"
    result = run("scan", "--db", str(db), "-f", "json")
    assert result.exit_code == 0 and "holds no events" in result.stderr, result.output


def test_ingested_at_is_utc_whatever_the_machines_time_zone(tree, tmp_path):
    from datetime import UTC, datetime, timedelta

    import duckdb

    db = tmp_path / "trail.duckdb"
    command = [sys.executable, "-m", "ducktrail", "ingest", str(tree), "--db", str(db), "-q"]
    subprocess.run(command, check=True, env={**os.environ, "TZ": "America/New_York"}, timeout=120)
    with duckdb.connect(str(db), read_only=True) as con:
        (stamp,) = con.execute("SELECT max(ingested_at) FROM ducktrail_ingested_files").fetchone()
    assert abs(stamp - datetime.now(UTC).replace(tzinfo=None)) < timedelta(minutes=10), stamp


def test_an_empty_file_as_the_database_is_written_keeping_its_permissions(tree, tmp_path):
    db = tmp_path / "made-by-mktemp.duckdb"
    db.touch(mode=0o600)
    db.chmod(0o600)
    result = run("ingest", str(tree), "--db", str(db), "-q")
    assert result.exit_code == 0, result.output
    assert stored_counts(db)[1] == 4
    assert db.stat().st_mode & 0o777 == 0o600


def test_ingest_names_files_as_they_were_given_as_scan_does(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_trail_file(tmp_path / "logs" / "good.json", invokes("g", 2))
    write_trail_file(tmp_path / "logs" / "mixed.json", [*invokes("m", 1), {"foo": 1}])
    (tmp_path / "logs" / "other.json").write_text('{"foo": 1}')
    (tmp_path / "logs" / "broken.json").write_text("not json")
    result = run("ingest", "logs", "--db", "trail.duckdb", "--keep-going")
    assert result.exit_code == 3, result.output
    for message in (
        f"unreadable, skipped: {os.path.join('logs', 'broken.json')}:1: not valid JSON",
        f"unreadable, skipped: {os.path.join('logs', 'other.json')} (record 1): not CloudTrail JSON",
        f"warning: {os.path.join('logs', 'mixed.json')}: skipped 1 record",
    ):
        assert message in result.stderr, result.output
    stopped = run("ingest", os.path.join("logs", "broken.json"), "--db", "trail.duckdb")
    assert f"ducktrail: error: {os.path.join('logs', 'broken.json')}:1:" in stopped.stderr, stopped.output


def test_an_empty_database_file_behind_a_symlink_is_written_behind_it(tree, tmp_path):
    target = tmp_path / "target.duckdb"
    target.touch()
    link = tmp_path / "link.duckdb"
    link.symlink_to(target)
    result = run("ingest", str(tree), "--db", str(link), "-q")
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert stored_counts(target)[1] == 4


def test_an_empty_database_file_that_cannot_be_replaced_is_an_input_error(tree, tmp_path, monkeypatch):
    db = tmp_path / "empty.duckdb"
    db.touch()

    def refuse(path):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr("ducktrail.engine.duckdb_store.os.remove", refuse)
    result = run("ingest", str(tree), "--db", str(db))
    assert result.exit_code == 3, result.output
    assert f"ducktrail: error: {db}: cannot replace the empty file: Permission denied" in result.stderr, result.output


def test_a_database_another_process_reads_is_named_without_advice_to_open_it_read_only(tree, tmp_path):
    db = tmp_path / "trail.duckdb"
    assert run("ingest", str(tree), "--db", str(db)).exit_code == 0
    reader = "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); print(flush=True); sys.stdin.read()"
    holder = subprocess.Popen(
        [sys.executable, "-c", reader, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        holder.stdout.readline()  # the other process has the database open
        (tree / "later.json").write_text(json.dumps({"Records": [invoke()]}))
        result = run("ingest", str(tree), "--db", str(db))
        assert result.exit_code == 3, result.output
        assert f"{db}: cannot open the database: IO Error: Could not set lock" in result.stderr, result.output
        assert "read-only mode" not in result.stderr, result.output
    finally:
        holder.kill()
        holder.communicate()


def test_a_new_database_another_ingest_made_first_is_not_removed(tree, tmp_path, monkeypatch):
    # Two ingests into a new database start together: both see no file, the other creates and
    # locks it, and this one fails on the lock. It must not take the other's database for its own.
    db = tmp_path / "new.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print(flush=True); sys.stdin.read()",
            str(db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        holder.stdout.readline()  # the other process has the database open
        real_exists = os.path.exists
        monkeypatch.setattr(
            "ducktrail.engine.duckdb_store.os.path.exists", lambda p: False if p == str(db) else real_exists(p)
        )
        result = run("ingest", str(tree), "--db", str(db))
        assert result.exit_code == 3, result.output
        assert "cannot open the database" in result.stderr, result.output
        assert db.exists()
    finally:
        holder.communicate("", timeout=60)


@pytest.mark.parametrize("command", ["scan", "ingest"])
def test_ctrl_c_while_the_database_opens_exits_130(tree, tmp_path, monkeypatch, command):
    # DuckDB reports a query Ctrl-C stopped as an error of its own; opening the database must
    # not take it for a database it cannot read.
    db = tmp_path / "trail.duckdb"
    assert run("ingest", str(tree), "--db", str(db), "-q").exit_code == 0

    def interrupted(*args, **kwargs):
        raise RuntimeError("Query interrupted")

    monkeypatch.setattr("ducktrail.engine.duckdb_store.schema_problem", interrupted)
    result = run(command, *([str(tree)] if command == "ingest" else []), "--db", str(db))
    assert result.exit_code == 130, result.output


@pytest.mark.parametrize("keep_going", [False, True])
def test_a_file_deleted_after_the_listing_is_named_not_a_crash(tmp_path, monkeypatch, keep_going):
    from ducktrail import ingest as ingest_module

    kept = write_trail_file(tmp_path / "logs" / "kept.json", [invoke(event_id="k")])
    gone = write_trail_file(tmp_path / "logs" / "gone.json", [invoke(event_id="g")])
    listed = ingest_module.discover

    def listing_then_deleting(*args, **kwargs):
        found = listed(*args, **kwargs)
        gone.unlink()  # a retention job running during the ingest
        return found

    monkeypatch.setattr(ingest_module, "discover", listing_then_deleting)
    database = str(tmp_path / "trail.duckdb")
    if not keep_going:
        with pytest.raises(InputError, match="no longer a file") as raised:
            ingest([str(tmp_path / "logs")], database)
        assert raised.value.path == str(gone)
        return
    report = ingest([str(tmp_path / "logs")], database, keep_going=True)
    assert [(problem.path, problem.message) for problem in report.unreadable] == [
        (str(gone), "no longer a file: removed or replaced while ducktrail ran?")
    ]
    assert (report.files_ingested, report.events_total) == (1, 1), kept


def test_a_folder_named_tilde_holds_the_database_not_the_home_folder(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "~").mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    events = write_trail_file(tmp_path / "a.json", [invoke()])
    assert ingest([str(events)], "~/trail.duckdb").events_total == 1
    assert (tmp_path / "~" / "trail.duckdb").is_file() and list(home.iterdir()) == []
    result = run("scan", "--db", "~/trail.duckdb", "-f", "json")
    assert result.exit_code == 0 and len(json.loads(result.stdout)) == 1, result.output


def test_a_database_path_under_a_missing_tilde_folder_says_what_the_shell_did(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("scan", "--db=~/trail.duckdb")
    assert result.exit_code == 3, result.output
    assert (
        "there is no folder ~ here: the shell makes ~ the home folder only at the start of a word" in result.stderr
    ), result.output


def test_a_database_path_under_a_file_is_input_that_cannot_be_opened(tree, tmp_path):
    # Taking back the database it could not create once failed on the path too (ENOTDIR; EROFS on
    # a read-only file system), and that error hid the open's as an internal error.
    not_a_folder = tmp_path / "events.json"
    not_a_folder.write_text("{}")
    db = not_a_folder / "trail.duckdb"
    result = run("ingest", str(tree), "--db", str(db))
    assert result.exit_code == 3, result.output
    assert f"{db}: cannot open the database" in result.stderr and "internal error" not in result.stderr, result.output


def test_a_new_database_that_cannot_be_removed_again_does_not_hide_the_error(tree, tmp_path, monkeypatch):
    import errno

    db = tmp_path / "trail.duckdb"
    fail_statement(monkeypatch, "COMMIT", f'Failed to commit: Could not write file "{db}.wal": Read-only file system')
    remove = os.remove

    def read_only(path, *args, **kwargs):
        if os.path.basename(path).startswith(db.name):
            raise OSError(errno.EROFS, "Read-only file system", path)
        return remove(path, *args, **kwargs)

    monkeypatch.setattr(os, "remove", read_only)
    result = run("ingest", str(tree), "--db", str(db))
    assert result.exit_code == 3, result.output
    assert f"{db}: cannot write the database: Failed to commit" in result.stderr, result.output
    assert "internal error" not in result.stderr, result.output


def test_an_empty_file_that_cannot_be_made_again_does_not_hide_the_error(tree, tmp_path, monkeypatch):
    import errno

    from ducktrail.engine import duckdb_store

    db = tmp_path / "trail.duckdb"
    db.touch(mode=0o600)
    fail_statement(monkeypatch, "COMMIT", f'Failed to commit: Could not write file "{db}.wal": No space left on device')

    def no_space(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", path)

    # The module's only open(): re-making the empty file it had replaced.
    monkeypatch.setattr(duckdb_store, "open", no_space, raising=False)
    result = run("ingest", str(tree), "--db", str(db))
    assert result.exit_code == 3, result.output
    assert f"{db}: cannot write the database: Failed to commit" in result.stderr, result.output
    assert "the empty file ingest had replaced could not be made again: No space left on device" in result.stderr
    assert "internal error" not in result.stderr, result.output


def test_an_empty_files_table_without_events_is_a_database_to_ingest_into(tree, tmp_path):
    import duckdb

    db = tmp_path / "trail.duckdb"
    with duckdb.connect(str(db)) as con:
        columns = ", ".join(f"{name} {kind}" for name, kind in FILES_COLUMNS.items())
        con.execute(f"CREATE TABLE {FILES_TABLE} ({columns}, PRIMARY KEY (path))")
    scanned = run("scan", "--db", str(db))
    assert scanned.exit_code == 3 and "no cloudtrail_events table; make one with `ducktrail ingest`" in scanned.stderr
    assert ingest([str(tree)], str(db)).events_total == 17


def pack_with_adapter(tmp_path, edit) -> dict[str, str]:
    """The environment selecting a copy of the SQL pack whose CloudTrail adapter `edit` rewrote."""
    from ducktrail.sqlfiles import sql_root

    pack = tmp_path / "sql"
    shutil.copytree(sql_root(), pack)
    adapter = pack / "sources" / "duckdb" / "cloudtrail.sql"
    adapter.write_text(edit(adapter.read_text()))
    return {"DUCKTRAIL_SQL_DIR": str(pack)}


@pytest.fixture
def changed_adapter(tmp_path):
    """An adapter that shapes one column differently: regions in capitals."""

    def capitals(text: str) -> str:
        assert text.count("ducktrail_present(r.awsRegion) AS aws_region") == 1
        return text.replace("ducktrail_present(r.awsRegion) AS", "upper(ducktrail_present(r.awsRegion)) AS")

    return pack_with_adapter(tmp_path, capitals)


def test_an_adapter_whose_comments_and_layout_alone_changed_reloads_nothing(tree, tmp_path):
    def recommented(text: str) -> str:
        text = text.replace("-- ", "--  ").replace("\n    ", "\n      ")
        return "-- a note of our own\n" + text.replace(
            "ducktrail_present(r.awsRegion) AS", "/* here */ ducktrail_present(\n r.awsRegion) AS"
        )

    db = tmp_path / "trail.duckdb"
    assert ingest([str(tree)], str(db)).files_ingested == 4
    env = pack_with_adapter(tmp_path, recommented)
    scanned = CliRunner().invoke(app, ["scan", "--db", str(db)], env=env)
    assert scanned.exit_code == 0 and "warning" not in scanned.stderr, scanned.output
    again = CliRunner().invoke(app, ["ingest", str(tree), "--db", str(db)], env=env)
    assert "0 files ingested (0 events), 4 unchanged" in again.stderr, again.output


def regions(db) -> set[str]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        return {region for (region,) in con.execute(f"SELECT DISTINCT aws_region FROM {EVENTS_TABLE}").fetchall()}


def test_another_adapter_reloads_unchanged_files_and_scans_warn_until_then(tree, tmp_path, changed_adapter):
    db = tmp_path / "trail.duckdb"
    assert run("ingest", str(tree), "--db", str(db), "-q").exit_code == 0
    assert "us-east-1" in regions(db)
    quiet = run("scan", "--db", str(db))
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr, quiet.output

    stale = CliRunner().invoke(app, ["scan", "--db", str(db)], env=changed_adapter)
    assert stale.exit_code == 0, stale.output
    assert (
        f"ducktrail: warning: {db}: 4 of 4 files were loaded by another version of the source adapter, so the alerts"
        " may differ from a scan of the files; run `ducktrail ingest` over them again (with --source ecs for"
        " Elastic exports) to reload them" in stale.stderr
    ), stale.output

    changed = next(tree.rglob("*.json"))
    changed.write_text(changed.read_text() + "\n")  # changed too: ingested, but not "reloaded"
    reloaded = CliRunner().invoke(app, ["ingest", str(tree), "--db", str(db)], env=changed_adapter)
    assert reloaded.exit_code == 0, reloaded.output
    assert "4 files ingested (17 events; 3 reloaded for this version of the source adapter), 0 unchanged" in (
        reloaded.stderr
    ), reloaded.output
    assert "US-EAST-1" in regions(db) and "us-east-1" not in regions(db)
    fresh = CliRunner().invoke(app, ["scan", "--db", str(db)], env=changed_adapter)
    assert fresh.exit_code == 0 and "warning" not in fresh.stderr, fresh.output
    again = CliRunner().invoke(app, ["ingest", str(tree), "--db", str(db)], env=changed_adapter)
    assert "0 files ingested (0 events), 4 unchanged" in again.stderr, again.output


def test_a_database_made_before_ingest_recorded_the_adapter_is_brought_up_to_date(tree, tmp_path):
    import duckdb

    db = tmp_path / "trail.duckdb"
    assert run("ingest", str(tree), "--db", str(db), "-q").exit_code == 0
    with duckdb.connect(str(db)) as con:
        con.execute(f"ALTER TABLE {FILES_TABLE} DROP COLUMN adapter_sha256")
    stale = run("scan", "--db", str(db))
    assert stale.exit_code == 0, stale.output
    assert f"ducktrail: warning: {db}: 4 of 4 files were loaded by another version" in stale.stderr, stale.output
    # Ingest adds the column, empty: files it is not given now stay of an unknown adapter.
    files = sorted(str(path) for path in tree.rglob("*.json*") if "CloudTrail" in path.parts)
    assert len(files) == 4
    assert ingest(files[:3], str(db)).files_reloaded == 3
    partly = run("scan", "--db", str(db))
    assert f"ducktrail: warning: {db}: 1 of 4 files was loaded by another version" in partly.stderr, partly.output
    reloaded = ingest([str(tree)], str(db))
    assert (reloaded.files_ingested, reloaded.files_reloaded, reloaded.events_total) == (1, 1, 17)
    fresh = run("scan", "--db", str(db))
    assert fresh.exit_code == 0 and "warning" not in fresh.stderr, fresh.output


def test_a_reloaded_file_that_cannot_be_read_now_is_not_counted_as_reloaded(tree, tmp_path, changed_adapter):
    db = tmp_path / "trail.duckdb"
    assert ingest([str(tree)], str(db)).files_ingested == 4
    broken = sorted(tree.rglob("*.json.gz"))[0]
    stamp = broken.stat()
    broken.write_bytes(b"\x1f\x8b" + b"\0" * (stamp.st_size - 2))  # same size and time, unreadable now
    os.utime(broken, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    result = CliRunner().invoke(app, ["ingest", str(tree), "--db", str(db), "--keep-going"], env=changed_adapter)
    assert result.exit_code == 3, result.output
    assert "3 files ingested (" in result.stderr and "; 3 reloaded for this version" in result.stderr, result.output
    assert "1 file unreadable" in result.stderr, result.output


def test_columns_an_analyst_added_to_either_table_are_kept_and_left_empty(tree, tmp_path):
    import duckdb

    db = tmp_path / "trail.duckdb"
    first = next(tree.rglob("*.json.gz"))
    assert ingest([str(first)], str(db)).files_ingested == 1
    with duckdb.connect(str(db)) as con:
        con.execute(f"ALTER TABLE {FILES_TABLE} ADD COLUMN reviewed_by VARCHAR")
        con.execute(f"ALTER TABLE {EVENTS_TABLE} ADD COLUMN triage_note VARCHAR")
    report = ingest([str(tree)], str(db))
    assert (report.files_ingested, report.files_unchanged, report.events_total) == (3, 1, 17)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(f"SELECT count(reviewed_by) FROM {FILES_TABLE}").fetchone() == (0,)
        assert con.execute(f"SELECT count(triage_note) FROM {EVENTS_TABLE}").fetchone() == (0,)


def test_files_either_source_loaded_stay_as_loaded_when_ingested_with_the_other(tree, tmp_path):
    from tests import elastic_oracle
    from tests.support import write_ndjson

    events = json.loads((FIXTURES / "cases" / "cross_account_invoke_alerts" / "events.json").read_text())["Records"]
    write_ndjson(tree / "export.ndjson", [elastic_oracle.ecs_document(e) for e in events])
    db = tmp_path / "trail.duckdb"
    as_ecs = run("ingest", str(tree / "export.ndjson"), "--db", str(db), "--source", "ecs")
    assert as_ecs.exit_code == 0, as_ecs.output
    # The export's documents are not CloudTrail's own events: read with the default source they
    # would be refused, or replace what the ECS adapter stored.
    tree_as_cloudtrail = run("ingest", str(tree), "--db", str(db))
    assert tree_as_cloudtrail.exit_code == 0, tree_as_cloudtrail.output
    assert "4 files ingested (17 events), 1 unchanged" in tree_as_cloudtrail.stderr, tree_as_cloudtrail.output
    scanned = run("scan", "--db", str(db))
    assert scanned.exit_code == 0 and "warning" not in scanned.stderr, scanned.output
    assert f"{db} holds 5 files, {17 + len(events)} events" in scanned.stderr, scanned.output


def test_an_adapter_column_of_another_type_is_refused_by_name(tree, tmp_path):
    import duckdb

    db = tmp_path / "trail.duckdb"
    assert ingest([str(tree)], str(db)).files_ingested == 4
    with duckdb.connect(str(db)) as con:
        con.execute(f"ALTER TABLE {FILES_TABLE} DROP COLUMN adapter_sha256")
        con.execute(f"ALTER TABLE {FILES_TABLE} ADD COLUMN adapter_sha256 INTEGER")
    for command in (["scan", "--db", str(db)], ["ingest", str(tree), "--db", str(db)]):
        result = run(*command)
        assert result.exit_code == 3, result.output
        assert f"its table {FILES_TABLE} has adapter_sha256 as INTEGER, not VARCHAR" in result.stderr, result.output


def test_a_file_beside_the_adapters_that_is_not_text_is_no_adapter(tree, tmp_path):
    db = tmp_path / "trail.duckdb"
    assert ingest([str(tree)], str(db)).files_ingested == 4
    env = pack_with_adapter(tmp_path, lambda text: text)
    (tmp_path / "sql" / "sources" / "duckdb" / "notes.sql").write_bytes(b"-- caf\xe9\n")
    (tmp_path / "sql" / "sources" / "duckdb" / "gone.sql").symlink_to(tmp_path / "nowhere.sql")
    scanned = CliRunner().invoke(app, ["scan", "--db", str(db)], env=env)
    assert scanned.exit_code == 0 and "warning" not in scanned.stderr, scanned.output
    again = CliRunner().invoke(app, ["ingest", str(tree), "--db", str(db)], env=env)
    assert again.exit_code == 0 and "4 unchanged" in again.stderr, again.output


def test_the_adapter_column_made_not_null_is_still_filled_by_ingest(tree, tmp_path):
    import duckdb

    db = tmp_path / "trail.duckdb"
    assert ingest([str(next(tree.rglob("*.json")))], str(db)).files_ingested == 1
    with duckdb.connect(str(db)) as con:
        con.execute(f"ALTER TABLE {FILES_TABLE} ALTER COLUMN adapter_sha256 SET NOT NULL")
    report = ingest([str(tree)], str(db))
    assert (report.files_ingested, report.files_unchanged, report.events_total) == (3, 1, 17)
