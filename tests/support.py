"""Helpers the tests share: writing CloudTrail files and scanning them through the library."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from ducktrail.pack.loader import Pack, load_pack
from ducktrail.scan import ScanReport, scan

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
RULE_ID = "aws-lambda-function-invoked-cross-account"
ALERT_KEYS = (
    "user_identity_arn",
    "caller_account",
    "function_account",
    "function_arns",
    "invocation_count",
    "source_ips",
    "first_seen",
    "last_seen",
)

_PACK: Pack | None = None


def newest_version() -> int:
    """The bundled rule's newest released version, the one a scan runs unless told otherwise."""
    return pack().find(RULE_ID).version


def newest_sql() -> str:
    """The SQL text of that version, which tests copy into drafts."""
    return pack().find(RULE_ID).sql().sql


def pack() -> Pack:
    global _PACK
    if _PACK is None:
        _PACK = load_pack()
    return _PACK


def write_trail_file(path: Path, events: list[Any], *, compress: bool | None = None, indent: int | None = None) -> Path:
    """A {"Records": [...]} file; gzipped when the name ends in .gz (or `compress` says so)."""
    data = json.dumps({"Records": events}, indent=indent).encode()
    return _write(path, data, path.name.endswith(".gz") if compress is None else compress)


def write_ndjson(path: Path, events: list[Any], *, compress: bool | None = None) -> Path:
    data = "".join(json.dumps(e) + "\n" for e in events).encode()
    return _write(path, data, path.name.endswith(".gz") if compress is None else compress)


def _write(path: Path, data: bytes, compress: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return path


def scan_paths(*paths: Path | str, **options: Any) -> ScanReport:
    return scan([str(p) for p in paths], pack(), **options)


def rule_columns(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Alerts cut down to the rule's own columns, for comparing with expected alerts."""
    return [{key: alert[key] for key in ALERT_KEYS} for alert in alerts]


def invoke(
    principal: str | None = "arn:aws:sts::444455556666:assumed-role/ExternalRole/s",
    function: str = "arn:aws:lambda:us-east-1:111122223333:function:f",
    *,
    time: str = "2026-11-01T01:00:00Z",
    ip: str = "203.0.113.50",
    event_id: str = "e-1",
    **extra: Any,
) -> dict[str, Any]:
    """A successful Lambda Invoke data event, with whatever changes a test needs."""
    identity: dict[str, Any] = {"type": "AssumedRole"}
    if principal is not None:
        identity["arn"] = principal
    event: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": time,
        "eventSource": "lambda.amazonaws.com",
        "eventName": "Invoke",
        "awsRegion": "us-east-1",
        "sourceIPAddress": ip,
        "requestParameters": {"functionName": function, "invocationType": "RequestResponse"},
        "resources": [{"accountId": "111122223333", "type": "AWS::Lambda::Function", "ARN": function}],
        "eventID": event_id,
        "eventCategory": "Data",
    }
    event.update(extra)
    return event
