"""Reading files by line when each holds one JSON value per line, the general way otherwise.

Reading by line is only faster: it must give the same rows as the general read for every file it
is used on, and a file it cannot read (it spans lines after all) must make the scan read
everything the general way, with the same counts, alerts and error messages as before.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from ducktrail.engine.duckdb_scan import BY_LINE, GENERAL, DuckDBEngine, JsonReading
from ducktrail.errors import InputError
from ducktrail.ingest import ingest
from ducktrail.inputs.layout import one_value_per_line
from tests.support import FIXTURES, invoke, scan_paths, write_ndjson, write_trail_file
from tests.test_ecs_source import export


def events(count: int, prefix: str = "e") -> list[dict]:
    return [invoke(event_id=f"{prefix}-{n}") for n in range(count)]


def one_line_then_pretty(path: Path) -> Path:
    """An NDJSON file whose first lines are one event each and whose last event spans lines: the
    first kilobytes say 'by line', the read by line fails."""
    lines = [json.dumps(e) for e in events(100, "head")]
    text = "\n".join(lines) + "\n" + json.dumps(invoke(event_id="tail"), indent=2) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode(), mtime=0))
    assert one_value_per_line(str(path), longest_line=BY_LINE.maximum_object_size)
    return path


@pytest.mark.parametrize(
    ("write", "by_line"),
    [
        pytest.param(lambda p: write_trail_file(p / "s3.json.gz", events(50)), True, id="s3_delivery_gzipped"),
        pytest.param(lambda p: write_trail_file(p / "s3.json", events(1)), True, id="s3_delivery_plain"),
        pytest.param(lambda p: write_ndjson(p / "lake.ndjson.gz", events(200)), True, id="ndjson_export"),
        pytest.param(lambda p: write_ndjson(p / "tiny.ndjson", events(2)), True, id="short_ndjson_read_whole"),
        pytest.param(lambda p: write_trail_file(p / "pretty.json", events(3), indent=2), False, id="pretty_printed"),
        pytest.param(
            lambda p: write_trail_file(p / "pretty.json.gz", events(3), indent=4), False, id="pretty_printed_gzipped"
        ),
        pytest.param(lambda p: _write(p / "empty.json", b""), True, id="empty_file"),
        pytest.param(lambda p: _write(p / "cut.json", b'{"Records": [{"eventName": "Inv'), False, id="cut_short"),
        pytest.param(lambda p: _write(p / "text.json", b"hello\nworld\n"), False, id="not_json"),
        pytest.param(lambda p: _write(p / "bad.json.gz", b"\x1f\x8b\x08\x00garbage"), False, id="corrupt_gzip"),
    ],
)
def test_layout_is_judged_from_the_first_kilobytes(tmp_path, write, by_line):
    assert one_value_per_line(str(write(tmp_path)), longest_line=BY_LINE.maximum_object_size) is by_line


@pytest.mark.parametrize("name", ["s3.json", "s3.json.gz"])
def test_a_file_on_one_line_longer_than_a_line_may_be_is_read_the_general_way(tmp_path, name):
    path = str(write_trail_file(tmp_path / name, events(50)))
    length = len(json.dumps({"Records": events(50)}))
    assert one_value_per_line(path, longest_line=length)
    assert not one_value_per_line(path, longest_line=length - 1)
    # Exports: many short lines, however long the file.
    ndjson = str(write_ndjson(tmp_path / f"{name}.ndjson", events(50)))
    assert one_value_per_line(ndjson, longest_line=2000)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_s3_deliveries_and_exports_are_read_by_line(tmp_path):
    files = [
        str(write_trail_file(tmp_path / "a.json.gz", events(3))),
        str(write_ndjson(tmp_path / "b.ndjson", events(2, "n"))),
    ]
    with DuckDBEngine() as engine:
        engine.use_files(files)
        assert engine.reading == BY_LINE
        assert engine.con.execute("SELECT count(*) FROM cloudtrail_events").fetchone() == (5,)


def test_one_pretty_printed_file_makes_every_file_read_the_general_way(tmp_path):
    files = [
        str(write_trail_file(tmp_path / "a.json.gz", events(3))),
        str(write_trail_file(tmp_path / "b.json", events(2, "p"), indent=2)),
    ]
    with DuckDBEngine() as engine:
        engine.use_files(files)
        assert engine.reading == GENERAL
        assert engine.con.execute("SELECT count(*) FROM cloudtrail_events").fetchone() == (5,)


def fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*") if p.is_file() and (".json" in p.name or ".ndjson" in p.name))


def rows(path: Path | str, reading: JsonReading, source: str = "cloudtrail") -> list[tuple] | str:
    """cloudtrail_events read from one file (without source_file), or the error's type."""
    with DuckDBEngine(source=source) as engine:
        engine.use_files([str(path)])
        engine._use_reading(reading)
        try:
            return engine.con.execute("SELECT * EXCLUDE (source_file) FROM cloudtrail_events ORDER BY ALL").fetchall()
        except engine.error_types as exc:
            return type(exc).__name__


def json_values(path: Path) -> list | None:
    """The JSON values a file holds (a whole-file value, or one per line); None if it is not JSON."""
    data = path.read_bytes()
    text = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8", "replace")
    try:
        return [json.loads(text)]
    except ValueError:
        try:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError:
            return None


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_reading_by_line_gives_the_general_reads_rows_or_fails(path, tmp_path):
    general = rows(path, GENERAL)
    assert rows(path, BY_LINE) in (general, "InvalidInputException")
    values = json_values(path)
    if values is not None:
        # The same values one per line, as S3 deliveries and exports hold them.
        one_per_line = tmp_path / path.name.removesuffix(".gz")
        one_per_line.write_text("".join(json.dumps(v, ensure_ascii=False) + "\n" for v in values))
        assert one_value_per_line(str(one_per_line), longest_line=BY_LINE.maximum_object_size)
        assert rows(one_per_line, BY_LINE) == general


def test_ecs_exports_are_read_by_line_with_the_same_rows(tmp_path):
    path = str(write_ndjson(tmp_path / "export.ndjson.gz", export(events(6))))
    with DuckDBEngine(source="ecs") as engine:
        engine.use_files([path])
        assert engine.reading == BY_LINE
    assert rows(path, BY_LINE, "ecs") == rows(path, GENERAL, "ecs")


@pytest.fixture
def fallbacks(monkeypatch) -> list[bool]:
    """What each call of DuckDBEngine.stop_reading_by_line returned."""
    calls: list[bool] = []
    original = DuckDBEngine.stop_reading_by_line

    def spy(self):
        calls.append(original(self))
        return calls[-1]

    monkeypatch.setattr(DuckDBEngine, "stop_reading_by_line", spy)
    return calls


def test_a_file_spanning_lines_after_all_is_read_again_the_general_way(tmp_path, fallbacks):
    one_line_then_pretty(tmp_path / "export.ndjson.gz")
    write_trail_file(tmp_path / "s3.json.gz", events(5, "s3"))
    report = scan_paths(tmp_path)
    assert fallbacks == [True]
    assert (report.files_read, report.events_read, report.skipped_records) == (2, 106, [])
    assert [alert["invocation_count"] for alert in report.alerts] == [106]


def test_ingest_reads_again_the_general_way_too(tmp_path, fallbacks):
    one_line_then_pretty(tmp_path / "in" / "export.ndjson.gz")
    report = ingest([str(tmp_path / "in")], str(tmp_path / "trail.duckdb"))
    assert fallbacks == [True]
    assert (report.files_ingested, report.events_ingested) == (1, 101)


def test_a_broken_file_is_named_as_before_after_the_read_by_line_fails(tmp_path, fallbacks):
    write_trail_file(tmp_path / "good.json.gz", events(2))
    # One line, cut off past the kilobytes the layout is judged from.
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(gzip.compress(json.dumps({"Records": events(100, "c")}).encode()[:-20], mtime=0))
    with pytest.raises(InputError) as failure:
        scan_paths(tmp_path)
    assert fallbacks == [True, False]
    assert failure.value.path == str(cut)
    assert "not valid JSON" in str(failure.value)


def test_keep_going_reads_values_back_to_back_on_one_line_the_general_way(tmp_path):
    # `zcat *.json.gz > day.json` puts the files' objects back to back on one line: only the
    # general read takes them. With a broken file beside it, checking file by file must not
    # blame it (nor drop its alerts) because a read by line fails on it.
    day = tmp_path / "day.json"
    day.write_text(json.dumps({"Records": events(2, "a")}) + json.dumps({"Records": events(3, "b")}))
    (tmp_path / "cut.json.gz").write_bytes(gzip.compress(json.dumps({"Records": events(100)}).encode(), mtime=0)[:800])
    report = scan_paths(tmp_path, keep_going=True)
    assert [problem.path for problem in report.unreadable] == [str(tmp_path / "cut.json.gz")]
    assert (report.files_read, report.events_read) == (1, 5)
    assert [alert["invocation_count"] for alert in report.alerts] == [5]
