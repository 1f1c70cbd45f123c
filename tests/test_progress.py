"""The progress line: on a terminal only, never in pipes or CI, and gone with --quiet."""

from __future__ import annotations

import io
import time

import duckdb
import pytest
from typer.testing import CliRunner

from ducktrail.cli import app
from ducktrail.engine.duckdb_scan import DuckDBEngine, RuleQuery
from ducktrail.engine.read_counter import ReadCounts, count_reads
from ducktrail.ingest import Tally, ingest
from ducktrail.pack.loader import load_pack
from ducktrail.report.progress import ProgressLine
from ducktrail.scan import scan
from tests.support import FIXTURES, invoke, write_ndjson, write_trail_file
from tests.test_ecs_source import export


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True

    def screen(self) -> str:
        """What the terminal shows on its line now: a carriage return writes over the line."""
        line: list[str] = []
        column = 0
        for character in self.getvalue():
            if character == "\r":
                column = 0
                continue
            line[column : column + 1] = [character]
            column += 1
        return "".join(line)


def shown_until(terminal: Terminal, text: str) -> None:
    deadline = time.monotonic() + 10
    while text not in terminal.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_ingest_progress_shows_files_and_events_per_second_on_a_terminal():
    terminal = Terminal()
    stop = ProgressLine(enabled=True, stream=terminal).watch(lambda: ReadCounts(3, 15_000), 10, verb="ingest")
    shown_until(terminal, "ingest:")
    stop()
    text = terminal.getvalue()
    assert "ingest: 3/10 files, 15,000 events," in text and "events/s" in text, text
    assert text.endswith("\r"), text


def test_scan_progress_shows_files_events_and_rate_until_stopped():
    terminal = Terminal()
    line = ProgressLine(enabled=True, stream=terminal)
    con = duckdb.connect()
    counter = count_reads(con)
    con.execute("SELECT ducktrail_value_read(f, 5000, 0, 0) FROM (VALUES ('a.json.gz'), ('b.json.gz')) AS v(f)")
    stop = line.watch(counter.snapshot, total_files=10)
    shown_until(terminal, "scan:")
    stop()
    shown = terminal.getvalue()
    assert "scan: 2/10 files, 10,000 events, " in shown and "events/s" in shown, shown
    assert shown.endswith("\r"), shown


@pytest.mark.parametrize(
    ("source", "write"),
    [
        ("cloudtrail", lambda folder: [write_trail_file(folder / f"{n}.json.gz", events(n + 1)) for n in range(3)]),
        ("cloudtrail", lambda folder: [write_ndjson(folder / f"{n}.ndjson", events(n + 1)) for n in range(3)]),
        ("ecs", lambda folder: [write_ndjson(folder / f"{n}.ndjson", export(events(n + 1))) for n in range(3)]),
    ],
    ids=["records_files", "ndjson_files", "ecs_export"],
)
def test_the_engine_counts_every_file_and_event_it_reads(tmp_path, source, write):
    files = [str(path) for path in write(tmp_path)]
    with DuckDBEngine(source=source) as engine:
        engine.use_files(files)
        counter = engine.count_reads()
        assert counter is not None, "this DuckDB cannot log"
        result = engine.run([RuleQuery("r", "SELECT count(*) AS n FROM cloudtrail_events")], None, None)
        assert counter.snapshot() == ReadCounts(files=3, events=1 + 2 + 3)
    assert result.alerts["r"] == [{"n": 6}]


def test_the_read_hook_is_a_no_op_that_drops_nothing_without_a_counter(tmp_path):
    files = [str(write_trail_file(tmp_path / "a.json", events(4)))]
    with DuckDBEngine() as engine:
        engine.use_files(files)
        rows = engine.con.execute("SELECT count(*) FROM cloudtrail_events").fetchall()
    assert rows == [(4,)]


def test_a_scan_on_a_terminal_shows_its_progress_and_finds_the_same_alerts():
    terminal = Terminal()
    watched = scan([str(FIXTURES / "AWSLogs")], load_pack(), progress=ProgressLine(enabled=True, stream=terminal))
    plain = scan([str(FIXTURES / "AWSLogs")], load_pack())
    assert watched.alerts == plain.alerts and watched.events_read == plain.events_read
    assert "\rscan: 0/4 files, 0 events, " in terminal.getvalue(), "shown from the start"
    assert terminal.screen().strip() == "", f"the line is cleared when the scan ends: {terminal.getvalue()!r}"


def test_ingest_progress_counts_the_batch_being_read_and_each_stored_batch_once(tmp_path):
    files = [str(write_trail_file(tmp_path / f"{n}.json.gz", events(n + 1))) for n in range(3)]
    with DuckDBEngine() as engine:
        tally = Tally(engine)
        engine.use_files(files[:2])
        assert tally.so_far() == ReadCounts(0, 0)
        assert engine.count_reads() is not None, "this DuckDB cannot log"
        engine.con.execute("SELECT count(*) FROM cloudtrail_events").fetchall()
        assert tally.so_far() == ReadCounts(2, 1 + 2), "the batch being read"
        tally.stored(2, 3)
        assert tally.so_far() == ReadCounts(2, 3), "a stored batch leaves the hook's count"
        engine.use_files(files[2:])
        engine.con.execute("SELECT count(*) FROM cloudtrail_events").fetchall()
        assert tally.so_far() == ReadCounts(3, 3 + 3)


def test_an_ingest_on_a_terminal_clears_its_progress_line(tmp_path):
    terminal = Terminal()
    report = ingest(
        [str(FIXTURES / "AWSLogs")], str(tmp_path / "t.duckdb"), progress=ProgressLine(enabled=True, stream=terminal)
    )
    assert report.files_ingested > 0
    assert "\ringest: 0/4 files, 0 events, " in terminal.getvalue(), "shown from the start"
    assert terminal.screen().strip() == "", f"the line is cleared when the ingest ends: {terminal.getvalue()!r}"


def events(count: int) -> list[dict]:
    return [invoke(event_id=f"e-{n}") for n in range(count)]


def test_nothing_is_shown_off_a_terminal_or_when_disabled():
    pipe = io.StringIO()
    ProgressLine(enabled=True, stream=pipe).show("scan: 1/2 files")
    quiet = Terminal()
    ProgressLine(enabled=False, stream=quiet).show("scan: 1/2 files")
    assert pipe.getvalue() == "" and quiet.getvalue() == ""


def test_cli_output_has_no_progress_when_not_on_a_terminal():
    result = CliRunner().invoke(app, ["scan", str(FIXTURES / "AWSLogs"), "-f", "json"])
    assert "\r" not in result.stderr and "scan:" not in result.stderr, result.stderr


def test_the_fake_terminal_keeps_what_a_real_line_would_show():
    terminal = Terminal()
    terminal.write("\rscan: 1/2 files")
    assert terminal.screen() == "scan: 1/2 files"
    terminal.write("\rscan: 2/2")
    assert terminal.screen() == "scan: 2/2 files"
    terminal.write("\r" + " " * 15 + "\r")
    assert terminal.screen() == " " * 15


def test_counts_that_cannot_be_read_end_the_line_not_the_run():
    def failing():
        raise RuntimeError("the log cannot be read")

    terminal = Terminal()
    stop = ProgressLine(enabled=True, stream=terminal).watch(failing, 3)
    stop()
    assert terminal.getvalue() == ""
