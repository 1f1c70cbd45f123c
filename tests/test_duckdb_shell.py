"""Analysts run the SQL pack in the DuckDB shell without Python: the README's command must work."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import FIXTURES, REPO, RULE_ID, newest_version

README = (REPO / "README.md").read_text()


def duckdb_shell() -> str:
    beside_python = Path(sys.executable).with_name("duckdb")
    found = str(beside_python) if beside_python.exists() else shutil.which("duckdb")
    if found is None:
        pytest.skip("the DuckDB shell is not installed: pip install duckdb-cli (part of the dev extra)")
    return found


def documented_command() -> str:
    match = re.search(r"<!-- analyst-duckdb-cli.*?-->\s*```sh\n(.*?)```", README, re.S)
    assert match, "README lost its analyst DuckDB command"
    return match.group(1)


def test_readme_command_runs_the_rule_in_the_duckdb_shell():
    command = documented_command()
    assert command.startswith("duckdb ")
    # Analysts copy it: it runs the version a scan runs.
    assert f"sql/rules/{RULE_ID}/v{newest_version()}.sql" in command, command
    # Same statements, JSON output mode so the result can be compared.
    command = command.replace("duckdb", f"{duckdb_shell()} -json", 1)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(["bash", "-c", command], cwd=REPO, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    expected = json.loads((FIXTURES / "AWSLogs.expected.json").read_text())["alerts"]
    for alert in expected:  # the shell prints timestamps as DuckDB renders them
        for key in ("first_seen", "last_seen"):
            alert[key] = alert[key].replace("T", " ").removesuffix("Z")
    assert rows == expected, result.stdout


def test_the_adapter_queries_in_the_shell_like_in_python():
    one_case = FIXTURES / "cases" / "source_ips_keep_only_ip_addresses" / "events.json"
    statements = [
        f"SET VARIABLE ducktrail_files = '{one_case}'",
        ".read sql/sources/duckdb/cloudtrail.sql",
        "SELECT source_ip_address, source_ip FROM cloudtrail_events ORDER BY event_time",
    ]
    args = [duckdb_shell(), "-json"] + [part for s in statements for part in ("-c", s)]
    result = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"source_ip_address": "203.0.113.7", "source_ip": "203.0.113.7"},
        {"source_ip_address": "2001:db8::1", "source_ip": "2001:db8::1"},
        {"source_ip_address": "lambda.amazonaws.com", "source_ip": None},
        {"source_ip_address": "AWS Internal", "source_ip": None},
        {"source_ip_address": "203.0.113.7", "source_ip": "203.0.113.7"},
        {"source_ip_address": "203.0.113.999", "source_ip": None},
        {"source_ip_address": None, "source_ip": None},
    ]


def shell(*statements: str) -> subprocess.CompletedProcess:
    args = [duckdb_shell(), "-json"] + [part for s in statements for part in ("-c", s)]
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)


def test_the_adapter_runs_again_in_the_same_session():
    one_region = FIXTURES / "AWSLogs" / "111122223333" / "CloudTrail" / "us-west-2"
    result = shell(
        f"SET VARIABLE ducktrail_files = '{one_region}/*/*/*/*'",
        ".read sql/sources/duckdb/cloudtrail.sql",
        ".read sql/sources/duckdb/cloudtrail.sql",
        "SELECT count(*) AS events FROM cloudtrail_events",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["events"] > 0, result.stdout


@pytest.mark.parametrize("adapter", ["cloudtrail", "ecs"])
def test_the_adapter_without_its_files_says_how_to_name_them(adapter):
    result = shell(f".read sql/sources/duckdb/{adapter}.sql", "SELECT count(*) FROM cloudtrail_events")
    assert result.returncode != 0
    assert "no files to read: ducktrail_files is not set, or NULL" in result.stderr + result.stdout, result.stderr


def test_a_glob_that_matches_no_file_is_named_as_a_cause():
    result = shell(
        "SET VARIABLE ducktrail_files = (SELECT list(file) FROM glob('no-such-folder/**/*.*json*'))",
        ".read sql/sources/duckdb/cloudtrail.sql",
        "SELECT count(*) FROM cloudtrail_events",
    )
    assert result.returncode != 0
    assert "a glob() that matched no file?" in result.stderr + result.stdout, result.stderr


def test_a_read_type_copied_from_typeof_narrows_the_read_as_the_readme_says():
    """README: copy the type from typeof(NULL::cloudtrail_json_value) and leave fields out."""
    assert "SELECT typeof(NULL::cloudtrail_json_value)" in README
    sample = FIXTURES / "cases" / "cross_account_invoke_alerts" / "events.json"
    typed = shell(
        f"SET VARIABLE ducktrail_files = '{sample}'",
        ".read sql/sources/duckdb/cloudtrail.sql",
        "SELECT typeof(NULL::cloudtrail_json_value) AS t",
    )
    assert typed.returncode == 0, typed.stderr
    full_type = json.loads(typed.stdout)[0]["t"]
    narrowed = full_type.replace(' "awsRegion" VARCHAR,', "").replace(" awsRegion VARCHAR,", "")
    assert narrowed != full_type and "eventName" in narrowed, full_type
    result = shell(
        f"SET VARIABLE ducktrail_files = '{sample}'",
        ".read sql/sources/duckdb/cloudtrail.sql",
        f"SET VARIABLE ducktrail_read_type = '{narrowed}'",
        "SELECT count(event_name) AS named, count(aws_region) AS regions FROM cloudtrail_events",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"named": 1, "regions": 0}], result.stdout
