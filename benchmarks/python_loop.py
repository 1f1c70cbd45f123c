"""The baseline: the same rule as a plain Python loop over the files with the json module.

    python benchmarks/python_loop.py PATH...

Reads the files named, and walks the folders named (skipping the CloudTrail-Digest/-Insight/
-NetworkActivity folders; the benchmark names the files ducktrail reads instead). A file holds
{"Records": [...]} values or one event per line, as ducktrail reads them. It applies Elastic's
pipeline shaping and the upstream rule to each record, and prints the alerts as ducktrail's JSON
would (the rule's columns), so the benchmark can check that both agree before comparing speed.
"""

from __future__ import annotations

import gzip
import ipaddress
import json
import os
import re
import sys

SKIP = ("CloudTrail-Digest", "CloudTrail-Insight", "CloudTrail-NetworkActivity")
EMPTY = (None, "", "-", "none")
CALLER = re.compile(r":([0-9]{12}):")
FUNCTION = re.compile(r"^arn:aws:lambda:[a-z0-9-]*:([0-9]{12}):")


def files(paths):
    for path in paths:
        if not os.path.isdir(path):
            yield path
            continue
        for folder, subfolders, names in os.walk(path):
            subfolders[:] = sorted(d for d in subfolders if d not in SKIP)
            for name in sorted(names):
                if name.endswith((".json", ".json.gz")):
                    yield os.path.join(folder, name)


def records(path):
    """The events of one file: each {"Records": [...]} value's records, any other value itself."""
    opener = gzip.open if path.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        text = handle.read()
    try:
        values = [json.loads(text)]
    except json.JSONDecodeError:
        values = [json.loads(line) for line in text.splitlines() if line.strip()]
    for value in values:
        if isinstance(value, dict) and isinstance(value.get("Records"), list):
            yield from value["Records"]
        else:
            yield value


def present(value):
    return None if value in EMPTY or value == {} or value == [] else value


def is_ip(value):
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def main(paths):
    groups = {}
    for path in files(paths):
        for r in records(path):
            if not isinstance(r, dict) or present(r.get("eventSource")) != "lambda.amazonaws.com":
                continue
            name = present(r.get("eventName"))
            if not (isinstance(name, str) and name.startswith("Invoke")):
                continue
            if present(r.get("errorCode")) is not None or present(r.get("errorMessage")) is not None:
                continue
            identity = r.get("userIdentity") or {}
            arn = present(identity.get("arn"))
            if arn is None or present(identity.get("invokedBy")) is not None:
                continue
            params = present(r.get("requestParameters"))
            if params is None:
                continue
            caller = CALLER.search(arn)
            function = FUNCTION.search(str(params.get("functionName") or "")) if isinstance(params, dict) else None
            if caller is None or function is None or caller.group(1) == function.group(1):
                continue
            key = (arn, caller.group(1), function.group(1))
            group = groups.setdefault(key, {"count": 0, "ips": set(), "arns": set(), "times": []})
            group["count"] += 1
            address = present(r.get("sourceIPAddress"))
            if isinstance(address, str) and is_ip(address):
                group["ips"].add(address)
            for resource in r.get("resources") or []:
                if isinstance(resource, dict) and present(resource.get("ARN")) is not None:
                    group["arns"].add(resource["ARN"])
            if r.get("eventTime"):
                group["times"].append(r["eventTime"])
    alerts = [
        {
            "user_identity_arn": arn,
            "caller_account": caller,
            "function_account": function,
            "function_arns": sorted(g["arns"]),
            "invocation_count": g["count"],
            "source_ips": sorted(g["ips"]),
            "first_seen": min(g["times"]) if g["times"] else None,
            "last_seen": max(g["times"]) if g["times"] else None,
        }
        for (arn, caller, function), g in sorted(groups.items())
    ]
    json.dump(alerts, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
