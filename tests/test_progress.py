"""The progress line: on a terminal only, never in pipes or CI, and gone with --quiet."""

from __future__ import annotations

import io
import time

from typer.testing import CliRunner

from ducktrail.cli import app
from ducktrail.report.progress import ProgressLine
from tests.support import FIXTURES


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_ingest_progress_shows_files_and_events_per_second_on_a_terminal():
    terminal = Terminal()
    line = ProgressLine(enabled=True, stream=terminal)
    line.files(3, 10, 15_000)
    line.clear()
    text = terminal.getvalue()
    assert "ingest: 3/10 files, 15,000 events," in text and "events/s" in text
    assert text.endswith("\r")


def test_scan_progress_polls_the_engine_until_stopped():
    terminal = Terminal()
    line = ProgressLine(enabled=True, stream=terminal)
    stop = line.watch(lambda: 50.0, total_files=10, total_bytes=10_000_000)
    deadline = time.monotonic() + 10
    while "scan:" not in terminal.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)
    stop()
    assert "scan:  50% of 10 files (~5 done)" in terminal.getvalue()


def test_nothing_is_shown_off_a_terminal_or_when_disabled():
    pipe = io.StringIO()
    ProgressLine(enabled=True, stream=pipe).files(1, 2, 3)
    quiet = Terminal()
    ProgressLine(enabled=False, stream=quiet).files(1, 2, 3)
    assert pipe.getvalue() == "" and quiet.getvalue() == ""


def test_cli_output_has_no_progress_when_not_on_a_terminal():
    result = CliRunner().invoke(app, ["scan", str(FIXTURES / "AWSLogs"), "-f", "json"])
    assert "\r" not in result.stderr and "scan:" not in result.stderr, result.stderr
