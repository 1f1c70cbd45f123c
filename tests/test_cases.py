"""Unit tests as data: each fixtures/cases/<situation>/ holds CloudTrail events in and the
alerts the upstream rule raises on them out. Every released version of the rule must raise them."""

from __future__ import annotations

import json

import pytest

from tests.support import FIXTURES, RULE_ID, pack, rule_columns, scan_paths

CASES = sorted(p for p in (FIXTURES / "cases").iterdir() if p.is_dir())
VERSIONS = [version.number for version in pack().find(RULE_ID).versions]


def expected(path):
    return json.loads(path.read_text())


def test_there_are_cases_both_ways():
    quiet = [c for c in CASES if not expected(c / "expected.json")["alerts"]]
    loud = [c for c in CASES if expected(c / "expected.json")["alerts"]]
    assert len(quiet) >= 10 and len(loud) >= 10


@pytest.mark.parametrize("version", VERSIONS, ids=[f"v{v}" for v in VERSIONS])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case, version):
    want = expected(case / "expected.json")
    inputs = [p for p in case.iterdir() if p.name.startswith("events.")]
    assert len(inputs) == 1, f"{case}: one events.json or events.ndjson expected"
    report = scan_paths(inputs[0], rule_names=[f"{want['rule_id']}@{version}"])
    got = rule_columns(report.alerts)
    assert got == want["alerts"], f"{case.name} (v{version}): {want['description']}\n{json.dumps(got, indent=2)}"
    assert report.skipped_records == [] and report.unreadable == []


def test_sample_tree_raises_the_expected_alerts():
    want = expected(FIXTURES / "AWSLogs.expected.json")
    report = scan_paths(FIXTURES / "AWSLogs")
    assert rule_columns(report.alerts) == want["alerts"]
    assert all(alert["rule_id"] == RULE_ID for alert in report.alerts)
    assert report.files_read == 4
    assert [(s.reason) for s in report.skipped_files] == ["CloudTrail-Digest file"]
    assert report.events_read == 17
