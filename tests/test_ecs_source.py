"""Teams leaving Elastic: the same rule over an NDJSON export of Elastic's CloudTrail documents
gives the same alerts as over the raw CloudTrail those documents were made from."""

from __future__ import annotations

import gzip
import json
import os
import re
from datetime import datetime
from pathlib import Path

import pytest

from ducktrail.engine.duckdb_scan import DuckDBEngine
from ducktrail.errors import InputError
from ducktrail.ingest import ingest
from ducktrail.inputs.locate import is_event_of
from ducktrail.report.summary import summary_line, warnings
from ducktrail.scan import SkippedRecords
from tests import elastic_oracle
from tests.support import FIXTURES, invoke, rule_columns, scan_paths, write_ndjson, write_trail_file

CASES = sorted(p for p in (FIXTURES / "cases").iterdir() if p.is_dir())


def raw_events(path: Path) -> list[dict]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    text = data.decode()
    if path.suffix == ".ndjson":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)["Records"]


def export(events: list[dict]) -> list[dict]:
    """Documents as an export holds them: some bare, some as search hits; some without the
    flattened requestParameters object, so that the {k=v} string path is exercised too."""
    lines = []
    for index, event in enumerate(events):
        document = elastic_oracle.ecs_document(event, keep_flattened=index % 2 == 0)
        if index % 3 == 0:
            document = {
                "_index": ".ds-logs-aws.cloudtrail-default-2026.11.01-000001",
                "_id": f"doc-{index}",
                "_source": document,
            }
        lines.append(document)
    return lines


def case_events(case: Path) -> list[dict]:
    (events_file,) = [p for p in case.iterdir() if p.name.startswith("events.")]
    return raw_events(events_file)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_ecs_export_of_a_case_raises_the_same_alerts(case, tmp_path):
    expected = json.loads((case / "expected.json").read_text())["alerts"]
    exported = write_ndjson(tmp_path / "logs-aws.cloudtrail.ndjson.gz", export(case_events(case)))
    report = scan_paths(exported, source="ecs")
    assert rule_columns(report.alerts) == expected
    assert report.skipped_records == []


# The sample tree's events as Elastic stored them, for trying `--source ecs` (README, "Leaving
# Elastic"); DUCKTRAIL_UPDATE_GOLDEN=1 writes it again from the tree.
SAMPLE_EXPORT = FIXTURES / "elastic-export" / "logs-aws.cloudtrail-sample.ndjson"


def test_the_bundled_export_is_the_sample_tree_as_elastic_stores_it_and_raises_its_alerts():
    files = sorted(p for p in (FIXTURES / "AWSLogs").rglob("*.json*") if "CloudTrail-Digest" not in p.parts)
    events = [event for path in files for event in raw_events(path)]
    if os.environ.get("DUCKTRAIL_UPDATE_GOLDEN") == "1":
        write_ndjson(SAMPLE_EXPORT, export(events))
    rendered = [json.loads(line) for line in SAMPLE_EXPORT.read_text().splitlines()]
    assert rendered == export(events), "run with DUCKTRAIL_UPDATE_GOLDEN=1 to write the sample export again"
    raw = scan_paths(FIXTURES / "AWSLogs")
    ecs = scan_paths(SAMPLE_EXPORT.parent, source="ecs")
    assert rule_columns(ecs.alerts) == rule_columns(raw.alerts)
    assert ecs.events_read == raw.events_read and ecs.skipped_records == []


# Records at the edge of what each adapter reads as an event (its SQL ducktrail_not_event).
EDGE_RECORDS = [
    {"_source": {"aws": {"cloudtrail": {"event_version": "1.08"}}}},
    {"aws": {"cloudtrail": {"event_version": "-"}}},
    {"event": {"id": "-", "action": ""}},
    {"event": {"id": 7}},
    {"_source": {}, "event": {"action": "Invoke"}},
    {"_source": {"eventName": "Invoke"}},
    {"eventID": "x"},
    {"eventVersion": "none", "eventName": None},
    {"message": "export started"},
]


@pytest.mark.parametrize("source", ["cloudtrail", "ecs"])
def test_python_names_exactly_the_records_the_adapter_skips(tmp_path, source):
    first = invoke() if source == "cloudtrail" else export([invoke()])[0]
    path = write_ndjson(tmp_path / "edge.ndjson", [first, *EDGE_RECORDS])
    report = scan_paths(path, source=source)
    skipped = [number for number, record in enumerate(EDGE_RECORDS, start=2) if not is_event_of(record, source)]
    assert 0 < len(skipped) < len(EDGE_RECORDS), "the edge records must be read both ways"
    assert [(s.count, s.first_record) for s in report.skipped_records] == [(len(skipped), skipped[0])]


@pytest.mark.parametrize(
    ("source", "other", "hint"),
    [
        ("ecs", lambda: invoke(event_id="raw"), "CloudTrail's own events among them: scan those without --source ecs"),
        ("cloudtrail", lambda: export([invoke()])[0], "Elastic documents among them: scan those with --source ecs"),
    ],
)
def test_a_file_mixing_the_two_sources_says_so(tmp_path, source, other, hint):
    own = invoke(event_id="own") if source == "cloudtrail" else export([invoke(event_id="own")])[0]
    path = write_ndjson(tmp_path / "mixed.ndjson", [own, {"message": "x"}, other(), own])
    report = scan_paths(path, source=source)
    assert report.skipped_records == [SkippedRecords(str(path), 2, 2, source, other_source=True)]
    noun = "CloudTrail events" if source == "cloudtrail" else "Elastic CloudTrail documents"
    assert f"skipped 2 records that are not {noun} (first: record 2; {hint})" in "\n".join(warnings(report))
    assert f"2 records skipped (not {noun})" in summary_line(report)


def test_a_window_counts_the_exported_events_it_leaves_out_for_want_of_a_time(tmp_path):
    untimed = [invoke(event_id="u1", time="yesterday"), invoke(event_id="u2")]
    del untimed[1]["eventTime"]
    events = [invoke(event_id="t1"), *untimed, invoke(event_id="t2")]
    exported = write_ndjson(tmp_path / "export.ndjson", [*export(events), {"message": "not a document"}])
    report = scan_paths(exported, source="ecs", since=datetime(2000, 1, 1))
    assert report.untimed_events == {str(exported): 2}
    assert "2 events without a readable @timestamp left out by the window" in summary_line(report)
    assert [a["invocation_count"] for a in report.alerts] == [2]


def test_only_the_rendered_string_still_finds_the_function_account(tmp_path):
    event = json.loads((FIXTURES / "cases" / "cross_account_invoke_alerts" / "events.json").read_text())["Records"][0]
    document = elastic_oracle.ecs_document(event, keep_flattened=False)
    assert "flattened" not in document["aws"]["cloudtrail"]
    assert document["aws"]["cloudtrail"]["request_parameters"].startswith("{functionName=arn:aws:lambda:")
    report = scan_paths(write_ndjson(tmp_path / "one.ndjson", [document]), source="ecs")
    assert [a["function_account"] for a in report.alerts] == ["111122223333"]


@pytest.mark.parametrize(
    ("line", "detail"),
    [
        ({"event": "Invoke"}, 'Expected OBJECT, but got VARCHAR: "Invoke"'),
        ({"_source": {"event": {"action": "Invoke"}, "cloud": {"account": "1"}}}, "Expected OBJECT"),
        ({"event": {"action": "Invoke"}, "aws": {"cloudtrail": {"resources": [5]}}}, "Expected OBJECT"),
    ],
    ids=["event_not_an_object", "hit_with_account_not_an_object", "resource_not_an_object"],
)
def test_a_malformed_document_is_named_by_its_line_in_the_export_words(tmp_path, line, detail):
    document = elastic_oracle.ecs_document(invoke(), keep_flattened=True)
    path = write_ndjson(tmp_path / "export.ndjson", [document, document, line])
    with pytest.raises(InputError) as raised:
        scan_paths(path, source="ecs")
    assert (raised.value.path, raised.value.record) == (str(path), 3), str(raised.value)
    assert f"not Elastic CloudTrail documents ({detail}" in str(raised.value)


def test_an_array_of_documents_is_told_the_export_shape(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps([elastic_oracle.ecs_document(invoke(), keep_flattened=True)]))
    with pytest.raises(InputError) as raised:
        scan_paths(path, source="ecs")
    assert "a JSON array at the top level; expected one document per line, as Elastic exports them" in str(raised.value)


@pytest.mark.parametrize(
    ("source", "files", "message"),
    [
        (
            "ecs",
            lambda tmp: write_trail_file(tmp / "trail.json.gz", [invoke()]),
            "not Elastic CloudTrail documents: no record has any of event.provider, event.action, event.id,"
            " aws.cloudtrail.event_version;"
            " they are CloudTrail's own events: leave out --source ecs",
        ),
        (
            "cloudtrail",
            lambda tmp: write_ndjson(tmp / "export.ndjson", export([invoke()])),
            "not CloudTrail JSON: no record has any of eventVersion, eventSource, eventName, eventID;"
            " they are Elastic documents: add --source ecs",
        ),
    ],
)
def test_files_of_the_other_source_say_which_source_to_name(tmp_path, source, files, message):
    path = files(tmp_path)
    with pytest.raises(InputError) as raised:
        scan_paths(path, source=source)
    assert raised.value.path == str(path)
    assert message in str(raised.value)
    with pytest.raises(InputError) as raised:
        ingest([str(path)], str(tmp_path / "trail.duckdb"), source=source)
    assert message in str(raised.value)


def adapter_rows(path: Path, source: str, columns: str = "* EXCLUDE (source_file)") -> list[dict]:
    with DuckDBEngine(source=source) as engine:
        engine.use_files([str(path)])
        cursor = engine.con.execute(f"SELECT {columns} FROM cloudtrail_events ORDER BY event_id, event_time")
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def every_case_event() -> list[dict]:
    return [event for case in CASES for event in case_events(case)]


def test_every_column_of_an_export_is_the_raw_events_column(tmp_path):
    """Not only the columns the bundled rule reads: analysts and new rules read them all."""
    events = every_case_event()
    raw = adapter_rows(write_ndjson(tmp_path / "raw.ndjson", events), "cloudtrail")
    documents = [elastic_oracle.ecs_document(event, keep_flattened=True) for event in events]
    exported = adapter_rows(write_ndjson(tmp_path / "export.ndjson", documents), "ecs")
    assert len(raw) == len(exported) == len(events)
    for want, got in zip(raw, exported, strict=True):
        # Elastic's pipeline also drops empty values inside objects, and repeated resources.
        if want["request_parameters"] == '{"functionName":""}':
            want["request_parameters"] = None
        if want["resources"]:
            want["resources"] = [dict(entry) for entry in dict.fromkeys(tuple(e.items()) for e in want["resources"])]
        assert got == want


def test_the_rendered_parameters_give_the_function_as_upstreams_grok_reads_it(tmp_path):
    events = every_case_event()
    documents = [elastic_oracle.ecs_document(event, keep_flattened=False) for event in events]
    exported = adapter_rows(
        write_ndjson(tmp_path / "export.ndjson", documents), "ecs", "event_id, request_parameters->>'functionName' AS f"
    )
    expected = {}
    for document in documents:
        rendered = document.get("aws", {}).get("cloudtrail", {}).get("request_parameters")
        if rendered is None:
            continue
        grok = re.search(r"functionName=(arn:aws:lambda:[a-z0-9-]*:[0-9]{12}:)", rendered)
        plain = re.search(r"(?:^\{|, )functionName=([^,}]*)", rendered)
        expected[document["event"]["id"]] = grok.group(1) if grok else (plain.group(1) if plain else None)
    got = {row["event_id"]: row["f"] for row in exported if row["event_id"] in expected}
    assert got == expected
    assert any(value and not value.startswith("arn:") for value in expected.values()), "a plain name is proven"


@pytest.mark.parametrize(
    ("field", "value"),
    [("invoked_by", "none"), ("invoked_by", "-"), ("error_code", "none"), ("error_message", "")],
)
def test_placeholders_in_older_exports_carry_nothing(tmp_path, field, value):
    document = elastic_oracle.ecs_document(invoke(), keep_flattened=True)
    target = document["aws"]["cloudtrail"]
    (target["user_identity"] if field == "invoked_by" else target)[field] = value
    report = scan_paths(write_ndjson(tmp_path / "export.ndjson", [document]), source="ecs")
    assert [alert["invocation_count"] for alert in report.alerts] == [1]


@pytest.mark.parametrize(
    ("written", "read"),
    [("2026-11-01T10:00:00Z", "2026-11-01T10:00:00Z"), ("2026-11-01T10:00:00.250Z", "2026-11-01T10:00:00.25Z")],
)
def test_timestamps_with_and_without_a_fraction_are_read(tmp_path, written, read):
    document = elastic_oracle.ecs_document(invoke(), keep_flattened=True)
    document["@timestamp"] = written
    report = scan_paths(write_ndjson(tmp_path / "export.ndjson", [document]), source="ecs")
    assert [(alert["first_seen"], alert["last_seen"]) for alert in report.alerts] == [(read, read)]


def test_only_the_functionname_key_of_the_rendered_parameters_is_read(tmp_path):
    document = elastic_oracle.ecs_document(invoke(), keep_flattened=False)
    document["aws"]["cloudtrail"]["request_parameters"] = "{xfunctionName=other, qualifier=functionName=x}"
    path = write_ndjson(tmp_path / "export.ndjson", [document])
    (row,) = adapter_rows(path, "ecs", "request_parameters->>'functionName' AS f")
    assert row == {"f": None}
