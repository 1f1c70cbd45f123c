"""The CLI end to end through CliRunner: formats, summary, and every exit code."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ducktrail.cli import app
from tests.support import (
    ALERT_KEYS,
    FIXTURES,
    REPO,
    RULE_ID,
    invoke,
    newest_sql,
    newest_version,
    write_ndjson,
    write_trail_file,
)

SAMPLE = str(FIXTURES / "AWSLogs")
EXPECTED = json.loads((FIXTURES / "AWSLogs.expected.json").read_text())["alerts"]
# The version a scan runs, and the next one, which tests write as a draft.
NEWEST = newest_version()
DRAFT = NEWEST + 1
REQUIRED_KEYS = {"rule_id", "rule_name", "rule_version", "severity", "risk_score", *ALERT_KEYS}


def run(*args, env=None):
    result = CliRunner().invoke(app, list(args), env=env)
    assert "Traceback" not in result.output, result.output
    return result


def test_scan_json_prints_the_expected_alerts_with_every_required_key():
    result = run("scan", SAMPLE, "--format", "json")
    assert result.exit_code == 0, result.output
    alerts = json.loads(result.stdout)
    assert [{k: a[k] for k in ALERT_KEYS} for a in alerts] == EXPECTED
    for alert in alerts:
        assert alert.keys() >= REQUIRED_KEYS, result.stdout
        assert alert["rule_id"] == RULE_ID and alert["rule_version"] == NEWEST
        assert alert["severity"] == "medium" and alert["risk_score"] == 47


def test_scan_prints_a_one_line_summary_on_stderr():
    result = run("scan", SAMPLE, "--format", "json")
    summary = [line for line in result.stderr.splitlines() if line.startswith("ducktrail:")]
    assert summary == [
        "ducktrail: 4 files read, 17 events, 1 file skipped (1 CloudTrail-Digest file), 3 alerts from 1 rule"
    ], result.stderr


def test_quiet_drops_the_summary():
    result = run("scan", SAMPLE, "--format", "json", "--quiet")
    assert result.exit_code == 0 and result.stderr == "", result.output


def test_table_names_the_rule_and_each_principal():
    result = run("scan", SAMPLE)
    assert result.exit_code == 0, result.output
    assert f"{RULE_ID} v{NEWEST}" in result.stdout
    assert "3 alerts" in result.stdout
    for alert in EXPECTED:
        assert alert["caller_account"] in result.stdout, result.stdout


def test_table_shows_at_most_rows_alerts_per_rule_and_says_how_many_more():
    result = run("scan", SAMPLE, "--rows", "1")
    assert result.exit_code == 0, result.output
    assert "3 alerts" in result.stdout, result.stdout
    assert table_rows(result.stdout) == 1, result.stdout
    assert "2 more alerts not shown: --rows 0 shows all" in result.stdout, result.stdout


def test_table_with_rows_0_shows_every_alert():
    result = run("scan", SAMPLE, "--rows", "0")
    assert table_rows(result.stdout) == len(EXPECTED), result.stdout
    assert "not shown" not in result.stdout, result.stdout


def table_rows(table: str) -> int:
    """Alert rows: each starts with its principal's ARN in the first column."""
    return sum(line.startswith("│ arn:") for line in table.splitlines())


def test_rows_only_limit_the_table():
    result = run("scan", SAMPLE, "--rows", "1", "-f", "ndjson")
    assert len(result.stdout.strip().splitlines()) == len(EXPECTED), result.stdout


def test_negative_rows_is_a_usage_error():
    result = run("scan", SAMPLE, "--rows", "-1")
    assert result.exit_code == 2, result.output


def test_ndjson_is_one_alert_per_line():
    result = run("scan", SAMPLE, "-f", "ndjson")
    lines = result.stdout.strip().splitlines()
    assert [json.loads(line)["user_identity_arn"] for line in lines] == [a["user_identity_arn"] for a in EXPECTED]


def test_csv_has_a_header_and_json_lists():
    result = run("scan", SAMPLE, "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == len(EXPECTED), result.stdout
    assert json.loads(rows[0]["function_arns"]) == EXPECTED[0]["function_arns"]
    assert rows[0]["invocation_count"] == str(EXPECTED[0]["invocation_count"])


def test_csv_writes_objects_and_booleans_as_json_does():
    from ducktrail.report.formats import render_csv

    assert render_csv(['{"m": {"k": "é"}, "b": false}']) == 'm,b\n"{""k"": ""é""}",false'


def test_no_alerts_is_a_clean_run():
    quiet = FIXTURES / "cases" / "same_account_invoke_is_quiet" / "events.json"
    result = run("scan", str(quiet), "--fail-on-alerts", "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_alerts_exit_0_without_fail_on_alerts_and_1_with_it():
    assert run("scan", SAMPLE, "-q").exit_code == 0
    result = run("scan", SAMPLE, "-q", "--fail-on-alerts")
    assert result.exit_code == 1, result.output


def test_rule_filter_accepts_id_upstream_id_and_version():
    for name in (RULE_ID, "49002bbe-7aea-4146-91eb-b2b683bf5ed5", f"{RULE_ID}@1"):
        result = run("scan", SAMPLE, "-f", "json", "--rule", name)
        assert result.exit_code == 0, result.output
        assert len(json.loads(result.stdout)) == len(EXPECTED)


@pytest.mark.parametrize(
    "args",
    [
        ["scan", SAMPLE, "--format", "xml"],
        ["scan", SAMPLE, "--rule", "no-such-rule"],
        ["scan", SAMPLE, "--rule", f"{RULE_ID}@9"],
        ["scan", SAMPLE, "--rule", f"{RULE_ID}@"],
        ["scan", SAMPLE, "--rule", f"{RULE_ID}@\u0661"],  # an Arabic-Indic 1, which int() would take
        ["scan", SAMPLE, "--source", "../../sources/duckdb/cloudtrail"],
        ["transpile", RULE_ID, "-d", "snowflake", "--source", "../cloudtrail"],
        ["scan", SAMPLE, "--since", "yesterday"],
        ["scan", SAMPLE, "--since", "2026-11-02", "--until", "2026-11-01"],
        ["scan", SAMPLE, "--since", "0001-01-01T00:00:00+01:00"],
        ["scan", SAMPLE, "--until", "9999-12-31T23:30:00-01:00"],
        ["scan", SAMPLE, "--threads", "0"],
        ["scan", SAMPLE, "--threads", "100000"],
        ["scan", SAMPLE, "--memory-limit", "lots"],
        ["scan", SAMPLE, "--memory-limit", "-5GB"],
        ["scan"],
        ["frobnicate"],
        ["show", "no-such-rule"],
    ],
    ids=lambda args: " ".join(args[:1] + args[2:]),
)
def test_usage_errors_exit_2(args):
    result = run(*args)
    assert result.exit_code == 2, result.output


def test_since_and_until_bound_the_events():
    result = run("scan", SAMPLE, "-f", "json", "--since", "2026-11-01T01:05:00Z", "--until", "2026-11-01T01:11:00Z")
    assert result.exit_code == 0, result.output
    assert [a["caller_account"] for a in json.loads(result.stdout)] == ["777788889999"]


def test_a_window_warns_of_the_events_it_left_out_for_want_of_a_time(tmp_path):
    events = [invoke(time="yesterday", event_id="u1"), invoke(time="", event_id="u2"), invoke(event_id="t1")]
    path = write_trail_file(tmp_path / "a.json", events)
    result = run("scan", str(path), "-f", "json", "--since", "2026-11-01")
    assert result.exit_code == 0, result.output
    assert [a["invocation_count"] for a in json.loads(result.stdout)] == [1], result.output
    assert (
        "ducktrail: warning: --since/--until left out 2 events that have no readable eventTime"
        f" (in 1 file; first: {path}); scan without --since/--until to include them"
    ) in result.stderr, result.stderr
    assert ", 2 events without a readable eventTime left out by the window, 1 alert" in result.stderr, result.stderr
    without_window = run("scan", str(path), "-f", "json")
    assert "eventTime" not in without_window.stderr, without_window.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full, whose writes fail")
@pytest.mark.parametrize("command", [["scan", SAMPLE, "-f", "json"], ["list"], ["--version"]])
def test_output_that_cannot_be_written_exits_3_saying_so(command):
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "ducktrail", *command], stdout=full, stderr=subprocess.PIPE, text=True, check=False
        )
    assert result.returncode == 3, result.stderr
    assert "ducktrail: error: cannot write the output: No space left on device" in result.stderr, result.stderr
    assert "internal error" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("command", "code"),
    [(["scan", SAMPLE, "-f", "json"], 0), (["scan", SAMPLE, "-f", "json", "--fail-on-alerts"], 1), (["ingest"], 0)],
    ids=["scan", "scan_failing_on_alerts", "ingest"],
)
def test_a_closed_stderr_only_loses_the_lines_for_it(tmp_path, command, code):
    if command == ["ingest"]:
        command = ["ingest", SAMPLE, "--db", str(tmp_path / "trail.duckdb")]
    result = subprocess.run(
        [sys.executable, "-m", "ducktrail", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        check=False,
        preexec_fn=lambda: os.close(2),
    )
    assert result.returncode == code, result.stdout
    if command[0] == "scan":
        assert len(json.loads(result.stdout)) == 3, result.stdout
    else:
        assert (tmp_path / "trail.duckdb").exists()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full, whose writes fail")
def test_a_usage_error_that_cannot_be_printed_still_exits_2():
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "ducktrail", "scan", "--bogus"], stderr=full, check=False)
    assert result.returncode == 2


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full, whose writes fail")
@pytest.mark.parametrize("extra", [[], ["--fail-on-alerts"]], ids=["plain", "failing_on_alerts"])
def test_a_stderr_that_cannot_be_written_keeps_the_alerts_and_exits_3(extra):
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "ducktrail", "scan", SAMPLE, "-f", "json", *extra],
            stdout=subprocess.PIPE,
            stderr=full,
            text=True,
            check=False,
        )
    assert result.returncode == 3, result.stdout
    assert len(json.loads(result.stdout)) == 3, result.stdout


def test_missing_path_exits_3_naming_it(tmp_path):
    missing = tmp_path / "nope"
    result = run("scan", str(missing))
    assert result.exit_code == 3, result.output
    assert f"ducktrail: error: {missing}: no such file or directory" in result.stderr


def test_corrupt_gzip_exits_3_naming_the_file(tmp_path):
    bad = tmp_path / "AWSLogs" / "bad.json.gz"
    bad.parent.mkdir()
    bad.write_bytes(gzip.compress(b'{"Records": []}')[:-12] + b"garbage!")
    result = run("scan", str(tmp_path))
    assert result.exit_code == 3, result.output
    assert str(bad) in result.stderr and "gzip" in result.stderr


def test_file_that_is_not_cloudtrail_exits_3(tmp_path):
    other = tmp_path / "config.json"
    other.write_text('{"Version": "2012-10-17", "Statement": []}')
    result = run("scan", str(other))
    assert result.exit_code == 3, result.output
    assert f"{other} (record 1): not CloudTrail JSON" in result.stderr


def test_keep_going_scans_the_rest_lists_the_bad_file_and_exits_3(tmp_path):
    shutil.copytree(FIXTURES / "AWSLogs", tmp_path / "AWSLogs")
    bad = tmp_path / "AWSLogs" / "broken.json"
    bad.write_text("{not json")
    result = run("scan", str(tmp_path / "AWSLogs"), "-f", "json", "--keep-going")
    assert result.exit_code == 3, result.output
    assert len(json.loads(result.stdout)) == len(EXPECTED)
    assert f"unreadable, skipped: {bad}" in result.stderr
    assert "1 file unreadable" in result.stderr


def test_records_that_are_not_events_are_counted_and_named(tmp_path):
    mixed = tmp_path / "mixed.json"
    write_trail_file(mixed, [invoke(), {"note": "not an event"}])
    result = run("scan", str(mixed), "-f", "json")
    assert result.exit_code == 0, result.output
    assert f"{mixed}: skipped 1 record that is not a CloudTrail event (first: record 2)" in result.stderr
    assert "1 record skipped (not CloudTrail events)" in result.stderr


def copy_pack(tmp_path):
    from ducktrail.sqlfiles import sql_root

    target = tmp_path / "sql"
    shutil.copytree(sql_root(), target)
    return target


def test_changed_released_sql_exits_4(tmp_path):
    pack = copy_pack(tmp_path)
    released = pack / "rules" / RULE_ID / "v1.sql"
    released.write_text(released.read_text().replace("'Invoke%'", "'Invoke%' OR TRUE"))
    result = run("scan", SAMPLE, env={"DUCKTRAIL_SQL_DIR": str(pack)})
    assert result.exit_code == 4, result.output
    assert f"{released}: released SQL changed" in result.stderr


def test_invalid_metadata_exits_4_with_file_and_line(tmp_path):
    pack = copy_pack(tmp_path)
    metadata = pack / "rules" / RULE_ID / "rule.toml"
    metadata.write_text(metadata.read_text().replace('severity = "medium"', 'severity = "urgent"'))
    result = run("list", env={"DUCKTRAIL_SQL_DIR": str(pack)})
    assert result.exit_code == 4, result.output
    line = metadata.read_text().splitlines().index('severity = "urgent"') + 1
    assert f"{metadata}:{line}: severity: expected low | medium | high | critical, got 'urgent'" in result.stderr


def test_lock_check_fails_on_an_unlocked_draft_and_lock_releases_it(tmp_path):
    pack = copy_pack(tmp_path)
    rule_dir = pack / "rules" / RULE_ID
    (rule_dir / f"v{DRAFT}.sql").write_text(newest_sql() + "\n-- tuned\n")
    metadata = rule_dir / "rule.toml"
    metadata.write_text(metadata.read_text().replace(f"version = {NEWEST}\n", f"version = {DRAFT}\n", 1))
    env = {"DUCKTRAIL_SQL_DIR": str(pack)}
    check = run("lock", "--check", env=env)
    assert check.exit_code == 4 and f"version {DRAFT} is not in the lock file" in check.stderr, check.output
    assert run("lock", env=env).exit_code == 0
    assert run("lock", "--check", env=env).exit_code == 0
    locked = json.loads((pack / "rules" / "rules.lock.json").read_text())[RULE_ID]
    assert set(locked) == {str(n) for n in range(1, DRAFT + 1)}


def test_a_missing_lock_file_is_restored_not_started_again(tmp_path):
    pack = copy_pack(tmp_path)
    lock_file = pack / "rules" / "rules.lock.json"
    lock_file.unlink()
    released = pack / "rules" / RULE_ID / "v1.sql"
    released.write_text(released.read_text() + "-- changed while the lock file was away\n")
    env = {"DUCKTRAIL_SQL_DIR": str(pack)}
    scanned = run("scan", SAMPLE, "-q", env=env)
    assert scanned.exit_code == 0, scanned.output
    assert f"warning: {lock_file}: no lock file, so no rule version is released" in scanned.stderr, scanned.output
    for args in (["lock"], ["lock", "--check"]):
        result = run(*args, env=env)
        assert result.exit_code == 4, result.output
        assert f"{lock_file}: no lock file; restore it from version control" in result.stderr, result.output
        assert not lock_file.exists()
    started = run("lock", "--new", env=env)
    assert started.exit_code == 0 and f"locked {RULE_ID} version 1" in started.stdout, started.output


def test_lock_does_not_release_again_a_version_whose_entry_was_removed(tmp_path):
    pack = copy_pack(tmp_path)
    lock_file = pack / "rules" / "rules.lock.json"
    lock = json.loads(lock_file.read_text())
    del lock[RULE_ID]["1"]
    lock_file.write_text(json.dumps(lock))
    result = run("lock", env={"DUCKTRAIL_SQL_DIR": str(pack)})
    assert result.exit_code == 4, result.output
    assert f"version 1 of {RULE_ID} is not in the lock file, though version {NEWEST} is released" in result.stderr
    assert json.loads(lock_file.read_text()) == lock


def test_lock_reports_a_drafts_sql_beside_another_rules_metadata(tmp_path):
    env, draft = draft_pack(tmp_path, "DELETE FROM cloudtrail_events")
    other = tmp_path / "sql" / "rules" / "other-rule"
    shutil.copytree(tmp_path / "sql" / "rules" / RULE_ID, other)
    metadata = other / "rule.toml"
    metadata.write_text(metadata.read_text().replace(f'id = "{RULE_ID}"', 'id = "other-rule"').replace("medium", "meh"))
    for args in (["lock"], ["lock", "--check"]):
        result = run(*args, env=env)
        assert result.exit_code == 4, result.output
        assert f"{draft}: rule SQL is a Delete, not a SELECT" in result.stderr, result.output
        assert f"{metadata}:" in result.stderr and "severity: expected" in result.stderr, result.output


@pytest.mark.parametrize(
    ("file", "text"),
    [("rules.lock.json", "[" * 100_000), (f"{RULE_ID}/rule.toml", "x = " + "[" * 100_000)],
    ids=["lock_file", "rule_metadata"],
)
def test_files_nested_too_deeply_are_pack_errors_naming_them(tmp_path, file, text):
    pack = copy_pack(tmp_path)
    (pack / "rules" / file).write_text(text)
    result = run("list", env={"DUCKTRAIL_SQL_DIR": str(pack)})
    assert result.exit_code == 4, result.output
    assert f"{pack / 'rules' / file}: " in result.stderr and "nested too deeply" in result.stderr, result.output


@pytest.mark.parametrize("args", [["scan", SAMPLE], ["transpile", RULE_ID, "-d", "duckdb"]], ids=["scan", "transpile"])
def test_a_source_adapter_that_is_not_utf8_is_a_pack_error_naming_it(tmp_path, args):
    pack = copy_pack(tmp_path)
    adapter = pack / "sources" / "duckdb" / "cloudtrail.sql"
    adapter.write_bytes(b"-- caf\xe9\n" + adapter.read_bytes())
    result = run(*args, env={"DUCKTRAIL_SQL_DIR": str(pack)})
    assert result.exit_code == 4, result.output
    assert f"{adapter}: source adapter is not UTF-8 text (byte 0xe9 at offset 6)" in result.stderr, result.output


@pytest.mark.parametrize("args", [["scan", SAMPLE], ["transpile", RULE_ID, "-d", "duckdb"]], ids=["scan", "transpile"])
def test_a_source_adapter_that_cannot_be_read_is_a_pack_error_naming_it(tmp_path, args):
    pack = copy_pack(tmp_path)
    adapter = pack / "sources" / "duckdb" / "cloudtrail.sql"
    adapter.unlink()
    adapter.mkdir()  # still listed as a source, but reading it fails (unlike chmod, also as root)
    result = run(*args, env={"DUCKTRAIL_SQL_DIR": str(pack)})
    assert result.exit_code == 4, result.output
    assert f"{adapter}: cannot read the source adapter: Is a directory" in result.stderr, result.output


def test_hidden_and_cache_folders_beside_the_rules_are_not_rules(tmp_path):
    pack = copy_pack(tmp_path)
    for name in (".cache", "__pycache__"):
        (pack / "rules" / name).mkdir()
    result = run("list", env={"DUCKTRAIL_SQL_DIR": str(pack)})
    assert result.exit_code == 0 and RULE_ID in result.stdout, result.output


def test_list_shows_the_rule():
    result = run("list")
    assert result.exit_code == 0 and RULE_ID in result.stdout, result.output
    listed = json.loads(run("list", "-f", "json").stdout)
    assert listed[0]["id"] == RULE_ID and listed[0]["released_versions"] == list(range(1, NEWEST + 1))


@pytest.mark.parametrize("name", [RULE_ID, "49002bbe-7aea-4146-91eb-b2b683bf5ed5"])
def test_show_prints_metadata_triage_and_sql(name):
    result = run("show", name)
    assert result.exit_code == 0, result.output
    sql_file = f"v{NEWEST}.sql, sha256:"
    for text in ("T1648 Serverless Execution", "Triage", "AddPermission", "FROM cloudtrail_events", sql_file):
        assert text in result.stdout, result.stdout


def test_help_documents_the_exit_codes():
    for args in (["--help"], ["scan", "--help"]):
        result = run(*args)
        assert result.exit_code == 0
        assert "Exit codes: 0 clean run" in result.stdout and "3 unreadable input" in result.stdout, result.stdout


def test_version():
    assert run("--version").stdout.startswith("ducktrail ")


def test_a_small_memory_limit_reads_with_the_threads_it_holds():
    # Two reading threads need more than 256MB: with both, the scan failed or not by timing.
    for _ in range(3):
        result = run("scan", SAMPLE, "--memory-limit", "256MB", "--threads", "2", "-q", "-f", "ndjson")
        assert result.exit_code == 0, result.output
        assert len(result.stdout.splitlines()) == 3, result.output


def test_running_out_of_memory_exits_4_and_blames_no_file():
    result = run("scan", SAMPLE, "--memory-limit", "10MB")
    assert result.exit_code == 4, result.output
    assert "ran out of resources" in result.stderr and "--memory-limit" in result.stderr
    assert "fixtures" not in result.stderr


@pytest.mark.parametrize("args", [[f"{RULE_ID}@1"], [RULE_ID, "--version", "1"], [f"{RULE_ID}@1", "--version", "1"]])
def test_show_takes_a_version_as_scan_and_transpile_do(args):
    result = run("show", *args)
    assert result.exit_code == 0, result.output
    assert "version: 1 (released)" in result.stdout and "v1.sql, sha256:" in result.stdout, result.stdout
    clash = run("show", f"{RULE_ID}@1", "--version", "2")
    assert clash.exit_code == 2 and "name different versions" in clash.stderr, clash.output


def test_show_unknown_version_is_a_usage_error():
    result = run("show", RULE_ID, "--version", "9")
    assert result.exit_code == 2, result.output
    versions = ", ".join(str(n) for n in range(1, NEWEST + 1))
    assert f"has no version 9 (versions: {versions})" in result.stderr, result.stderr


@pytest.mark.parametrize(
    "dialect", ["snowflake", "bigquery", "athena", "trino", "spark", "databricks", "clickhouse", "duckdb"]
)
def test_transpile_prints_ready_to_run_sql(dialect):
    result = run("transpile", RULE_ID, "--dialect", dialect)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"-- ducktrail rule {RULE_ID} version {NEWEST}"), result.stdout[:200]
    assert "cloudtrail_events" in result.stdout


def test_transpile_ecs_source_for_duckdb():
    result = run("transpile", RULE_ID, "-d", "duckdb", "--source", "ecs")
    assert result.exit_code == 0, result.output
    assert "CREATE OR REPLACE VIEW cloudtrail_events" in result.stdout and "_source" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["transpile", RULE_ID, "--dialect", "oracle"],
        ["transpile", RULE_ID, "--dialect", "snowflake", "--source", "ecs"],
        ["transpile", RULE_ID],
        ["transpile", "no-such-rule", "-d", "spark"],
        ["scan", SAMPLE, "--source", "splunk"],
    ],
    ids=lambda args: " ".join(args[2:]) or "no dialect",
)
def test_transpile_usage_errors_exit_2(args):
    result = run(*args)
    assert result.exit_code == 2, result.output


def test_scan_of_an_elastic_export_with_source_ecs(tmp_path):
    from tests import elastic_oracle
    from tests.support import write_ndjson

    events = json.loads((FIXTURES / "cases" / "cross_account_invoke_alerts" / "events.json").read_text())["Records"]
    export = write_ndjson(tmp_path / "export.ndjson", [{"_source": elastic_oracle.ecs_document(e)} for e in events])
    result = run("scan", str(export), "--source", "ecs", "-f", "json")
    assert result.exit_code == 0, result.output
    assert [a["caller_account"] for a in json.loads(result.stdout)] == ["444455556666"]


def test_a_folder_without_cloudtrail_files_warns(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing here")
    result = run("scan", str(tmp_path), "-f", "json")
    assert result.exit_code == 0, result.output
    assert "warning: no CloudTrail files found (see the skipped files in the summary)" in result.stderr
    assert "1 file skipped (1 not a .json/.jsonl/.ndjson file)" in result.stderr


def test_an_empty_folder_warns_without_pointing_at_skipped_files(tmp_path):
    result = run("scan", str(tmp_path), "-f", "json")
    assert result.exit_code == 0, result.output
    assert "warning: no CloudTrail files found\n" in result.stderr, result.output


def test_two_versions_of_one_rule_are_counted_as_one_rule():
    rules = ["-r", f"{RULE_ID}@1", "-r", f"{RULE_ID}@2"]
    result = run("scan", SAMPLE, *rules, "-f", "json")
    assert result.exit_code == 0, result.output
    assert "6 alerts from 1 rule (2 versions)" in result.stderr, result.output


def test_an_unexpected_failure_is_reported_without_a_traceback(monkeypatch, capsys):
    import ducktrail.cli as cli

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "app", broken)
    monkeypatch.delenv("DUCKTRAIL_DEBUG", raising=False)
    assert cli.run_cli() == 4
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["scan", str(FIXTURES / "AWSLogs"), "-f", "json"], 0),
        (["scan", str(FIXTURES / "AWSLogs"), "-f", "json", "--fail-on-alerts"], 1),
        (["scan", "--rows", "-1", str(FIXTURES / "AWSLogs")], 2),
        (["scan", "/no/such/path"], 3),
    ],
)
def test_the_installed_command_flushes_everything_and_keeps_the_exit_status(args, status):
    # `ducktrail` ends with os._exit; run as a process, it must still print all and exit right.
    done = subprocess.run([sys.executable, "-m", "ducktrail", *args], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == status, done.stderr
    if status <= 1:
        assert len(json.loads(done.stdout)) == len(EXPECTED), done.stdout
        assert "3 alerts from 1 rule" in done.stderr, done.stderr
    else:
        assert done.stderr.strip(), "an error must be explained"


def test_the_command_keeps_freed_memory_for_duckdb_unless_the_user_set_the_allocator(monkeypatch):
    from ducktrail.launch import ALLOCATOR_ENVIRONMENT, keep_freed_memory

    name, value = ALLOCATOR_ENVIRONMENT
    monkeypatch.delenv(name, raising=False)
    keep_freed_memory()
    assert os.environ[name] == value
    monkeypatch.setenv(name, "narenas:1")
    keep_freed_memory()
    assert os.environ[name] == "narenas:1"


def test_csv_keeps_a_value_with_a_carriage_return_in_one_row(tmp_path):
    principals = [f"arn:aws:iam::444455556666:user/{name}" for name in ("plain", "car\rriage", "new\nline")]
    write_trail_file(tmp_path / "t.json", [invoke(p, event_id=f"e-{n}") for n, p in enumerate(principals)])
    result = run("scan", str(tmp_path), "-f", "csv", "-q")
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert sorted(row["user_identity_arn"] for row in rows) == sorted(principals), result.stdout


def test_no_alert_prints_a_csv_header_and_no_ndjson_line(tmp_path):
    write_trail_file(tmp_path / "t.json", [invoke(event_id="e-1")])
    quiet = ["scan", str(tmp_path), "--since", "2030-01-01", "-q"]
    alerting = run("scan", str(tmp_path), "-q", "-f", "csv").stdout.splitlines()
    assert len(alerting) == 2 and alerting[0].endswith(",".join(ALERT_KEYS)), alerting
    header = run(*quiet, "-f", "csv").stdout
    assert header.splitlines() == alerting[:1], header
    assert run(*quiet, "-f", "ndjson").stdout == ""
    assert json.loads(run(*quiet, "-f", "json").stdout) == []


def test_the_table_shows_control_characters_from_the_logs_as_escapes(tmp_path):
    principal = "arn:aws:iam::444455556666:user/\x1b]0;owned\x07name"
    write_trail_file(tmp_path / "t.json", [invoke(principal, event_id="e-1")])
    result = run("scan", str(tmp_path), "-q", "--rows", "0")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout, repr(result.stdout)
    assert "\\x1b]0;owned\\x07name" in result.stdout.replace("\n", "").replace("│", "").replace(" ", ""), result.stdout


def test_the_table_shows_values_as_they_are_not_as_rich_markup_or_emoji_codes(tmp_path):
    principals = ["arn:aws:iam::444455556666:user/[/x]", "arn:aws:iam::444455556666:user/[bold]b[/bold]"]
    # A function named ok with an alias: ":ok:" is an emoji code.
    function = "arn:aws:lambda:us-east-1:111122223333:function:ok:prod"
    write_trail_file(tmp_path / "t.json", [invoke(p, function=function, event_id=p) for p in principals])
    result = run("scan", str(tmp_path), "-q", "--rows", "0", env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    for value in [*principals, function]:
        assert value in result.stdout, result.stdout


def test_csv_keeps_escape_sequences_from_the_logs_when_written_to_a_pipe(tmp_path):
    # click strips what looks like a terminal escape from text it writes to anything but a terminal.
    principal = "arn:aws:iam::444455556666:user/\x1b[2J\x1b]0;owned\x07name"
    write_trail_file(tmp_path / "t.json", [invoke(principal, event_id="e-1")])
    result = run("scan", str(tmp_path), "-q", "-f", "csv")
    assert result.exit_code == 0, result.output
    assert principal in result.stdout, repr(result.stdout)


def test_csv_shows_escape_sequences_from_the_logs_as_escapes_on_a_terminal(tmp_path):
    import pty
    import select

    principal = "arn:aws:iam::444455556666:user/\x1b[2J\x1b]0;owned\x07name"
    write_trail_file(tmp_path / "t.json", [invoke(principal, event_id="e-1")])
    controller, terminal = pty.openpty()
    with open(terminal, "wb", closefd=True) as stdout:
        done = subprocess.run(
            [sys.executable, "-m", "ducktrail", "scan", str(tmp_path), "-q", "-f", "csv"],
            stdout=stdout,
            stderr=subprocess.PIPE,
            cwd=REPO,
            timeout=60,
            check=False,
        )
    shown = b""
    while True:  # the child has exited; what it wrote is buffered in the terminal
        if not select.select([controller], [], [], 0.5)[0]:
            break
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert done.returncode == 0, done.stderr
    assert b"\x1b" not in shown and b"\x07" not in shown, shown
    assert b"user/\\x1b[2J\\x1b]0;owned\\x07name" in shown, shown


@pytest.mark.parametrize(
    "inputs",
    [pytest.param([], id="no_files"), pytest.param(["bad.json"], id="every_file_unreadable")],
)
def test_a_scan_that_reads_no_file_still_prints_the_csv_header(tmp_path, inputs):
    for name in inputs:
        (tmp_path / name).write_text("garbage")
    result = run("scan", str(tmp_path), "-f", "csv", "--keep-going")
    assert result.stdout.splitlines()[0].endswith(",".join(ALERT_KEYS)), result.output
    assert len(result.stdout.splitlines()) == 1, result.output


def test_file_names_in_messages_show_control_characters_as_escapes(tmp_path):
    bad = tmp_path / "evil\x1b]0;owned\x07\x1b[2J.json"
    bad.write_text("not json")
    result = run("scan", str(tmp_path))
    assert result.exit_code == 3, result.output
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr, repr(result.stderr)
    assert "evil\\x1b]0;owned\\x07\\x1b[2J.json" in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("name", "shown"), [("a\rducktrail: 9 files read.json", "a\\rducktrail"), ("n\x1cm.json", "n\\x1cm.json")]
)
def test_a_line_break_in_a_file_name_cannot_start_a_line_of_its_own(tmp_path, name, shown):
    (tmp_path / name).write_text("not json")
    result = run("scan", str(tmp_path), "--keep-going")
    assert result.exit_code == 3, result.output
    assert shown in result.stderr, repr(result.stderr)
    assert all(line.startswith("ducktrail: ") for line in result.stderr.split("\n") if line), repr(result.stderr)


def test_file_names_in_messages_keep_their_spaces_of_any_script(tmp_path):
    name = "ログ\u30002026.json"
    (tmp_path / name).write_text("not json")
    result = run("scan", str(tmp_path))
    assert result.exit_code == 3 and name in result.stderr, result.stderr


def draft_pack(tmp_path, sql):
    """A copy of the pack whose rule has a draft version DRAFT holding `sql`; its DUCKTRAIL_SQL_DIR,
    and the draft's file."""
    pack = copy_pack(tmp_path)
    rule_dir = pack / "rules" / RULE_ID
    (rule_dir / f"v{DRAFT}.sql").write_text(sql)
    metadata = rule_dir / "rule.toml"
    metadata.write_text(metadata.read_text().replace(f"version = {NEWEST}\n", f"version = {DRAFT}\n", 1))
    return {"DUCKTRAIL_SQL_DIR": str(pack)}, rule_dir / f"v{DRAFT}.sql"


def test_lock_refuses_a_draft_that_does_not_bind_and_names_its_file(tmp_path):
    env, draft = draft_pack(tmp_path, newest_sql().replace("AND error_code IS NULL", "AND eror_code IS NULL"))
    lock_file = tmp_path / "sql" / "rules" / "rules.lock.json"
    before = lock_file.read_text()
    for args in (["lock"], ["lock", "--check"]):
        result = run(*args, env=env)
        assert result.exit_code == 4, result.output
        assert f"{draft}: rule {RULE_ID}@{DRAFT} does not bind: Binder Error" in result.stderr, result.output
    assert lock_file.read_text() == before


def test_lock_check_reports_every_broken_rule_at_once(tmp_path):
    pack = copy_pack(tmp_path)
    for name in ("broken-one", "broken-two"):
        shutil.copytree(pack / "rules" / RULE_ID, pack / "rules" / name)
        metadata = pack / "rules" / name / "rule.toml"
        metadata.write_text(metadata.read_text().replace(f'id = "{RULE_ID}"', f'id = "{name}"'))
    result = run("lock", "--check", env={"DUCKTRAIL_SQL_DIR": str(pack)})
    assert result.exit_code == 4, result.output
    for name in ("broken-one", "broken-two"):
        assert f"{pack / 'rules' / name / 'rule.toml'}: upstream.rule_id " in result.stderr, result.output


def test_a_released_rule_whose_folder_is_gone_is_reported_and_an_empty_pack_too(tmp_path):
    pack = copy_pack(tmp_path)
    shutil.rmtree(pack / "rules" / RULE_ID)
    env = {"DUCKTRAIL_SQL_DIR": str(pack)}
    check = run("lock", "--check", env=env)
    assert check.exit_code == 4 and f"released rule {RULE_ID} is missing" in check.stderr, check.output
    (pack / "rules" / "rules.lock.json").write_text("{}\n")
    scanned = run("scan", SAMPLE, env=env)
    assert scanned.exit_code == 4 and "no rules: expected a folder per rule" in scanned.stderr, scanned.output


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("SELECT 1 AS x FROM cloudtrail_events; COPY (SELECT 42 AS answer) TO '{out}'", "holds 2 statements"),
        ("SELECT * FROM read_text('{out}')", "reads read_text(...) instead of cloudtrail_events"),
        ("DELETE FROM cloudtrail_events", "is a Delete, not a SELECT"),
        # A scan's threads would list its alerts in a new order on each run.
        (
            "SELECT event_name, count(*) AS n FROM cloudtrail_events GROUP BY event_name",
            "lists its alerts in no set order",
        ),
    ],
)
def test_a_draft_that_is_not_one_select_over_the_events_is_refused_before_it_runs(tmp_path, sql, problem):
    out = tmp_path / "written.csv"
    env, draft = draft_pack(tmp_path, sql.format(out=out))
    for args in (["scan", SAMPLE], ["transpile", RULE_ID, "-d", "snowflake"]):
        result = run(*args, env=env)
        assert result.exit_code == 4, result.output
        assert f"{draft}: rule SQL {problem}" in result.stderr, result.output
    assert not out.exists()


def test_a_version_released_before_rules_had_to_order_their_alerts_does_not_block_the_pack(tmp_path):
    # A released version never changes: asking it for an ORDER BY would fail `lock --check` for good.
    from ducktrail.pack.rules import content_hash

    pack = copy_pack(tmp_path)
    rule_dir = pack / "rules" / RULE_ID
    unordered = newest_sql().rsplit("ORDER BY", 1)[0]
    for number in range(1, NEWEST + 1):
        (rule_dir / f"v{number}.sql").write_text(unordered)
    released = {str(number): content_hash(unordered.encode()) for number in range(1, NEWEST + 1)}
    (pack / "rules" / "rules.lock.json").write_text(json.dumps({RULE_ID: released}))
    env = {"DUCKTRAIL_SQL_DIR": str(pack)}
    for args in (["lock", "--check"], ["transpile", RULE_ID, "-d", "trino"], ["scan", SAMPLE, "-q"]):
        result = run(*args, env=env)
        assert result.exit_code == 0, (args, result.output)
    # A new version must order its alerts, and locking it is not blocked by the old ones.
    draft = rule_dir / f"v{DRAFT}.sql"
    draft.write_text(unordered)
    metadata = rule_dir / "rule.toml"
    metadata.write_text(metadata.read_text().replace(f"version = {NEWEST}\n", f"version = {DRAFT}\n", 1))
    refused = run("lock", env=env)
    assert refused.exit_code == 4, refused.output
    assert f"{draft}: rule SQL lists its alerts in no set order" in refused.stderr, refused.output
    assert f"v{NEWEST}.sql" not in refused.stderr, refused.output
    draft.write_text(newest_sql())
    locked = run("lock", env=env)
    assert locked.exit_code == 0, locked.output


def test_transpile_takes_id_at_version_and_marks_a_draft(tmp_path):
    env, _ = draft_pack(tmp_path, newest_sql() + "\n-- tuned\n")
    draft = run("transpile", RULE_ID, "-d", "trino", env=env)
    assert draft.exit_code == 0 and f"version {DRAFT}, an unreleased draft (not in the lock file)" in draft.stdout, (
        draft.output
    )
    released = run("transpile", f"{RULE_ID}@1", "-d", "trino", env=env)
    assert released.exit_code == 0, released.output
    assert released.stdout.startswith(f"-- ducktrail rule {RULE_ID} version 1 (sha256:"), released.stdout
    clash = run("transpile", f"{RULE_ID}@1", "-d", "trino", "--version", str(DRAFT), env=env)
    assert clash.exit_code == 2 and "name different versions" in clash.stderr, clash.output


def test_a_draft_that_does_not_bind_is_named_by_its_file_in_a_scan(tmp_path):
    env, draft = draft_pack(tmp_path, "SELECT no_such_column FROM cloudtrail_events ORDER BY ALL")
    result = run("scan", SAMPLE, env=env)
    assert result.exit_code == 4, result.output
    assert f"{draft}: rule {RULE_ID}@{DRAFT} does not bind" in result.stderr, result.output


def test_ingest_help_lists_only_its_own_exit_codes():
    result = run("ingest", "--help")
    assert "--fail-on-alerts" not in result.stdout and "0 loaded" in result.stdout, result.stdout


def test_skipped_files_are_counted_in_agreeing_number(tmp_path):
    digest = "AWSLogs/1/CloudTrail-Digest/us-east-1/2026/11/01/d{}.json.gz"
    for index in (1, 2):
        write_trail_file(tmp_path / digest.format(index), [invoke()])
    result = run("scan", str(tmp_path))
    assert "2 files skipped (2 CloudTrail-Digest files)" in result.stderr, result.output


@pytest.mark.parametrize(
    ("command", "advice"),
    [
        (["scan"], "ducktrail: nothing is reported: --keep-going skips unreadable files, reads the rest"),
        (["ingest", "--db", "DB"], "ducktrail: batches loaded before it are kept; --keep-going skips unreadable files"),
    ],
)
def test_stopping_at_an_unreadable_file_says_what_was_kept_and_how_to_go_on(tmp_path, command, advice):
    write_trail_file(tmp_path / "in" / "good.json", [invoke()])
    (tmp_path / "in" / "bad.json").write_text("garbage")
    args = [part.replace("DB", str(tmp_path / "trail.duckdb")) for part in command]
    result = run(*args, str(tmp_path / "in"))
    assert result.exit_code == 3, result.output
    lines = result.stderr.splitlines()
    assert lines[-2].startswith(f"ducktrail: error: {tmp_path / 'in' / 'bad.json'}:1: not valid JSON"), result.output
    assert lines[-1].startswith(advice), result.output
    assert "--keep-going" not in run(*args, str(tmp_path / "in"), "-q").stderr


def test_a_path_that_stops_an_ingest_before_it_loads_does_not_speak_of_kept_batches(tmp_path):
    write_trail_file(tmp_path / "in" / "good.json", [invoke()])
    missing = tmp_path / "missing"
    result = run("ingest", str(tmp_path / "in"), str(missing), "--db", str(tmp_path / "trail.duckdb"))
    assert result.exit_code == 3, result.output
    lines = result.stderr.splitlines()
    assert lines[-2] == f"ducktrail: error: {missing}: no such file or directory", result.output
    assert lines[-1].startswith("ducktrail: --keep-going skips unreadable files, loads the rest"), result.output


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["one.json"], id="a_single_file"),
        pytest.param(["missing.json"], id="a_single_missing_path"),
        pytest.param(["in", "--source", "ecs"], id="cloudtrail_files_read_as_elastic_documents"),
        pytest.param(["exports"], id="elastic_documents_read_as_cloudtrail_files"),
    ],
)
def test_keep_going_is_not_offered_where_it_cannot_help(tmp_path, monkeypatch, args):
    from tests.test_ecs_source import export

    monkeypatch.chdir(tmp_path)
    write_trail_file(tmp_path / "in" / "a.json", [invoke()])
    write_trail_file(tmp_path / "in" / "b.json", [invoke()])
    for name in ("a.ndjson", "b.ndjson"):
        write_ndjson(tmp_path / "exports" / name, export([invoke()]))
    (tmp_path / "one.json").write_text("garbage")
    result = run("scan", *args)
    assert result.exit_code == 3, result.output
    assert "--keep-going" not in result.stderr, result.output
