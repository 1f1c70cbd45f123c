"""Generate a synthetic CloudTrail S3 tree for the benchmark, deterministically from a seed.

    python benchmarks/generate.py OUT --events 500000 [--seed 20261128] [--jobs N]

Layout and shape follow what AWS delivers: AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/
<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<random>.json.gz, one {"Records": [...]} object
per file, 5,000 events per file, about 1.2 KB per event, gzip level 6. The mix: S3, EC2, STS,
IAM, KMS, DynamoDB, CloudWatch Logs and Lambda events with service-specific requestParameters;
3% are Lambda Invoke data events, a fifth of those from another account (so some alert), some
invoked by AWS services, some failing. A digest file per account and day sits beside them.
The same seed and size always give byte-identical files.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

EVENTS_PER_FILE = 5000
DEFAULT_SEED = 20261128
ACCOUNTS = [f"{n:012d}" for n in (111122223333, 222233334444, 12345678901, 987654321098)]
EXTERNAL = [f"{n:012d}" for n in (444455556666, 555566667777, 9876543210)]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
ROLES = ["AppRole", "DeployRole", "ReadOnly", "DataPipeline", "Admin", "Billing"]
FUNCTIONS = ["payments-export", "report-builder", "ledger-close", "image-resize", "audit-hook"]
USER_AGENTS = [
    "aws-cli/2.15.30 md/Botocore#1.34.68 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.8",
    "Boto3/1.34.68 md/Botocore#1.34.68 ua/2.0 os/linux#5.10 md/arch#x86_64 lang/python#3.12.2",
    "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/s3#1.53.0",
    "console.amazonaws.com",
]


def stable(*parts: str) -> int:
    """A 16-digit number fixed by its inputs (Python's hash() changes between processes)."""
    return int(zlib.crc32("/".join(parts).encode())) * 1_000_003 % 10**16


def uid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def ip(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.1:
        return rng.choice(["AWS Internal", "lambda.amazonaws.com", "s3.amazonaws.com"])
    if roll < 0.15:
        return f"2600:1f18:{rng.randrange(65536):x}:{rng.randrange(65536):x}::{rng.randrange(65536):x}"
    return f"{rng.choice([10, 172, 198, 203])}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def identity(rng: random.Random, account: str) -> dict:
    # Real trails repeat a modest set of sessions, which is what keeps them compressible.
    role = rng.choice(ROLES)
    session = f"session-{rng.randrange(300):06d}"
    return {
        "type": "AssumedRole",
        "principalId": f"AROA{stable(account, role):016d}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
        "accountId": account,
        "accessKeyId": f"ASIA{stable(account, session):016d}",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": f"AROA{stable(account, role):016d}",
                "arn": f"arn:aws:iam::{account}:role/{role}",
                "accountId": account,
                "userName": role,
            },
            "attributes": {"creationDate": "2026-11-01T00:00:00Z", "mfaAuthenticated": "false"},
        },
    }


def service_call(rng: random.Random, account: str, region: str) -> tuple[str, str, dict, list | None, str]:
    roll = rng.random()
    bucket = f"data-{account[-4:]}-{rng.randrange(20)}"
    if roll < 0.30:
        name = rng.choice(["GetObject", "PutObject", "HeadObject"])
        key = f"exports/{rng.randrange(2026)}/{rng.randrange(10**8):08d}.parquet"
        params = {"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com", "key": key}
        resources = [
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
            {"accountId": account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
        ]
        return "s3.amazonaws.com", name, params, resources, "Data"
    if roll < 0.50:
        name = rng.choice(["DescribeInstances", "DescribeVolumes", "DescribeSecurityGroups"])
        params = {"instancesSet": {"items": [{"instanceId": f"i-{rng.getrandbits(64):017x}"[:19]}]}, "filterSet": {}}
        return "ec2.amazonaws.com", name, params, None, "Management"
    if roll < 0.62:
        role = rng.choice(ROLES)
        params = {
            "roleArn": f"arn:aws:iam::{account}:role/{role}",
            "roleSessionName": f"session-{rng.randrange(10**6)}",
            "durationSeconds": 3600,
        }
        return (
            "sts.amazonaws.com",
            "AssumeRole",
            params,
            [{"accountId": account, "type": "AWS::IAM::Role", "ARN": params["roleArn"]}],
            "Management",
        )
    if roll < 0.72:
        params = {
            "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "encryptionContext": {"aws:s3:arn": f"arn:aws:s3:::{bucket}"},
        }
        key = f"arn:aws:kms:{region}:{account}:key/{uid(rng)}"
        return (
            "kms.amazonaws.com",
            "Decrypt",
            params,
            [{"accountId": account, "type": "AWS::KMS::Key", "ARN": key}],
            "Management",
        )
    if roll < 0.82:
        table = f"orders-{rng.randrange(5)}"
        params = {
            "tableName": table,
            "key": {"pk": {"S": f"order#{rng.randrange(10**7)}"}},
            "consistentRead": rng.random() < 0.5,
        }
        return "dynamodb.amazonaws.com", "GetItem", params, None, "Data"
    if roll < 0.90:
        params = {"maxItems": 100, "pathPrefix": "/"}
        return "iam.amazonaws.com", rng.choice(["ListRoles", "ListUsers", "GetRole"]), params, None, "Management"
    params = {"logGroupName": f"/aws/lambda/{rng.choice(FUNCTIONS)}", "logStreamName": uid(rng), "startFromHead": False}
    return "logs.amazonaws.com", "GetLogEvents", params, None, "Management"


def event(rng: random.Random, account: str, region: str, stamp: str) -> dict:
    time = f"{stamp}:{rng.randrange(60):02d}Z"
    base = {
        "eventVersion": "1.09",
        "eventTime": time,
        "awsRegion": region,
        "sourceIPAddress": ip(rng),
        "userAgent": rng.choice(USER_AGENTS),
        "requestID": uid(rng),
        "eventID": uid(rng),
        "readOnly": True,
        "eventType": "AwsApiCall",
        "recipientAccountId": account,
    }
    if rng.random() < 0.03:
        caller = rng.choice(EXTERNAL) if rng.random() < 0.2 else account
        function = f"arn:aws:lambda:{region}:{account}:function:{rng.choice(FUNCTIONS)}"
        qualifier = rng.choice(["", "", ":live", ":$LATEST"])
        record = {
            **base,
            "userIdentity": identity(rng, caller),
            "eventSource": "lambda.amazonaws.com",
            "eventName": rng.choice(["Invoke", "Invoke", "Invoke", "InvokeWithResponseStream"]),
            "requestParameters": {
                "functionName": function + qualifier,
                "invocationType": rng.choice(["RequestResponse", "Event"]),
                "logType": "None",
            },
            "responseElements": None,
            "additionalEventData": {"functionVersion": f"{function}:$LATEST"},
            "resources": [{"accountId": account, "type": "AWS::Lambda::Function", "ARN": function}],
            "managementEvent": False,
            "eventCategory": "Data",
            "sharedEventID": uid(rng),
        }
        roll = rng.random()
        if roll < 0.1:
            record["userIdentity"]["invokedBy"] = "states.amazonaws.com"
        elif roll < 0.15:
            record["errorCode"] = "AccessDeniedException"
            record["errorMessage"] = "User is not authorized to perform: lambda:InvokeFunction"
        return record
    source, name, params, resources, category = service_call(rng, account, region)
    record = {
        **base,
        "userIdentity": identity(rng, account),
        "eventSource": source,
        "eventName": name,
        "requestParameters": params,
        "responseElements": None,
        "managementEvent": category == "Management",
        "eventCategory": category,
    }
    if resources:
        record["resources"] = resources
    if rng.random() < 0.02:
        record["errorCode"] = "AccessDenied"
        record["errorMessage"] = "Access Denied"
    return record


def write_file(args: tuple[str, int, int]) -> str:
    out, seed, index = args
    rng = random.Random(f"{seed}:{index}")
    account = ACCOUNTS[index % len(ACCOUNTS)]
    region = REGIONS[(index // len(ACCOUNTS)) % len(REGIONS)]
    day = 1 + (index // 96) % 28
    minute = (index * 5) % 1440
    stamp = f"2026-11-{day:02d}T{minute // 60:02d}:{minute % 60:02d}"
    records = [event(rng, account, region, stamp) for _ in range(EVENTS_PER_FILE)]
    folder = Path(out, "AWSLogs", account, "CloudTrail", region, "2026", "11", f"{day:02d}")
    folder.mkdir(parents=True, exist_ok=True)
    delivered = f"202611{day:02d}T{minute // 60:02d}{minute % 60:02d}Z"
    name = f"{account}_CloudTrail_{region}_{delivered}_{rng.getrandbits(64):016x}.json.gz"
    data = json.dumps({"Records": records}, separators=(",", ":")).encode()
    with (
        open(folder / name, "wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0, filename="") as gz,
    ):
        gz.write(data)
    if index % 96 == 0:
        digest = Path(out, "AWSLogs", account, "CloudTrail-Digest", region, "2026", "11", f"{day:02d}")
        digest.mkdir(parents=True, exist_ok=True)
        body = {
            "awsAccountId": account,
            "digestStartTime": f"{stamp}:00Z",
            "digestEndTime": f"{stamp}:00Z",
            "logFiles": [],
        }
        path = digest / f"{account}_CloudTrail-Digest_{region}_trail_{region}_202611{day:02d}T000000Z.json.gz"
        path.write_bytes(gzip.compress(json.dumps(body).encode(), mtime=0))
    return str(folder / name)


def generate(out: str, events: int, seed: int = DEFAULT_SEED, jobs: int | None = None) -> list[str]:
    files = max(1, events // EVENTS_PER_FILE)
    with ProcessPoolExecutor(max_workers=jobs or os.cpu_count()) as pool:
        return list(pool.map(write_file, [(out, seed, i) for i in range(files)], chunksize=4))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("out", help="folder to write the AWSLogs/ tree into")
    parser.add_argument(
        "--events", type=int, default=500_000, help=f"events in all, {EVENTS_PER_FILE:,} per file (%(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="the same seed and size give the same files (%(default)s)"
    )
    parser.add_argument("--jobs", type=int, default=None, help="processes writing files (default: one per core)")
    args = parser.parse_args()
    files = generate(args.out, args.events, args.seed, args.jobs)
    print(f"wrote {len(files)} files, {len(files) * EVENTS_PER_FILE} events under {args.out}")


if __name__ == "__main__":
    main()
