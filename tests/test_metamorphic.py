"""Metamorphic properties over every fixture case's events: how the events are laid out in files
(split, order, compression, JSON shape) and quiet events added among them must not change the
alerts. The baseline is one scan of all the events in a single file."""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import FIXTURES, invoke, scan_paths, write_ndjson, write_trail_file

CASES = FIXTURES / "cases"


def fixture_events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for path in sorted(CASES.glob("*/events.json")):
        events.extend(json.loads(path.read_text())["Records"])
    for path in sorted(CASES.glob("*/events.ndjson")):
        events.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return events


EVENTS = fixture_events()


@functools.cache
def baseline() -> tuple[list[dict[str, Any]], int]:
    with tempfile.TemporaryDirectory() as folder:
        report = scan_paths(write_trail_file(Path(folder) / "all.json", EVENTS))
    return report.alerts, report.events_read


def alerting_principals() -> list[tuple[str, str]]:
    return sorted({(a["user_identity_arn"], a["caller_account"]) for a in baseline()[0]})


def same_account_invoke(principal: str, account: str, name: str) -> dict[str, Any]:
    function = f"arn:aws:lambda:us-west-2:{account}:function:{name}"
    return invoke(
        principal,
        function,
        ip="198.51.100.77",
        resources=[{"accountId": account, "type": "AWS::Lambda::Function", "ARN": function}],
        recipientAccountId=account,
    )


def other_service_event(
    principal: str, source: str, name: str, parameters: dict[str, Any], resources: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "arn": principal},
        "eventTime": "2026-11-01T01:05:00Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.50",
        "requestParameters": parameters,
        "resources": resources,
        "eventCategory": "Data" if source == "s3.amazonaws.com" else "Management",
        "recipientAccountId": "111122223333",
    }


@functools.cache
def noise_pool() -> list[dict[str, Any]]:
    """Events the rule must ignore; most come from principals that alert elsewhere."""
    pool = []
    callers = [*alerting_principals(), ("arn:aws:sts::111122223333:assumed-role/AppRole/worker", "111122223333")]
    for index, (principal, account) in enumerate(callers):
        pool.append(same_account_invoke(principal, account, f"own-function-{index}"))
        pool.append(
            other_service_event(
                principal,
                "s3.amazonaws.com",
                "GetObject",
                {"bucketName": "shared-exports", "key": f"reports/{index}.csv"},
                [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::shared-exports/reports/{index}.csv"}],
            )
        )
        pool.append(
            other_service_event(
                principal,
                "sts.amazonaws.com",
                "AssumeRole",
                {"roleArn": "arn:aws:iam::111122223333:role/CrossAccountInvoker", "roleSessionName": f"s{index}"},
                [
                    {
                        "accountId": "111122223333",
                        "type": "AWS::IAM::Role",
                        "ARN": "arn:aws:iam::111122223333:role/CrossAccountInvoker",
                    }
                ],
            )
        )
    return pool


# (NDJSON, gzipped, indent): every shape a delivered or exported file comes in.
SHAPES = [
    (False, False, None),
    (False, False, 2),
    (False, True, None),
    (False, True, 2),
    (True, False, None),
    (True, True, None),
]


@st.composite
def layouts(
    draw: st.DrawFn, *, with_noise: bool
) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]], list[tuple[bool, bool, int | None]], bool]:
    """Events (fixtures plus noise), shuffled and split over files; each file's shape; whether
    to name the files one by one, in a shuffled order, instead of passing their folder."""
    events = list(EVENTS)
    if with_noise:
        picks = draw(st.lists(st.integers(0, len(noise_pool()) - 1), min_size=5, max_size=40))
        events += [dict(noise_pool()[pick], eventID=f"noise-{number}") for number, pick in enumerate(picks)]
    events = draw(st.permutations(events))
    file_count = draw(st.integers(1, 6))
    owners = draw(st.lists(st.integers(0, file_count - 1), min_size=len(events), max_size=len(events)))
    files: list[list[dict[str, Any]]] = [[] for _ in range(file_count)]
    for event, owner in zip(events, owners, strict=True):
        files[owner].append(event)
    shapes = draw(st.lists(st.sampled_from(SHAPES), min_size=file_count, max_size=file_count))
    name_files = draw(st.booleans())
    return events, files, shapes, name_files


def scan_layout(
    folder: Path,
    files: list[list[dict[str, Any]]],
    shapes: list[tuple[bool, bool, int | None]],
    name_files: bool,
    draw_order: Any,
) -> Any:
    paths = []
    for number, (events, (ndjson, compress, indent)) in enumerate(zip(files, shapes, strict=True)):
        suffix = (".ndjson" if ndjson else ".json") + (".gz" if compress else "")
        path = folder / f"part-{number:02d}{suffix}"
        if ndjson:
            write_ndjson(path, events, compress=compress)
        else:
            write_trail_file(path, events, compress=compress, indent=indent)
        paths.append(path)
    if name_files:
        return scan_paths(*draw_order(paths))
    return scan_paths(folder)


def test_baseline_raises_alerts_for_several_principals():
    alerts, events_read = baseline()
    assert events_read == len(EVENTS)
    assert len(alerting_principals()) >= 5
    assert len(alerts) >= 5


def test_noise_events_alone_raise_no_alert():
    with tempfile.TemporaryDirectory() as folder:
        report = scan_paths(write_trail_file(Path(folder) / "noise.json", noise_pool()))
    assert report.events_read == len(noise_pool())
    assert report.alerts == []


@pytest.mark.parametrize(
    "with_noise", [False, True], ids=["split-shuffled-compressed-reshaped", "plus-quiet-events-anywhere"]
)
@settings(max_examples=25)
@given(data=st.data())
def test_alerts_do_not_depend_on_layout_order_compression_shape_or_quiet_events(with_noise, data):
    events, files, shapes, name_files = data.draw(layouts(with_noise=with_noise))
    want_alerts, _ = baseline()
    with tempfile.TemporaryDirectory() as folder:
        report = scan_layout(Path(folder), files, shapes, name_files, lambda paths: data.draw(st.permutations(paths)))
    assert report.unreadable == [] and report.skipped_records == []
    assert report.events_read == len(events)
    assert report.alerts == want_alerts
