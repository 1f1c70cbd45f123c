"""Property tests: the rule, run end to end in DuckDB, takes from principal ARNs and function
names exactly the accounts the generator put there, or none, and alerts on exactly the
cross-account pairs those accounts imply."""

from __future__ import annotations

import re
import string
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.support import RULE_ID, invoke, rule_columns, scan_paths, write_ndjson

PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-2",
    "sa-east-1",
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-west-1",
    "us-gov-east-1",
    "us-iso-east-1",
    "us-isob-east-1",
    "eusc-de-east-1",
)
IAM_NAME_CHARS = string.ascii_letters + string.digits + "+=,.@_-"
FUNCTION_NAME_CHARS = string.ascii_letters + string.digits + "-_."
QUALIFIER_CHARS = string.ascii_letters + string.digits + "-_"
SOURCE_IP = "203.0.113.50"
START = datetime(2026, 11, 1, 1, 0, 0)


def account_or_none(account: str) -> str | None:
    """The truth for either account: only an id of exactly 12 ASCII digits is an account."""
    return account if re.fullmatch(r"[0-9]{12}", account, flags=re.ASCII) else None


@dataclass(frozen=True)
class Principal:
    arn: str
    account: str | None


@dataclass(frozen=True)
class Function:
    name: str
    account: str | None


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Draw from the strategies in proportion to their weights (st.one_of does not weight)."""
    return st.sampled_from([strategy for weight, strategy in choices for _ in range(weight)]).flatmap(lambda s: s)


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=n, max_size=n)


well_formed_accounts = st.one_of(
    st.sampled_from(["000000000001", "012345678901", "000000000000", "111122223333", "444455556666", "999999999999"]),
    digits(12),
)


@st.composite
def twelve_digits_with_a_letter(draw: st.DrawFn) -> str:
    account = draw(digits(12))
    at = draw(st.integers(0, 11))
    return account[:at] + draw(st.sampled_from("aOlxZ")) + account[at + 1 :]


malformed_accounts = st.one_of(
    st.sampled_from(["", "anonymous", "ANONYMOUS", "123456789", "12345678901", "1234567890123", "12345678901234"]),
    st.sampled_from([9, 11, 13, 14]).flatmap(digits),
    # Sanitisers pad or cut real ids: a 13-digit id holding a 12-digit one must still not count.
    well_formed_accounts.flatmap(lambda a: st.sampled_from([a + "0", "1" + a, a[1:], a[:-1] + "-"])),
    twelve_digits_with_a_letter(),
)

# Mostly well-formed ids, so that a batch usually holds some cross-account pairs.
account_ids = weighted((3, well_formed_accounts), (1, malformed_accounts))

iam_names = st.one_of(
    st.text(IAM_NAME_CHARS, min_size=1, max_size=20),
    # A name that looks like an account id must not be taken for one.
    st.sampled_from([12, 13]).flatmap(digits),
)
iam_paths = st.lists(iam_names, max_size=3).map(lambda parts: "".join(p + "/" for p in parts))


@st.composite
def principals(draw: st.DrawFn, accounts: st.SearchStrategy[str]) -> Principal:
    partition = draw(st.sampled_from(PARTITIONS))
    account = draw(accounts)
    iam = f"arn:{partition}:iam::{account}:"
    sts = f"arn:{partition}:sts::{account}:"
    kind = draw(st.sampled_from(["root", "user", "role", "service-linked", "sso", "assumed-role", "federated-user"]))
    if kind == "root":
        arn = iam + "root"
    elif kind == "user":
        arn = iam + f"user/{draw(iam_paths)}{draw(iam_names)}"
    elif kind == "role":
        arn = iam + f"role/{draw(iam_paths)}{draw(iam_names)}"
    elif kind == "service-linked":
        service = draw(
            st.sampled_from(
                ["autoscaling.amazonaws.com", "elasticloadbalancing.amazonaws.com", "ops.apigateway.amazonaws.com"]
            )
        )
        arn = iam + f"role/aws-service-role/{service}/{draw(iam_names)}"
    elif kind == "sso":
        region = draw(st.one_of(st.just(""), st.sampled_from(REGIONS).map(lambda r: r + "/")))
        permission_set = draw(st.text(IAM_NAME_CHARS.replace("_", ""), min_size=1, max_size=16))
        suffix = draw(st.text("0123456789abcdef", min_size=16, max_size=16))
        arn = iam + f"role/aws-reserved/sso.amazonaws.com/{region}AWSReservedSSO_{permission_set}_{suffix}"
    elif kind == "assumed-role":
        arn = sts + f"assumed-role/{draw(iam_names)}/{draw(iam_names)}"
    else:
        arn = sts + f"federated-user/{draw(iam_names)}"
    return Principal(arn, account_or_none(account))


function_names = st.text(FUNCTION_NAME_CHARS, min_size=1, max_size=20)
qualifiers = st.one_of(
    st.sampled_from(["live", "$LATEST", "23", "1", "prod-2"]),
    st.text(QUALIFIER_CHARS, min_size=1, max_size=10),
)
regions = weighted(
    (3, st.sampled_from(REGIONS)),
    (1, st.just("")),
    (1, st.sampled_from(REGIONS).map(str.upper)),
    (1, st.sampled_from(REGIONS).map(str.title)),
)


@st.composite
def functions(draw: st.DrawFn, accounts: st.SearchStrategy[str]) -> Function:
    name = draw(function_names)
    qualifier = draw(st.one_of(st.just(""), qualifiers.map(lambda q: ":" + q)))
    kind = draw(st.sampled_from(["full-arn"] * 4 + ["bare", "partial-arn"]))
    if kind == "bare":
        return Function(name + qualifier, None)
    account = draw(accounts)
    if kind == "partial-arn":
        return Function(f"{account}:function:{name}{qualifier}", None)
    # The aws partition weighted up: it is the only one the rule reads a function account from.
    partition = draw(st.sampled_from(("aws",) * 6 + PARTITIONS))
    region = draw(regions)
    arn = f"arn:{partition}:lambda:{region}:{account}:function:{name}{qualifier}"
    parsed = partition == "aws" and re.fullmatch(r"[a-z0-9-]*", region) is not None
    return Function(arn, account_or_none(account) if parsed else None)


@st.composite
def invocation_batches(draw: st.DrawFn) -> list[tuple[Principal, Function]]:
    # A few accounts shared by callers and functions, so same-account pairs come up often too.
    accounts = st.sampled_from(draw(st.lists(account_ids, min_size=2, max_size=4)))
    callers = draw(st.lists(principals(accounts), min_size=2, max_size=5))
    targets = draw(st.lists(functions(accounts), min_size=2, max_size=5))
    pair = st.tuples(st.sampled_from(callers), st.sampled_from(targets))
    return draw(st.lists(pair, min_size=4, max_size=30))


def event_time(index: int) -> str:
    return (START + timedelta(seconds=index)).strftime("%Y-%m-%dT%H:%M:%SZ")


def events_for(pairs: list[tuple[Principal, Function]]) -> list[dict[str, Any]]:
    return [
        invoke(principal.arn, function.name, time=event_time(i), ip=SOURCE_IP, event_id=f"e-{i}")
        for i, (principal, function) in enumerate(pairs)
    ]


def expected_alerts(pairs: list[tuple[Principal, Function]]) -> list[dict[str, Any]]:
    """What the rule must raise, from the generator's truth alone."""
    groups: dict[tuple[str, str, str], list[tuple[int, str]]] = defaultdict(list)
    for i, (principal, function) in enumerate(pairs):
        if principal.account and function.account and principal.account != function.account:
            groups[(principal.arn, principal.account, function.account)].append((i, function.name))
    return [
        {
            "user_identity_arn": arn,
            "caller_account": caller,
            "function_account": owner,
            # invoke() puts the function name it was given into resources[].ARN.
            "function_arns": sorted({name for _, name in events}),
            "invocation_count": len(events),
            "source_ips": [SOURCE_IP],
            "first_seen": event_time(min(i for i, _ in events)),
            "last_seen": event_time(max(i for i, _ in events)),
        }
        for (arn, caller, owner), events in sorted(groups.items())
    ]


def scan_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as folder:
        path = write_ndjson(Path(folder) / "events.ndjson", events)
        report = scan_paths(path, rule_names=[RULE_ID])
    assert report.unreadable == [] and report.skipped_records == []
    assert report.events_read == len(events)
    return rule_columns(report.alerts)


THIRTEEN_DIGIT_CALLER = Principal("arn:aws:iam::4444555566660:user/alice", None)
LEADING_ZERO_CALLER = Principal("arn:aws:sts::000000000001:assumed-role/Deploy/s-1", "000000000001")
GOV_SSO_CALLER = Principal(
    "arn:aws-us-gov:iam::444455556666:role/aws-reserved/sso.amazonaws.com/us-gov-west-1/"
    "AWSReservedSSO_Admin_0123456789abcdef",
    "444455556666",
)
LEADING_ZERO_FUNCTION = Function("arn:aws:lambda:us-east-1:012345678901:function:f:$LATEST", "012345678901")
CN_FUNCTION = Function("arn:aws-cn:lambda:cn-north-1:111122223333:function:f", None)
PARTIAL_ARN_FUNCTION = Function("111122223333:function:f:live", None)
THIRTEEN_DIGIT_FUNCTION = Function("arn:aws:lambda:us-east-1:1111222233334:function:f", None)


@given(pairs=invocation_batches())
@example(pairs=[(THIRTEEN_DIGIT_CALLER, LEADING_ZERO_FUNCTION)])
@example(pairs=[(LEADING_ZERO_CALLER, LEADING_ZERO_FUNCTION), (LEADING_ZERO_CALLER, CN_FUNCTION)])
@example(pairs=[(GOV_SSO_CALLER, PARTIAL_ARN_FUNCTION), (GOV_SSO_CALLER, THIRTEEN_DIGIT_FUNCTION)])
@example(pairs=[(GOV_SSO_CALLER, LEADING_ZERO_FUNCTION)] * 3 + [(LEADING_ZERO_CALLER, LEADING_ZERO_FUNCTION)])
def test_alerts_are_exactly_the_cross_account_pairs_the_generated_accounts_imply(pairs):
    assert scan_events(events_for(pairs)) == expected_alerts(pairs)


CALLER = "arn:aws:sts::444455556666:assumed-role/ExternalRole/s"
OWNED_FUNCTION = "arn:aws:lambda:us-east-1:111122223333:function:f"


@pytest.mark.parametrize(
    ("principal", "function", "accounts"),
    [
        pytest.param("arn:aws:iam::4444555566660:root", OWNED_FUNCTION, None, id="13-digit-caller-id"),
        pytest.param("arn:aws:iam::44445555666:root", OWNED_FUNCTION, None, id="11-digit-caller-id"),
        pytest.param("arn:aws:iam::anonymous:user/123456789012", OWNED_FUNCTION, None, id="12-digit-user-name"),
        pytest.param(
            "arn:aws:sts::000000000001:federated-user/bob",
            "arn:aws:lambda:eu-west-1:012345678901:function:f:23",
            ("000000000001", "012345678901"),
            id="leading-zeros-kept",
        ),
        pytest.param(
            "arn:aws-iso-b:sts::444455556666:assumed-role/R/s",
            OWNED_FUNCTION,
            ("444455556666", "111122223333"),
            id="caller-in-iso-b-partition",
        ),
        pytest.param(CALLER, "arn:aws-cn:lambda:cn-north-1:111122223333:function:f", None, id="aws-cn-function"),
        pytest.param(CALLER, "arn:aws-us-gov:lambda:us-gov-west-1:111122223333:function:f", None, id="gov-function"),
        pytest.param(CALLER, "111122223333:function:f", None, id="partial-arn"),
        pytest.param(CALLER, "f:live", None, id="name-with-qualifier"),
        pytest.param(CALLER, "arn:aws:lambda:us-east-1:1111222233334:function:f", None, id="13-digit-function-id"),
        pytest.param(CALLER, "arn:aws:lambda:US-EAST-1:111122223333:function:f", None, id="upper-case-region"),
        pytest.param(
            CALLER, "arn:aws:lambda::111122223333:function:f", ("444455556666", "111122223333"), id="empty-region"
        ),
    ],
)
def test_nasty_account_ids_parse_as_upstream_does(principal, function, accounts):
    alerts = scan_events([invoke(principal, function)])
    got = [(a["caller_account"], a["function_account"]) for a in alerts]
    assert got == ([] if accounts is None else [accounts])
