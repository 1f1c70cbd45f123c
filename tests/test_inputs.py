"""How inputs are found and how bad input is reported, through the library (ducktrail.scan)."""

from __future__ import annotations

import gzip
import json
import os
from datetime import datetime
from pathlib import Path

import pytest

from ducktrail.engine.duckdb_scan import DuckDBEngine
from ducktrail.errors import InputError, UsageError
from ducktrail.sqlfiles import sql_root
from tests.support import FIXTURES, invoke, scan_paths, write_ndjson, write_trail_file

ACCOUNT = "111122223333"
DAY = "2026/11/01"
EXTERNAL = "arn:aws:sts::444455556666:assumed-role/ExternalRole/s"


def caller(name: str) -> str:
    """A cross-account principal whose alerts can be told apart from every other test event's."""
    return f"arn:aws:iam::444455556666:user/{name}"


def alerting(name: str, count: int = 1, *, first_id: int = 0) -> list[dict]:
    return [invoke(caller(name), event_id=f"{name}-{first_id + i}") for i in range(count)]


def principals(report) -> list[str]:
    return [alert["user_identity_arn"] for alert in report.alerts]


def trail_key(
    root: Path, account: str = ACCOUNT, region: str = "us-east-1", *, folder: str = "CloudTrail", org: str | None = None
) -> Path:
    """Where S3 delivery puts a file: AWSLogs/[<o-id>/]<acct>/<folder>/<region>/YYYY/MM/DD/<name>.

    The name is always a CloudTrail/ one, so that only the folder can tell a sibling file apart.
    """
    base = root / "AWSLogs"
    if org:
        base = base / org
    name = f"{account}_CloudTrail_{region}_20261101T0100Z_a1b2c3d4.json.gz"
    return base / account / folder / region / DAY / name


# --- discovery ---------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["CloudTrail-Digest", "CloudTrail-Insight", "CloudTrail-NetworkActivity"])
def test_sibling_trail_folders_are_skipped_with_their_reason(tmp_path, folder):
    # The sibling file holds alerting Lambda records: were it read, its principal would alert.
    write_trail_file(trail_key(tmp_path), alerting("api-caller"))
    sibling = write_trail_file(trail_key(tmp_path, folder=folder), alerting("sibling-caller"))

    report = scan_paths(tmp_path / "AWSLogs")

    assert principals(report) == [caller("api-caller")]
    assert report.files_read == 1
    assert report.events_read == 1
    assert [(s.path, s.reason) for s in report.skipped_files] == [(str(sibling), f"{folder} file")]


@pytest.mark.parametrize(
    "name",
    [
        "111122223333_CloudTrail-Digest_us-east-1_org-trail_us-east-1_20261101T020000Z.json.gz",
        "111122223333_CloudTrail-Insight_us-east-1_20261101T0100Z_a1b2c3d4.json.gz",
        "111122223333_CloudTrail-NetworkActivity_us-east-1_20261101T0100Z_a1b2c3d4.json.gz",
    ],
)
def test_sibling_trail_files_named_explicitly_are_skipped_by_their_name(tmp_path, name):
    # Downloaded out of their folder, only the name still says what they are.
    path = write_trail_file(tmp_path / "downloads" / name, alerting("sibling-caller"))
    kind = name.split("_")[1]

    report = scan_paths(path)

    assert report.alerts == []
    assert report.files_read == 0 and report.events_read == 0
    assert [(s.path, s.reason) for s in report.skipped_files] == [(str(path), f"{kind} file")]


def test_explicit_file_inside_a_digest_folder_is_skipped(tmp_path):
    path = write_trail_file(
        tmp_path / "AWSLogs" / ACCOUNT / "CloudTrail-Digest" / "us-east-1" / "digest.json.gz", alerting("x")
    )

    report = scan_paths(path)

    assert report.alerts == [] and report.files_read == 0
    assert [(s.path, s.reason) for s in report.skipped_files] == [(str(path), "CloudTrail-Digest file")]


@pytest.mark.parametrize(
    "name", ["notes.txt", "events.csv", "events.json.bak", "trail.log.gz", "README", "events.json.zip"]
)
def test_files_in_folders_without_a_json_suffix_are_skipped_with_a_reason(tmp_path, name):
    # Valid CloudTrail inside: skipping is by name, and reading it would raise an alert.
    write_trail_file(tmp_path / "logs" / "real.json", alerting("real-caller"))
    other = write_trail_file(tmp_path / "logs" / name, alerting("other-caller"), compress=False)

    report = scan_paths(tmp_path / "logs")

    assert principals(report) == [caller("real-caller")]
    assert report.files_read == 1
    assert len(report.skipped_files) == 1
    assert report.skipped_files[0].path == str(other)
    assert ".json" in report.skipped_files[0].reason


@pytest.mark.parametrize(
    ("name", "ndjson", "compress"),
    [
        ("a.json", False, False),
        ("a.json.gz", False, True),
        ("a.jsonl", True, False),
        ("a.jsonl.gz", True, True),
        ("a.ndjson", True, False),
        ("a.ndjson.gz", True, True),
        ("A.JSON.GZ", False, True),
    ],
)
def test_files_in_folders_with_a_json_suffix_are_read(tmp_path, name, ndjson, compress):
    writer = write_ndjson if ndjson else write_trail_file
    writer(tmp_path / "logs" / name, alerting("caller", 2), compress=compress)

    report = scan_paths(tmp_path / "logs")

    assert report.skipped_files == []
    assert report.files_read == 1 and report.events_read == 2
    assert [a["invocation_count"] for a in report.alerts] == [2]


@pytest.mark.parametrize("name", ["events.log", "export.txt", "cloudtrail-events"])
def test_explicitly_named_file_with_another_extension_is_read(tmp_path, name):
    path = write_trail_file(tmp_path / name, alerting("caller", 3), compress=False)

    report = scan_paths(path)

    assert report.skipped_files == []
    assert report.files_read == 1 and report.events_read == 3
    assert [a["invocation_count"] for a in report.alerts] == [3]


@pytest.mark.parametrize("name", ["events.json", "events.json.gz", "events.ndjson"])
def test_empty_files_are_skipped_not_failed(tmp_path, name):
    write_trail_file(tmp_path / "logs" / "real.json", alerting("caller"))
    empty = tmp_path / "logs" / name
    empty.write_bytes(b"")

    from_folder = scan_paths(tmp_path / "logs")
    named = scan_paths(empty)

    assert principals(from_folder) == [caller("caller")]
    assert [(s.path, "empty" in s.reason) for s in from_folder.skipped_files] == [(str(empty), True)]
    assert named.alerts == [] and named.files_read == 0
    assert [(s.path, "empty" in s.reason) for s in named.skipped_files] == [(str(empty), True)]


def test_same_file_given_twice_is_read_once(tmp_path):
    path = write_trail_file(tmp_path / "logs" / "a.json.gz", alerting("caller"))
    link = tmp_path / "link.json.gz"
    link.symlink_to(path)

    for given in [(path, path), (tmp_path / "logs", path), (path, tmp_path / "logs"), (path, link)]:
        report = scan_paths(*given)
        assert report.files_read == 1, given
        assert report.events_read == 1, given
        assert [a["invocation_count"] for a in report.alerts] == [1], given


def test_a_link_in_a_folder_to_a_file_already_read_is_not_read_again(tmp_path):
    path = write_trail_file(tmp_path / "logs" / "a.json.gz", alerting("caller"))
    (tmp_path / "logs" / "b.json.gz").symlink_to(path)
    (tmp_path / "logs" / "c.json.gz").symlink_to(Path("..") / "logs" / "a.json.gz")

    report = scan_paths(tmp_path / "logs")
    assert report.files_read == 1 and report.events_read == 1


def test_a_hard_link_to_a_file_already_read_is_not_read_again(tmp_path):
    path = write_trail_file(tmp_path / "logs" / "a.json.gz", alerting("caller"))
    os.link(path, tmp_path / "logs" / "b.json.gz")
    write_trail_file(tmp_path / "logs" / "c.json.gz", alerting("caller"))

    report = scan_paths(tmp_path / "logs", tmp_path / "logs" / "b.json.gz")
    assert (report.files_read, report.events_read) == (2, 2)


def test_organization_trail_layout_is_read(tmp_path):
    org = "o-a1b2c3d4e5"
    write_trail_file(trail_key(tmp_path, "222233334444", "eu-west-1", org=org), alerting("org-caller"))
    write_trail_file(
        trail_key(tmp_path, "222233334444", "eu-west-1", org=org, folder="CloudTrail-Digest"), alerting("digest")
    )

    report = scan_paths(tmp_path / "AWSLogs")

    assert principals(report) == [caller("org-caller")]
    assert report.files_read == 1 and report.events_read == 1
    assert [s.reason for s in report.skipped_files] == ["CloudTrail-Digest file"]


def test_directory_walk_order_is_sorted_whatever_the_creation_order(tmp_path):
    # Every file is broken, so keep_going lists them all in the order they were taken.
    leaves = ["A/x.json", "a/m/y.json", "a/n/z.json", "b/10.json", "b/2.json", "c/1.ndjson"]
    for leaf in reversed(leaves):
        (tmp_path / leaf).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / leaf).write_text('{"Records": [')
    empties = ["b/0-empty.json", "a/m/0-empty.json"]
    for leaf in empties:
        (tmp_path / leaf).write_bytes(b"")

    first = scan_paths(tmp_path, keep_going=True)
    second = scan_paths(tmp_path, keep_going=True)

    assert [p.path for p in first.unreadable] == [str(tmp_path / leaf) for leaf in leaves]
    assert [s.path for s in first.skipped_files] == [
        str(tmp_path / "a/m/0-empty.json"),
        str(tmp_path / "b/0-empty.json"),
    ]
    assert [(p.path, p.message, p.record) for p in second.unreadable] == [
        (p.path, p.message, p.record) for p in first.unreadable
    ]
    assert second.skipped_files == first.skipped_files


# --- shapes that load --------------------------------------------------------------------------

TWO_INVOKES = alerting("shape-caller", 2)


def write_pretty(path):
    return write_trail_file(path / "a.json", TWO_INVOKES, indent=2)


def write_compact(path):
    return write_trail_file(path / "a.json", TWO_INVOKES)


def write_pretty_gz(path):
    return write_trail_file(path / "a.json.gz", TWO_INVOKES, indent=4)


def write_compact_gz(path):
    return write_trail_file(path / "a.json.gz", TWO_INVOKES)


def write_plain_ndjson(path):
    return write_ndjson(path / "a.ndjson", TWO_INVOKES)


def write_ndjson_gz(path):
    return write_ndjson(path / "a.ndjson.gz", TWO_INVOKES)


def write_ndjson_crlf_blank_lines(path):
    target = path / "a.jsonl"
    path.mkdir()
    target.write_bytes(b"\r\n".join([b""] + [json.dumps(e).encode() for e in TWO_INVOKES] + [b"", b""]))
    return target


@pytest.mark.parametrize(
    "write",
    [
        write_pretty,
        write_compact,
        write_pretty_gz,
        write_compact_gz,
        write_plain_ndjson,
        write_ndjson_gz,
        write_ndjson_crlf_blank_lines,
    ],
)
def test_cloudtrail_shapes_load_with_the_same_alert(tmp_path, write):
    reference = scan_paths(write_compact(tmp_path / "reference"))
    path = write(tmp_path / "shape")

    report = scan_paths(path)

    assert report.files_read == 1 and report.events_read == 2
    assert report.unreadable == [] and report.skipped_records == []
    assert report.alerts == reference.alerts
    assert [a["invocation_count"] for a in report.alerts] == [2]


@pytest.mark.parametrize("compress", [False, True])
def test_empty_records_list_reads_zero_events_without_error(tmp_path, compress):
    path = write_trail_file(tmp_path / ("a.json.gz" if compress else "a.json"), [])

    report = scan_paths(path)

    assert report.alerts == []
    assert report.files_read == 1 and report.events_read == 0
    assert report.unreadable == [] and report.skipped_records == [] and report.skipped_files == []


@pytest.mark.parametrize(
    ("compress", "separator"),
    [(False, ",\n"), (True, ",\n"), (True, ",")],
    ids=["plain", "gzipped", "gzipped_one_line"],
)
def test_whole_50mb_trail_file_is_read(tmp_path, compress, separator):
    # AWS caps a delivered file at about 50 MB uncompressed, far above DuckDB's default 16 MB
    # object limit; one event repeated with distinct eventIDs builds such a file quickly. On one
    # line, as S3 delivers it, it is too long to be read by line (32 MiB) and is read the general way.
    template = json.loads((FIXTURES / "cases" / "cross_account_invoke_alerts" / "events.json").read_text())["Records"][
        0
    ]
    head, tail = json.dumps(dict(template, eventID="@ID@")).split("@ID@")
    record_size = len(head) + len(tail) + 36 + len(separator)
    count = 50 * 1024 * 1024 // record_size + 1
    text = '{"Records": [' + separator.join(f"{head}{i:036d}{tail}" for i in range(count)) + "]}"
    assert len(text) >= 50 * 1024 * 1024
    path = tmp_path / ("big.json.gz" if compress else "big.json")
    data = text.encode()
    path.write_bytes(gzip.compress(data, compresslevel=1, mtime=0) if compress else data)

    report = scan_paths(path)

    assert report.unreadable == []
    assert report.files_read == 1
    assert report.events_read == count
    assert [a["invocation_count"] for a in report.alerts] == [count]
    assert report.alerts[0]["user_identity_arn"] == template["userIdentity"]["arn"]


# --- bad input ---------------------------------------------------------------------------------

EVENT = invoke(EXTERNAL, event_id="bad-input-event")
TRAIL_BYTES = json.dumps({"Records": [EVENT, dict(EVENT, eventID="bad-input-event-2")]}).encode()
TRAIL_GZ = gzip.compress(TRAIL_BYTES, mtime=0)


def test_missing_path_is_an_input_error_naming_it(tmp_path):
    good = write_trail_file(tmp_path / "a.json", alerting("caller"))
    missing = tmp_path / "no-such-dir" / "b.json"

    with pytest.raises(InputError) as raised:
        scan_paths(good, missing)

    assert raised.value.path == str(missing)
    assert "no such file" in raised.value.message


# Each: file name, bytes, words the message must hold. Names avoid words the engine's messages
# are searched for, so that the name cannot decide the diagnosis.
BAD_FILES = {
    "corrupt": ("corrupt.json.gz", TRAIL_GZ[:10] + bytes(20) + TRAIL_GZ[30:], ["corrupt"]),
    "truncated": ("truncated.json.gz", TRAIL_GZ[: len(TRAIL_GZ) // 2], ["truncated"]),
    "plain_named_gz": ("plain.json.gz", TRAIL_BYTES, ["plain JSON", ".gz"]),
    "random_named_gz": ("random.json.gz", b"this is neither gzip nor JSON", ["not a gzip file"]),
    "compressed_named_json": ("packed.json", TRAIL_GZ, ["compressed", "not named .gz"]),
    "compressed_named_ndjson": (
        "packed.ndjson",
        gzip.compress(b"".join(json.dumps(EVENT).encode() + b"\n" for _ in range(3)), mtime=0),
        ["not named .gz"],
    ),
    "invalid_json": ("broken.json", TRAIL_BYTES[:-40] + b"}}]}", ["not valid JSON"]),
    "cut_off_json": ("cut.json", TRAIL_BYTES[: len(TRAIL_BYTES) // 2], ["not valid JSON"]),
    "other_object": ("other.json", b'{"foo": 1}', ["not CloudTrail JSON"]),
    "null_records": ("nullrecords.json", b'{"Records": null}', ["not CloudTrail JSON"]),
    "records_object": ("recordsobject.json", b'{"Records": {"eventName": "Invoke"}}', ["not CloudTrail JSON"]),
    "top_level_array": (
        "array.json",
        json.dumps([EVENT]).encode(),
        ["not CloudTrail JSON (a JSON array at the top level"],
    ),
    "string_record": (
        "stringrecord.json",
        json.dumps({"Records": [EVENT, "oops", EVENT]}).encode(),
        ["not CloudTrail JSON"],
    ),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_file_is_an_input_error_naming_it(tmp_path, kind):
    name, data, words = BAD_FILES[kind]
    path = tmp_path / "in" / name
    path.parent.mkdir()
    path.write_bytes(data)

    with pytest.raises(InputError) as raised:
        scan_paths(path)

    assert raised.value.path == str(path)
    for word in words:
        assert word in raised.value.message, raised.value.message


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_file_among_good_ones_is_named_not_a_good_one(tmp_path, kind):
    name, data, _ = BAD_FILES[kind]
    write_trail_file(tmp_path / "in" / "0-good.json.gz", alerting("caller"))
    write_ndjson(tmp_path / "in" / "z-good.ndjson", alerting("caller"))
    path = tmp_path / "in" / name
    path.write_bytes(data)

    with pytest.raises(InputError) as raised:
        scan_paths(tmp_path / "in")

    assert raised.value.path == str(path)


def test_invalid_json_line_in_ndjson_is_located_by_record(tmp_path):
    lines = [json.dumps(e) for e in alerting("caller", 4)]
    lines[2] = lines[2][:-20]
    path = tmp_path / "a.ndjson"
    path.write_text("\n".join(lines) + "\n")

    with pytest.raises(InputError) as raised:
        scan_paths(path)

    assert raised.value.path == str(path)
    assert "not valid JSON" in raised.value.message
    assert raised.value.line == 3


def test_invalid_json_in_pretty_trail_file_points_at_the_right_record_or_line(tmp_path):
    text = json.dumps({"Records": alerting("caller", 3)}, indent=2)
    lines = text.splitlines()
    bad_line = [i for i, line in enumerate(lines) if '"eventName"' in line][1]
    lines[bad_line] = lines[bad_line].replace('"Invoke"', '"Invoke" oops')
    path = tmp_path / "a.json"
    path.write_text("\n".join(lines))

    with pytest.raises(InputError) as raised:
        scan_paths(path)

    error = raised.value
    assert "not valid JSON" in error.message
    assert (error.record, error.line) != (None, None)
    assert error.record in (None, 2)
    assert error.line in (None, bad_line + 1)


def test_a_malformed_record_is_named_past_fields_the_reader_does_not_take(tmp_path):
    # sessionContext is not read: a list there is no problem, and must not be blamed.
    odd = {**invoke(event_id="odd"), "userIdentity": {"arn": "arn:aws:iam::1:user/a", "sessionContext": []}}
    bad = {**invoke(event_id="bad"), "userIdentity": "bad"}
    path = write_trail_file(tmp_path / "a.json", [odd, bad])
    with pytest.raises(InputError) as raised:
        scan_paths(path)
    message = 'not CloudTrail JSON (Expected OBJECT, but got VARCHAR: "bad")'
    assert (raised.value.record, raised.value.message) == (2, message)


@pytest.mark.parametrize(("position", "element"), [(1, "oops"), (2, 7), (3, ["list"])])
def test_non_object_in_records_is_located_by_its_1_based_record_number(tmp_path, position, element):
    records = alerting("caller", 3)
    records.insert(position - 1, element)
    path = write_trail_file(tmp_path / "a.json.gz", records)

    with pytest.raises(InputError) as raised:
        scan_paths(path)

    assert raised.value.path == str(path)
    assert "not CloudTrail JSON" in raised.value.message
    assert raised.value.record == position


@pytest.mark.parametrize("folder", ["gzip-exports", "zlib"])
def test_diagnosis_of_invalid_json_does_not_depend_on_the_folder_name(tmp_path, folder):
    path = tmp_path / folder / "events.json"
    path.parent.mkdir()
    path.write_bytes(TRAIL_BYTES[:-40] + b"}}]}")

    with pytest.raises(InputError) as raised:
        scan_paths(path)

    assert raised.value.path == str(path)
    assert "not valid JSON" in raised.value.message


def test_corrupt_gz_file_is_not_told_to_add_the_gz_suffix(tmp_path):
    middle = len(TRAIL_GZ) // 2
    path = tmp_path / "in" / "events.json.gz"
    path.parent.mkdir()
    path.write_bytes(
        TRAIL_GZ[:middle] + bytes(b ^ 0xFF for b in TRAIL_GZ[middle : middle + 16]) + TRAIL_GZ[middle + 16 :]
    )

    with pytest.raises(InputError) as raised:
        scan_paths(path)

    assert raised.value.path == str(path)
    assert "add the .gz suffix" not in raised.value.message
    assert "corrupt" in raised.value.message


def test_zero_filled_gz_file_is_reported_corrupt(tmp_path):
    # A run of zero bytes is what a crash mid-write leaves in a file.
    path = tmp_path / "in" / "events.json.gz"
    path.parent.mkdir()
    path.write_bytes(TRAIL_GZ[:12] + bytes(40) + TRAIL_GZ[52:])

    with pytest.raises(InputError) as raised:
        scan_paths(path)

    assert raised.value.path == str(path)
    assert "corrupt" in raised.value.message


@pytest.mark.xfail(
    strict=True,
    reason="known limitation: DuckDB does not check the gzip CRC-32 and length trailer, so a flipped "
    "byte in stored (level 0) data is read as if it were the event; checking it in Python would "
    "decompress every file twice",
)
def test_gz_file_failing_its_checksum_is_reported_corrupt(tmp_path):
    # Stored (level 0) deflate keeps the bytes as they are, so one changed digit still inflates
    # to valid JSON and only the CRC-32 can tell.
    data = gzip.compress(TRAIL_BYTES, compresslevel=0, mtime=0)
    at = data.index(b"444455556666")
    path = tmp_path / "in" / "events.json.gz"
    path.parent.mkdir()
    path.write_bytes(data[:at] + b"9" + data[at + 1 :])
    with pytest.raises(gzip.BadGzipFile):
        gzip.decompress(path.read_bytes())

    with pytest.raises(InputError) as raised:
        scan_paths(path)

    assert raised.value.path == str(path)


@pytest.mark.parametrize("limit", ["1GB", "2GB"])
def test_small_file_scans_under_a_modest_memory_limit(tmp_path, limit):
    path = write_trail_file(tmp_path / "a.json.gz", alerting("caller"))

    report = scan_paths(path, memory_limit=limit)

    assert report.events_read == 1
    assert principals(report) == [caller("caller")]


def test_keep_going_lists_every_bad_file_and_still_scans_the_good_ones(tmp_path):
    folder = tmp_path / "in"
    good = [
        write_trail_file(folder / "good-1.json.gz", alerting("first-caller", 2)),
        write_ndjson(folder / "good-2.ndjson", alerting("second-caller", 1) + alerting("first-caller", 1, first_id=9)),
    ]
    bad = []
    for name, data, _ in BAD_FILES.values():
        (folder / name).write_bytes(data)
        bad.append(str(folder / name))
    expected = scan_paths(*good)

    report = scan_paths(folder, keep_going=True)

    assert sorted(p.path for p in report.unreadable) == sorted(bad)
    assert all(isinstance(p, InputError) and p.message for p in report.unreadable)
    assert report.alerts == expected.alerts
    assert [(a["user_identity_arn"], a["invocation_count"]) for a in report.alerts] == [
        (caller("first-caller"), 3),
        (caller("second-caller"), 1),
    ]
    assert report.files_read == 2
    assert report.events_read == 4


def test_keep_going_gives_each_bad_file_the_diagnosis_it_gets_alone(tmp_path):
    folder = tmp_path / "in"
    for name, data, _ in BAD_FILES.values():
        folder.mkdir(exist_ok=True)
        (folder / name).write_bytes(data)
    write_trail_file(folder / "good.json", alerting("caller"))

    report = scan_paths(folder, keep_going=True)

    by_path = {p.path: p for p in report.unreadable}
    for name, _, words in BAD_FILES.values():
        problem = by_path[str(folder / name)]
        for word in words:
            assert word in problem.message, (name, problem.message)
    assert by_path[str(folder / "stringrecord.json")].record == 2


def test_keep_going_with_only_bad_files_reports_them_all_and_no_alerts(tmp_path):
    for name, data, _ in list(BAD_FILES.values())[:4]:
        (tmp_path / name).write_bytes(data)

    report = scan_paths(tmp_path, keep_going=True)

    assert len(report.unreadable) == 4
    assert report.alerts == [] and report.files_read == 0 and report.events_read == 0


def test_non_event_objects_in_ndjson_are_counted_and_skipped_not_fatal(tmp_path):
    events = alerting("caller", 3)
    lines = [
        json.dumps(events[0]),
        json.dumps({"message": "export started"}),
        json.dumps(events[1]),
        json.dumps({"eventName": "", "note": "placeholder only"}),
        json.dumps({"Records": None}),
        json.dumps(events[2]),
    ]
    path = tmp_path / "export.ndjson"
    path.write_text("\n".join(lines) + "\n")

    report = scan_paths(path)

    assert [(s.path, s.count, s.first_record) for s in report.skipped_records] == [(str(path), 3, 2)]
    assert report.events_read == 3
    assert report.files_read == 1
    assert [(a["user_identity_arn"], a["invocation_count"]) for a in report.alerts] == [(caller("caller"), 3)]


def test_non_event_objects_are_reported_per_file(tmp_path):
    clean = write_ndjson(tmp_path / "clean.ndjson", alerting("caller", 2))
    noisy = write_ndjson(tmp_path / "noisy.ndjson.gz", [{"foo": 1}, {"bar": 2}, *alerting("caller", 1, first_id=5)])

    report = scan_paths(clean, noisy)

    assert [(s.path, s.count, s.first_record) for s in report.skipped_records] == [(str(noisy), 2, 1)]
    assert report.events_read == 3
    assert [a["invocation_count"] for a in report.alerts] == [3]


@pytest.mark.parametrize("event_time", ["yesterday", "2026-11-01T01:00:00+00:00"])
def test_skipped_record_count_and_first_record_agree(tmp_path, event_time):
    events = alerting("caller", 2)
    path = write_ndjson(tmp_path / "a.ndjson", [events[0], {"eventTime": event_time}, events[1]])

    report = scan_paths(path)

    summary = [(s.count, s.first_record) for s in report.skipped_records]
    # Either the odd record is an event (nothing skipped) or it is not (skipped at record 2).
    assert (summary, report.events_read) in [([], 3), ([(1, 2)], 2)]


# --- time bounds -------------------------------------------------------------------------------

TIMES = [
    "2026-11-01T00:59:59.999Z",
    "2026-11-01T01:00:00Z",
    "2026-11-01T01:30:00Z",
    "2026-11-01T01:59:59.999Z",
    "2026-11-01T02:00:00Z",
]


def window_alerts(tmp_path, **bounds):
    events = [invoke(caller("timed"), time=t, event_id=f"t{i}", ip=f"192.0.2.{i + 1}") for i, t in enumerate(TIMES)]
    path = write_trail_file(tmp_path / "a.json", events)
    return [
        (a["invocation_count"], a["first_seen"], a["last_seen"], a["source_ips"])
        for a in scan_paths(path, **bounds).alerts
    ]


def test_since_is_inclusive_and_until_is_exclusive(tmp_path):
    got = window_alerts(tmp_path, since=datetime(2026, 11, 1, 1), until=datetime(2026, 11, 1, 2))

    assert got == [(3, "2026-11-01T01:00:00Z", "2026-11-01T01:59:59.999Z", ["192.0.2.2", "192.0.2.3", "192.0.2.4"])]


def test_since_alone_keeps_events_from_that_time_on(tmp_path):
    got = window_alerts(tmp_path, since=datetime(2026, 11, 1, 1, 30))

    assert got == [(3, "2026-11-01T01:30:00Z", "2026-11-01T02:00:00Z", ["192.0.2.3", "192.0.2.4", "192.0.2.5"])]


def test_until_alone_keeps_events_before_that_time(tmp_path):
    got = window_alerts(tmp_path, until=datetime(2026, 11, 1, 1))

    assert got == [(1, "2026-11-01T00:59:59.999Z", "2026-11-01T00:59:59.999Z", ["192.0.2.1"])]


def test_window_with_no_events_gives_no_alerts(tmp_path):
    assert window_alerts(tmp_path, since=datetime(2026, 11, 2), until=datetime(2026, 11, 3)) == []


def untimed_inputs(folder: Path) -> tuple[list[Path], dict[str, int]]:
    """Files whose events partly have no readable eventTime, and how many such events each holds:
    neither an event timed outside the window nor a record that is not an event counts."""
    unreadable = invoke(caller("untimed"), time="yesterday", event_id="u1")
    missing = invoke(caller("untimed"), event_id="u2")
    del missing["eventTime"]
    inside = invoke(caller("timed"), time="2026-11-01T01:30:00Z", event_id="t1")
    outside = invoke(caller("timed"), time="2030-01-01T00:00:00Z", event_id="t2")
    files = [
        write_trail_file(folder / "mixed.json", [unreadable, inside, missing, outside, {"foo": 1}]),
        write_trail_file(folder / "timed.json.gz", [inside, outside]),
        write_ndjson(folder / "export.ndjson", [inside, unreadable]),
    ]
    return files, {str(files[0]): 2, str(files[2]): 1}


def refuse_logging(monkeypatch) -> None:
    """Act as a DuckDB that cannot log to memory, so that the counts come from SQL."""
    import duckdb

    from ducktrail.engine import read_counter

    def refuse(con):
        raise duckdb.CatalogException("Table Function with name enable_logging does not exist!")

    monkeypatch.setattr(read_counter, "count_reads", refuse)


@pytest.mark.parametrize("counted_by", ["hook_split_read", "hook_one_thread", "group_by"])
def test_a_window_counts_the_events_it_leaves_out_for_want_of_a_time(tmp_path, monkeypatch, counted_by):
    files, expected = untimed_inputs(tmp_path)
    if counted_by == "group_by":
        refuse_logging(monkeypatch)

    threads = 1 if counted_by == "hook_one_thread" else 2
    report = scan_paths(*files, since=datetime(2026, 11, 1), until=datetime(2027, 1, 1), threads=threads)

    assert report.untimed_events == expected
    assert [(a["user_identity_arn"], a["invocation_count"]) for a in report.alerts] == [(caller("timed"), 3)]


def test_without_a_window_events_without_a_time_are_scanned_and_not_counted(tmp_path):
    files, _ = untimed_inputs(tmp_path)

    report = scan_paths(*files)

    assert report.untimed_events == {}
    assert sorted((a["user_identity_arn"], a["invocation_count"]) for a in report.alerts) == [
        (caller("timed"), 5),
        (caller("untimed"), 3),
    ]


def test_a_window_over_a_database_counts_its_events_without_a_time(tmp_path):
    from ducktrail.ingest import ingest
    from ducktrail.scan import scan_database
    from tests.support import pack

    files, expected = untimed_inputs(tmp_path)
    database = str(tmp_path / "trail.duckdb")
    ingest([str(path) for path in files], database)

    report = scan_database(database, pack(), until=datetime(2027, 1, 1))

    assert report.untimed_events == expected
    assert report.time_field == "event_time"


def test_a_window_over_a_database_counts_rows_an_analyst_stored_without_a_file(tmp_path):
    import duckdb

    from ducktrail.ingest import ingest
    from ducktrail.scan import NO_SOURCE_FILE, scan_database
    from tests.support import pack

    files, expected = untimed_inputs(tmp_path)
    database = str(tmp_path / "trail.duckdb")
    ingest([str(path) for path in files], database)
    with duckdb.connect(database) as con:
        con.execute("INSERT INTO cloudtrail_events (source_file, event_name) VALUES (NULL, 'Invoke')")

    report = scan_database(database, pack(), since=datetime(2026, 1, 1))

    assert report.untimed_events == {**expected, NO_SOURCE_FILE: 1}


# The same instants as TIMES, as tools that re-export events write them.
OTHER_FORMS_OF_TIMES = [
    "2026-11-01T01:59:59.999+01:00",
    "2026-11-01 01:00:00",
    "2026-11-01T00:30:00-01:00",
    "2026-11-01T01:59:59.999000000Z",
    "2026-11-01T02:00:00+0000",
]


def test_a_window_reads_times_with_offsets_as_the_instants_they_name(tmp_path):
    events = [
        invoke(caller("timed"), time=t, event_id=f"t{i}", ip=f"192.0.2.{i + 1}")
        for i, t in enumerate(OTHER_FORMS_OF_TIMES)
    ]
    path = write_trail_file(tmp_path / "a.json", events)

    got = scan_paths(path, since=datetime(2026, 11, 1, 1), until=datetime(2026, 11, 1, 2)).alerts

    assert [(a["invocation_count"], a["first_seen"], a["last_seen"], a["source_ips"]) for a in got] == [
        (3, "2026-11-01T01:00:00Z", "2026-11-01T01:59:59.999Z", ["192.0.2.2", "192.0.2.3", "192.0.2.4"])
    ]


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
def test_event_times_do_not_depend_on_the_session_time_zone(zone):
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = ?", [zone])
    con.execute(
        "SET VARIABLE ducktrail_files = ?",
        [[str(FIXTURES / "cases" / "event_times_with_offsets_are_read_as_utc" / "events.json")]],
    )
    con.execute((sql_root() / "sources" / "duckdb" / "cloudtrail.sql").read_text())

    got = con.execute("SELECT strftime(event_time, '%Y-%m-%dT%H:%M:%S.%f') FROM cloudtrail_events").fetchall()

    assert sorted(t for (t,) in got) == [
        "2026-11-01T08:30:00.000000",
        "2026-11-01T08:45:00.000000",
        "2026-11-01T09:00:00.500000",
        "2026-11-01T09:30:00.000000",
        "2026-11-01T09:31:00.000000",
        "2026-11-01T09:32:00.000000",
    ]


@pytest.mark.parametrize(
    ("written", "instant"),
    [
        ("2026-11-01T10:00:00Z", "2026-11-01T10:00:00.000000"),
        ("2026-11-01T10:00:00.25Z", "2026-11-01T10:00:00.250000"),
        ("2026-11-01T10:00:00.123456789Z", "2026-11-01T10:00:00.123456"),
        ("2026-11-01T10:30:00+01:00", "2026-11-01T09:30:00.000000"),
        ("2026-11-01T10:30:00+0100", "2026-11-01T09:30:00.000000"),
        ("2026-11-01T10:30:00+01", "2026-11-01T09:30:00.000000"),
        ("2026-11-01T04:30:00-0530", "2026-11-01T10:00:00.000000"),
        ("2026-11-01T10:30:00.5+01:00", "2026-11-01T09:30:00.500000"),
        ("2026-11-01 10:00:00", "2026-11-01T10:00:00.000000"),
        ("2026-11-01T10:00:00", "2026-11-01T10:00:00.000000"),
        ("2026-11-01T00:30:00+01:00", "2026-10-31T23:30:00.000000"),
    ],
)
def test_each_form_of_event_time_is_read_as_the_instant_it_names(written, instant):
    """The adapter's ducktrail_event_time, one form at a time: an offset is applied however it
    is written (a rule's first_seen/last_seen would otherwise show the clock time as written)."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Kolkata'")
    con.execute("SET VARIABLE ducktrail_files = ?", [[str(FIXTURES / "AWSLogs")]])
    con.execute((sql_root() / "sources" / "duckdb" / "cloudtrail.sql").read_text())
    (got,) = con.execute("SELECT strftime(ducktrail_event_time(?), '%Y-%m-%dT%H:%M:%S.%f')", [written]).fetchone()
    assert got == instant


@pytest.mark.parametrize(
    "event_time",
    ["2026-11-01", "2026-11-01T10:00:00z", "2026-11-01T10:00:00 PST", "2026-13-01T10:00:00Z", "1 Nov 2026"],
)
def test_an_event_time_in_no_iso_8601_form_is_null_and_the_event_still_alerts(tmp_path, event_time):
    path = write_trail_file(tmp_path / "a.json", [invoke(caller("timed"), time=event_time)])

    report = scan_paths(path)

    assert [(a["invocation_count"], a["first_seen"]) for a in report.alerts] == [(1, None)]


@pytest.mark.parametrize(
    ("since", "until"),
    [(datetime(2026, 11, 1, 1), datetime(2026, 11, 1, 1)), (datetime(2026, 11, 1, 2), datetime(2026, 11, 1, 1))],
)
def test_since_not_before_until_is_a_usage_error(tmp_path, since, until):
    path = write_trail_file(tmp_path / "a.json", alerting("caller"))

    with pytest.raises(UsageError):
        scan_paths(path, since=since, until=until)


def test_symlinked_folders_are_followed_once_even_in_a_cycle(tmp_path):
    real = tmp_path / "real" / "AWSLogs"
    write_trail_file(real / "a.json.gz", alerting("caller"))
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "linked").symlink_to(real.parent)
    (real / "loop").symlink_to(tree)
    report = scan_paths(tree)
    assert report.files_read == 1 and report.events_read == 1
    assert principals(report) == [caller("caller")]


def test_a_linked_folder_given_beside_its_target_is_read_once(tmp_path):
    real = tmp_path / "real"
    write_trail_file(real / "a.json.gz", alerting("caller"))
    write_trail_file(real / "deeper" / "b.json.gz", alerting("other"))
    (tmp_path / "link").symlink_to(real)
    report = scan_paths(tmp_path / "link", real)
    assert (report.files_read, report.events_read) == (2, 2)


def test_json_nested_too_deep_for_python_is_still_a_clean_input_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 5000 + "]" * 5000)
    with pytest.raises(InputError) as raised:
        scan_paths(path)
    assert raised.value.path == str(path)


def test_bad_input_whose_engine_message_is_not_utf8_is_still_an_input_error(tmp_path):
    # Found by tests/test_fuzz_inputs.py: DuckDB quotes the surrogate pair back undecodably.
    path = tmp_path / "x.json"
    path.write_bytes(b'[null,{"                                \\\\":{" \\ud800\\udc00":null}}]')
    with pytest.raises(InputError) as raised:
        scan_paths(path)
    assert raised.value.path == str(path)


def test_names_with_glob_characters_are_read_as_named_not_as_patterns(tmp_path):
    # DuckDB takes paths as glob patterns: "case [1]" would read "case 1", "star*" every star file.
    write_trail_file(tmp_path / "case [1]" / "x.json", alerting("bracketed", 2))
    write_trail_file(tmp_path / "case 1" / "x.json", alerting("plain", 5))
    write_trail_file(tmp_path / "stars" / "star*.json", alerting("star", 3))
    write_trail_file(tmp_path / "stars" / "starX.json", alerting("x", 4))
    write_trail_file(tmp_path / "stars" / "what?.json", alerting("question", 1))

    bracketed = scan_paths(tmp_path / "case [1]")
    assert (bracketed.events_read, principals(bracketed)) == (2, [caller("bracketed")])
    stars = scan_paths(tmp_path / "stars")
    counts = {alert["user_identity_arn"]: alert["invocation_count"] for alert in stars.alerts}
    assert counts == {caller("star"): 3, caller("x"): 4, caller("question"): 1}
    assert stars.events_read == 8


def test_a_folder_that_cannot_be_listed_is_reported_not_skipped_silently(tmp_path, monkeypatch):
    import os

    write_trail_file(tmp_path / "open" / "a.json", alerting("open", 2))
    closed = tmp_path / "closed"
    write_trail_file(closed / "b.json", alerting("closed", 3))
    listing = os.scandir

    def scandir(path="."):
        if not isinstance(path, int) and Path(path) == closed:  # tempfile's clean-up lists by descriptor
            raise PermissionError(13, "Permission denied", str(path))
        return listing(path)

    monkeypatch.setattr(os, "scandir", scandir)  # as an unreadable folder fails for a user who is not root
    with pytest.raises(InputError) as failed:
        scan_paths(tmp_path)
    assert str(failed.value) == f"{closed}: cannot list folder: Permission denied"
    report = scan_paths(tmp_path, keep_going=True)
    assert [str(problem) for problem in report.unreadable] == [str(failed.value)]
    assert (report.events_read, principals(report)) == (2, [caller("open")])


def test_a_file_name_that_is_not_utf8_is_reported_and_the_rest_read(tmp_path):
    import os

    write_trail_file(tmp_path / "good.json", alerting("good", 2))
    bad = os.path.join(os.fsencode(tmp_path), b"bad\xff.json")
    write_trail_file(Path(os.fsdecode(bad)), alerting("bad", 1))
    with pytest.raises(InputError, match="the file name is not valid UTF-8"):
        scan_paths(tmp_path)
    report = scan_paths(tmp_path, keep_going=True)
    assert [problem.path for problem in report.unreadable] == [os.fsdecode(bad)]
    assert principals(report) == [caller("good")]


@pytest.mark.parametrize("name", ["a?b.json.gz", "q?d/a.json.gz", "a?b.JSON.GZ"])
def test_a_gz_file_with_a_question_mark_in_its_path_is_named_as_unreadable(tmp_path, name):
    path = write_trail_file(tmp_path / name, alerting("caller"))
    with pytest.raises(InputError, match=r"DuckDB does not decompress a \.gz file whose path holds a '\?'"):
        scan_paths(path)
    report = scan_paths(tmp_path, keep_going=True)
    assert [problem.path for problem in report.unreadable] == [str(path)]


@pytest.mark.parametrize("given", ["./t/{name}", "t//{name}", "t/./{name}", "t/sub/../{name}"])
def test_glob_named_files_given_by_an_unnormalized_path_are_still_checked(tmp_path, monkeypatch, given):
    # DuckDB names a file it matched through a pattern by the normalized path: the counts of
    # what each file held must still reach the file as it was given.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t" / "sub").mkdir(parents=True)
    not_cloudtrail = tmp_path / "t" / "odd [1].json"
    not_cloudtrail.write_text(json.dumps({"Records": [{"foo": 1}]}))
    mixed = write_trail_file(tmp_path / "t" / "mixed*.json", [*alerting("mixed"), {"foo": 1}, {"bar": 2}])

    with pytest.raises(InputError, match="not CloudTrail JSON") as raised:
        scan_paths(given.format(name="odd [1].json"))
    assert raised.value.path == given.format(name="odd [1].json")
    report = scan_paths(given.format(name="mixed*.json"))
    assert (report.files_read, report.events_read) == (1, 1)
    assert [(skipped.path, skipped.count) for skipped in report.skipped_records] == [(given.format(name=mixed.name), 2)]
    walked = scan_paths(".", keep_going=True)
    assert [problem.path for problem in walked.unreadable] == ["./t/odd [1].json"]
    assert (walked.files_read, walked.events_read) == (1, 1)


@pytest.mark.parametrize("name", ["x\\y[1].json", "c\\d/x*.json", "c[1]/x\\y.json"])
def test_a_path_with_a_backslash_and_a_glob_character_is_named_as_unreadable(tmp_path, name):
    # DuckDB's pattern matching takes the backslash for a separator: it cannot find the file.
    path = write_trail_file(tmp_path / name, alerting("caller"))
    write_trail_file(tmp_path / "good.json", alerting("good"))
    with pytest.raises(InputError, match=r"holds both a backslash and one of \[ \* \?"):
        scan_paths(path)
    report = scan_paths(tmp_path, keep_going=True)
    assert [problem.path for problem in report.unreadable] == [str(path)]
    assert principals(report) == [caller("good")]


def test_a_folder_named_tilde_is_read_not_the_home_folder(tmp_path, monkeypatch):
    # DuckDB reads a path starting with ~ in the home folder.
    home = tmp_path / "elsewhere" / "home"
    write_trail_file(home / "x.json", alerting("at-home"))
    write_trail_file(home.parent / "x.json", alerting("beside-home"))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    write_trail_file(tmp_path / "~" / "x.json", alerting("in-tilde"))

    write_trail_file(tmp_path / "x.json", alerting("beside-tilde"))
    for given in ("~/x.json", "./~/x.json", "~", "."):
        report = scan_paths(given)
        assert caller("in-tilde") in principals(report), given
        if given != ".":
            assert principals(report) == [caller("in-tilde")], given
    beside = scan_paths("~/../x.json")
    assert principals(beside) == [caller("beside-tilde")]


def test_a_glob_named_path_through_a_linked_folder_and_dotdot_reads_the_file_it_names(tmp_path, monkeypatch):
    # DuckDB resolves a pattern's ".." on its text: "link/../x[1].json" would be "./x[1].json".
    monkeypatch.chdir(tmp_path)
    write_trail_file(tmp_path / "real" / "x[1].json", alerting("through-link"))
    (tmp_path / "real" / "sub").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real" / "sub")
    (tmp_path / "x[1].json").write_text(json.dumps({"Records": [{"foo": 1}]}))

    report = scan_paths("link/../x[1].json")
    assert (report.events_read, principals(report)) == (1, [caller("through-link")])


def test_a_file_that_would_be_skipped_is_not_refused_for_its_name(tmp_path):
    write_trail_file(tmp_path / "a.json", alerting("read"))
    (tmp_path / "notes\\[draft].txt").write_text("not logs")
    report = scan_paths(tmp_path)
    assert principals(report) == [caller("read")]
    assert [skipped.reason for skipped in report.skipped_files] == ["not a .json/.jsonl/.ndjson file"]


def test_a_file_removed_after_discovery_is_named_not_blamed_on_the_rule(tmp_path, monkeypatch):
    import ducktrail.scan
    from ducktrail.inputs.discover import Discovery

    write_trail_file(tmp_path / "a.json", alerting("kept"))
    gone = str(tmp_path / "gone.json")
    found = ducktrail.scan.discover

    def discover_then_lose_one(paths, keep_going=False):
        files = found(paths, keep_going=keep_going).files
        return Discovery(files=(*files, gone), skipped=())

    monkeypatch.setattr(ducktrail.scan, "discover", discover_then_lose_one)
    with pytest.raises(InputError, match="no longer a file") as raised:
        scan_paths(tmp_path)
    assert raised.value.path == gone
    report = scan_paths(tmp_path, keep_going=True)
    assert [problem.path for problem in report.unreadable] == [gone]
    assert principals(report) == [caller("kept")]


def test_a_glob_named_folder_called_gzip_does_not_steer_the_diagnosis(tmp_path, monkeypatch):
    # DuckDB quotes the file by its own name; the diagnosis must not read "gzip" in the folder's.
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "exports-gzip [2026]"
    folder.mkdir()
    (folder / "x.json.gz").write_bytes(gzip.compress(b'{"Records": [ {"eventVersion": "1.0" ]}\n'))
    with pytest.raises(InputError, match="not valid JSON"):
        scan_paths(".")


@pytest.mark.parametrize("name", ["events.json.gz", "EVENTS.JSON.GZ"])
def test_gz_file_with_zero_padding_after_its_data_is_named_with_the_cure(tmp_path, name):
    # Python's gzip and zcat ignore the padding; DuckDB reads on for another member.
    path = tmp_path / name
    path.write_bytes(TRAIL_GZ + bytes(512))
    with pytest.raises(InputError, match=r"not another gzip member \(zero padding\?\).*zcat FILE \| gzip") as raised:
        scan_paths(path)
    assert raised.value.path == str(path)


@pytest.mark.parametrize(("limit", "threads"), [("256MB", 1), ("400MB", 2), ("1GB", 4), ("64GB", 4), (None, 4)])
def test_the_threads_fit_the_memory_limit(limit, threads):
    with DuckDBEngine(threads=4, memory_limit=limit) as engine:
        assert engine.con.execute("SELECT current_setting('threads')").fetchone()[0] == threads


def test_a_symlink_loop_given_to_read_is_named_as_one(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(InputError) as raised:
        scan_paths(tmp_path / "a")
    assert str(raised.value) == f"{tmp_path / 'a'}: too many levels of symbolic links"


def test_an_empty_path_is_named_as_one():
    with pytest.raises(InputError) as raised:
        scan_paths("")
    assert str(raised.value) == "an empty path names no file"


def test_a_raw_control_character_is_named_with_its_column(tmp_path):
    path = tmp_path / "ctl.json"
    path.write_bytes(b'{"Records": [{"eventName": "In\x01voke"}]}')
    with pytest.raises(InputError) as raised:
        scan_paths(path)
    assert str(raised.value) == f"{path}:1: not valid JSON (Invalid control character at column 31)"


def test_a_byte_that_is_not_utf8_is_named_with_its_line_and_column(tmp_path):
    path = tmp_path / "latin1.json.gz"
    path.write_bytes(gzip.compress(b'{"Records": [\n{"eventName": "\xc3\xa9\xe9"}]}', mtime=0))
    with pytest.raises(InputError) as raised:
        scan_paths(path)
    # In characters, as Python's JSON errors count: the UTF-8 e-acute before it is one.
    assert str(raised.value) == f"{path}:2: not valid JSON (not UTF-8: byte 0xe9 at column 17)"


def test_a_record_repeating_a_key_is_named(tmp_path):
    records = [invoke(event_id="a"), invoke(event_id="b")]
    text = json.dumps({"Records": records}).replace('"eventID": "b"', '"eventID": "b", "eventID": "c"')
    path = tmp_path / "dup.json"
    path.write_text(text)
    with pytest.raises(InputError) as raised:
        scan_paths(path)
    assert raised.value.record == 2, str(raised.value)
    assert 'has duplicate key "eventID"' in str(raised.value)


def test_ingest_threads_fit_the_memory_an_ingest_needs():
    from ducktrail.engine.duckdb_scan import INGEST_MEMORY_PER_THREAD

    with DuckDBEngine(threads=16, memory_limit="400MB", memory_per_thread=INGEST_MEMORY_PER_THREAD) as engine:
        assert engine.con.execute("SELECT current_setting('threads')").fetchone()[0] == 1
    with DuckDBEngine(threads=16, memory_limit="768MB", memory_per_thread=INGEST_MEMORY_PER_THREAD) as engine:
        assert engine.con.execute("SELECT current_setting('threads')").fetchone()[0] == 3


def nested_shape(column_type) -> object:
    """The objects and lists of objects a DuckDB type insists on, as locate.SOURCES writes them."""
    if column_type.id == "list":
        inner = nested_shape(column_type.child)
        return [inner] if inner is not None else None
    if column_type.id != "struct":
        return None
    return {name: shape for name, child in column_type.children if (shape := nested_shape(child)) is not None}


@pytest.mark.parametrize(("source", "record_type"), [("cloudtrail", "cloudtrail_record"), ("ecs", "ecs_json_value")])
def test_the_shapes_python_checks_are_the_adapters_types(tmp_path, source, record_type):
    from ducktrail.engine.duckdb_scan import DuckDBEngine
    from ducktrail.inputs.locate import SOURCES

    with DuckDBEngine(source=source) as engine:
        engine.use_files([str(write_ndjson(tmp_path / "a.ndjson", [invoke()]))])
        column_type = engine.con.execute(f"SELECT NULL::{record_type}").description[0][1]
    assert nested_shape(column_type) == SOURCES[source].shape


def test_resources_keep_every_entry_with_a_value_and_resource_arns_the_arns(tmp_path):
    from ducktrail.engine.duckdb_scan import DuckDBEngine

    entries = [
        {"ARN": "arn:aws:lambda:us-east-1:111122223333:function:f", "type": "AWS::Lambda::Function"},
        {"accountId": "111122223333", "type": "AWS::Lambda::Function"},
        {"ARN": "", "accountId": "-", "type": "none"},
        {},
        None,
        {"ARN": "arn:aws:lambda:us-east-1:111122223333:function:f"},
    ]
    path = write_trail_file(tmp_path / "a.json", [invoke(resources=entries), invoke(event_id="bare", resources=[])])
    with DuckDBEngine() as engine:
        engine.use_files([str(path)])
        rows = engine.con.execute(
            "SELECT resources, resource_arns FROM cloudtrail_events ORDER BY event_id = 'bare'"
        ).fetchall()
    arn = "arn:aws:lambda:us-east-1:111122223333:function:f"
    assert rows == [
        (
            [
                {"arn": arn, "account_id": None, "type": "AWS::Lambda::Function"},
                {"arn": None, "account_id": "111122223333", "type": "AWS::Lambda::Function"},
                {"arn": arn, "account_id": None, "type": None},
            ],
            [arn],
        ),
        (None, None),
    ]


def test_the_first_skipped_record_is_found_without_reading_past_the_last_one(tmp_path, monkeypatch):
    from ducktrail import diagnose
    from ducktrail.inputs import locate

    path = write_ndjson(tmp_path / "export.ndjson", [{"message": "export started"}, *[invoke()] * 50])
    read = []
    records = locate.records

    def counted(*args, **kwargs):
        for number, record in records(*args, **kwargs):
            read.append(number)
            yield number, record

    monkeypatch.setattr(locate, "records", counted)
    assert diagnose.first_unrecognized(str(path), "cloudtrail", 1) == (1, False)
    assert read == [1], "one skipped record in the file: found, the rest is not read"
