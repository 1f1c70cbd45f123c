"""A plain-Python model of what Elastic does with a CloudTrail record and the upstream rule.

Written from shared/reference/cloudtrail-facts.md section 1, independently of the SQL: the
ingest pipeline (drop empty values recursively, outcome from errorCode/errorMessage,
requestParameters rendered as a Java Map.toString() string, source.ip only for IP addresses)
and then the ES|QL query (grok on the rendered strings, STATS ... BY). Tests compare ducktrail
with it on generated events.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from datetime import UTC, datetime
from typing import Any

EMPTY = (None, "", "-", "none")


def drop_empty(value: Any) -> Any:
    """The pipeline's recursive drop: null, "" ("-", "none" in newest versions), then {} and []."""
    if isinstance(value, dict):
        kept = {k: drop_empty(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if not _empty(v)}
    if isinstance(value, list):
        kept_list = [drop_empty(v) for v in value]
        return [v for v in kept_list if not _empty(v)]
    return value


def _empty(value: Any) -> bool:
    return (not isinstance(value, bool)) and (value in EMPTY or value == {} or value == [])


def java_to_string(value: Any) -> str:
    """How Painless renders a parsed JSON value with toString()."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={java_to_string(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(java_to_string(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def is_ip(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def ingest(record: dict[str, Any]) -> dict[str, Any]:
    """The ECS fields the rule reads, as the pipeline would set them."""
    doc = drop_empty(record)
    identity = doc.get("userIdentity") or {}
    params = doc.get("requestParameters")
    address = doc.get("sourceIPAddress")
    resources = doc.get("resources") or []
    return {
        "event.provider": doc.get("eventSource"),
        "event.action": doc.get("eventName"),
        "event.outcome": "failure" if ("errorCode" in doc or "errorMessage" in doc) else "success",
        "aws.cloudtrail.user_identity.arn": identity.get("arn"),
        "aws.cloudtrail.user_identity.invoked_by": identity.get("invokedBy"),
        "aws.cloudtrail.request_parameters": java_to_string(params) if params is not None else None,
        "source.ip": address if is_ip(address) else None,
        "aws.cloudtrail.resources.arn": sorted({r["ARN"] for r in resources if isinstance(r, dict) and "ARN" in r}),
        "@timestamp": doc.get("eventTime"),
    }


CALLER = re.compile(r":(?P<caller>[0-9]{12}):")
FUNCTION = re.compile(r"functionName=arn:aws:lambda:[a-z0-9-]*:(?P<function>[0-9]{12}):")


def rule(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The upstream ES|QL over the ingested records, with lists sorted and [] for no value."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for doc in map(ingest, records):
        if not (
            doc["event.provider"] == "lambda.amazonaws.com"
            and isinstance(doc["event.action"], str)
            and fnmatch.fnmatchcase(doc["event.action"], "Invoke*")
            and doc["event.outcome"] == "success"
            and doc["aws.cloudtrail.user_identity.arn"] is not None
            and doc["aws.cloudtrail.user_identity.invoked_by"] is None
            and doc["aws.cloudtrail.request_parameters"] is not None
        ):
            continue
        caller = CALLER.search(doc["aws.cloudtrail.user_identity.arn"])
        function = FUNCTION.search(doc["aws.cloudtrail.request_parameters"])
        if caller is None or function is None or caller["caller"] == function["function"]:
            continue
        key = (doc["aws.cloudtrail.user_identity.arn"], caller["caller"], function["function"])
        groups.setdefault(key, []).append(doc)
    alerts = []
    for (arn, caller, function), docs in sorted(groups.items()):
        times = sorted(d["@timestamp"] for d in docs if d["@timestamp"])
        alerts.append(
            {
                "user_identity_arn": arn,
                "caller_account": caller,
                "function_account": function,
                "function_arns": sorted({a for d in docs for a in d["aws.cloudtrail.resources.arn"]}),
                "invocation_count": len(docs),
                "source_ips": sorted({d["source.ip"] for d in docs if d["source.ip"]}),
                "first_seen": times[0] if times else None,
                "last_seen": times[-1] if times else None,
            }
        )
    return alerts


def ecs_document(record: dict[str, Any], *, keep_flattened: bool = True) -> dict[str, Any]:
    """The document Elastic's CloudTrail pipeline stores for a record (the fields ducktrail maps).

    `keep_flattened=False` leaves out aws.cloudtrail.flattened, as exports of older
    integrations or trimmed field lists do, so that only the {k=v} string remains.
    """
    doc = drop_empty(record)
    identity = doc.get("userIdentity") or {}
    issuer = ((identity.get("sessionContext") or {}).get("sessionIssuer")) or {}
    params = doc.get("requestParameters")
    address = doc.get("sourceIPAddress")
    resources = {}
    for resource in doc.get("resources") or []:
        renamed = {{"ARN": "arn", "accountId": "account_id"}.get(k, k): v for k, v in resource.items()}
        resources[(renamed.get("arn", ""), renamed.get("account_id", ""), renamed.get("type", ""))] = renamed
    cloudtrail: dict[str, Any] = {
        "event_version": doc.get("eventVersion"),
        "event_type": doc.get("eventType"),
        "event_category": doc.get("eventCategory"),
        "user_identity": {
            "type": identity.get("type"),
            "arn": identity.get("arn"),
            "invoked_by": identity.get("invokedBy"),
            "access_key_id": identity.get("accessKeyId"),
            "session_context": {"session_issuer": {"arn": issuer.get("arn")}},
        },
        "request_parameters": java_to_string(params) if params is not None else None,
        "error_code": doc.get("errorCode"),
        "error_message": doc.get("errorMessage"),
        "resources": list(resources.values()),
        "request_id": doc.get("requestID"),
        "recipient_account_id": doc.get("recipientAccountId"),
        "shared_event_id": doc.get("sharedEventID"),
    }
    if keep_flattened and isinstance(params, dict) and len(cloudtrail["request_parameters"]) < 32766:
        cloudtrail["flattened"] = {"request_parameters": params}
    event_time = doc.get("eventTime")
    document = {
        "@timestamp": elastic_timestamp(event_time),
        "event": {
            "provider": doc.get("eventSource"),
            "action": doc.get("eventName"),
            "id": doc.get("eventID"),
            "kind": "event",
            "outcome": "failure" if ("errorCode" in doc or "errorMessage" in doc) else "success",
        },
        "aws": {"cloudtrail": cloudtrail},
        "source": {"address": address, "ip": address if is_ip(address) else None},
        "cloud": {"region": doc.get("awsRegion"), "account": {"id": identity.get("accountId")}},
        "user": {"id": identity.get("principalId")},
        "user_agent": {"original": doc.get("userAgent")},
    }
    return drop_empty(document)


def elastic_timestamp(event_time: Any) -> Any:
    """@timestamp as the pipeline's date processor writes it: the instant in UTC, to the
    millisecond; a time it cannot read stays as it was.

    >>> elastic_timestamp("2026-11-01T10:30:00.123456+01:00")
    '2026-11-01T09:30:00.123Z'
    >>> elastic_timestamp("yesterday")
    'yesterday'
    """
    if not isinstance(event_time, str):
        return None
    try:
        instant = datetime.fromisoformat(event_time)
    except ValueError:
        return event_time
    if instant.tzinfo is not None:
        instant = instant.astimezone(UTC).replace(tzinfo=None)
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"
