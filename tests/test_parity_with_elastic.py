"""Differential test: ducktrail's alerts equal those of a Python model of Elastic's pipeline
and the upstream ES|QL (tests/elastic_oracle.py), on generated events that vary every clause."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import event, given
from hypothesis import strategies as st

from tests import elastic_oracle
from tests.support import rule_columns, scan_paths, write_trail_file

ABSENT = object()  # the key is left out of the record

PLACEHOLDERS = ["", "-", "none", None, ABSENT]
VALID_ACCOUNTS = ["111122223333", "444455556666", "012345678901"]
BAD_ACCOUNTS = ["4444555566667", "44445555666", "anonymous"]
PARTITIONS = ["aws", "aws-cn", "aws-us-gov"]


def principal(accounts):
    return st.one_of(
        st.builds(
            lambda p, a, n: f"arn:{p}:sts::{a}:assumed-role/{n}/session",
            st.sampled_from(PARTITIONS),
            st.sampled_from(accounts),
            st.sampled_from(["Ops", "Deploy"]),
        ),
        st.builds(
            lambda p, a: f"arn:{p}:iam::{a}:user/path/jo", st.sampled_from(PARTITIONS), st.sampled_from(accounts)
        ),
        st.builds(lambda a: f"arn:aws:iam::{a}:root", st.sampled_from(accounts)),
    )


def function_arn(partitions, regions, accounts):
    return st.builds(
        lambda p, r, a, q: f"arn:{p}:lambda:{r}:{a}:function:fn{q}",
        st.sampled_from(partitions),
        st.sampled_from(regions),
        st.sampled_from(accounts),
        st.sampled_from(["", ":live", ":$LATEST", ":7"]),
    )


GOOD_FUNCTION = function_arn(["aws"], ["us-east-1", "eu-west-1", ""], VALID_ACCOUNTS)
RESOURCE_ARNS = [
    "arn:aws:lambda:us-east-1:111122223333:function:fn",
    "arn:aws:lambda:us-east-1:444455556666:function:fn",
    "",
    "-",
]

# Each mutation breaks, or bends to an edge value, one clause of the rule.
MUTATIONS = {
    "eventSource": st.sampled_from(
        ["s3.amazonaws.com", "Lambda.amazonaws.com", "lambda.amazonaws.com ", *PLACEHOLDERS]
    ),
    "eventName": st.sampled_from(
        [
            "InvokeWithResponseStream",
            "InvokeAsync",
            "InvokeExecution",
            "invoke",
            "XInvoke",
            "GetFunction20150331v2",
            *PLACEHOLDERS,
        ]
    ),
    "errorCode": st.sampled_from(["AccessDeniedException", *PLACEHOLDERS]),
    "errorMessage": st.sampled_from(["denied", *PLACEHOLDERS]),
    "userIdentity": st.sampled_from([ABSENT, None, {}, {"type": "AWSAccount", "accountId": "444455556666"}]),
    "userIdentity.arn": st.one_of(principal(BAD_ACCOUNTS), st.sampled_from(PLACEHOLDERS)),
    "userIdentity.invokedBy": st.sampled_from(["states.amazonaws.com", "events.amazonaws.com", *PLACEHOLDERS]),
    "requestParameters": st.sampled_from([ABSENT, None, {}, {"invocationType": "Event"}]),
    "requestParameters.functionName": st.one_of(
        function_arn(["aws-cn", "aws-us-gov"], ["us-east-1"], VALID_ACCOUNTS),
        function_arn(["aws"], ["US-EAST-1", "us_east_1"], VALID_ACCOUNTS),
        function_arn(["aws"], ["us-east-1"], BAD_ACCOUNTS),
        st.builds(lambda a: f"{a}:function:fn", st.sampled_from(VALID_ACCOUNTS)),
        st.sampled_from(["fn", "fn:live", *PLACEHOLDERS]),
    ),
    "sourceIPAddress": st.sampled_from(
        ["2001:db8::5", "lambda.amazonaws.com", "AWS Internal", "010.0.0.1", "203.0.113.999", *PLACEHOLDERS]
    ),
    "resources": st.one_of(
        st.sampled_from([ABSENT, None, []]),
        st.lists(
            st.fixed_dictionaries(
                {"ARN": st.sampled_from(RESOURCE_ARNS)}, optional={"accountId": st.sampled_from(["111122223333", ""])}
            ),
            max_size=3,
        ),
    ),
}


@st.composite
def records(draw, index):
    """A successful cross- or same-account invoke, then up to three clause-bending mutations."""
    record = {
        "eventVersion": "1.09",
        "eventID": f"event-{index}",
        "eventTime": f"2026-11-01T{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}:00Z",
        "eventSource": "lambda.amazonaws.com",
        "eventName": "Invoke",
        "userIdentity": {"type": "AssumedRole", "arn": draw(principal(VALID_ACCOUNTS))},
        "requestParameters": {"functionName": draw(GOOD_FUNCTION), "invocationType": "RequestResponse"},
        "sourceIPAddress": draw(st.sampled_from(["203.0.113.5", "198.51.100.7"])),
        "resources": [
            {
                "accountId": "111122223333",
                "type": "AWS::Lambda::Function",
                "ARN": draw(st.sampled_from(RESOURCE_ARNS[:2])),
            }
        ],
    }
    for name in draw(st.lists(st.sampled_from(sorted(MUTATIONS)), max_size=3, unique=True)):
        value = draw(MUTATIONS[name])
        outer, _, inner = name.partition(".")
        target = record
        if inner:
            if not isinstance(record.get(outer), dict):
                continue
            target, outer = record[outer], inner
        if value is ABSENT:
            target.pop(outer, None)
        else:
            target[outer] = value
    return record


batches = st.integers(1, 40).flatmap(lambda n: st.tuples(*(records(i) for i in range(n))))


@given(batches)
def test_alerts_equal_the_elastic_model(batch):
    events = list(batch)
    with tempfile.TemporaryDirectory() as folder:
        report = scan_paths(write_trail_file(Path(folder) / "events.json.gz", events))
    expected = elastic_oracle.rule(events)
    assert rule_columns(report.alerts) == expected
    event("alerts" if expected else "no alert")


def test_the_model_itself_sees_the_sample_tree_as_the_expected_alerts():
    import gzip
    import json

    from tests.support import FIXTURES

    events = []
    for path in sorted((FIXTURES / "AWSLogs").rglob("*.json*")):
        if "CloudTrail-Digest" in path.parts:
            continue
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        events.extend(json.loads(data)["Records"])
    expected = json.loads((FIXTURES / "AWSLogs.expected.json").read_text())["alerts"]
    assert elastic_oracle.rule(events) == expected
