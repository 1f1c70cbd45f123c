"""A read split across threads gives the scan one query over all the files gives: the same
alerts, the same per-file counts, and the same errors."""

from __future__ import annotations

import gzip
import os
import signal
import threading
from contextlib import contextmanager

import pytest

from ducktrail.engine import split_read
from ducktrail.engine.duckdb_scan import DuckDBEngine, RuleQuery
from tests.support import FIXTURES, invoke, pack, write_trail_file

INPUTS = sorted(
    str(p)
    for p in [*(FIXTURES / "AWSLogs").rglob("*.json*"), *(FIXTURES / "cases").glob("*/events.json")]
    if "/CloudTrail/" in str(p) or "/cases/" in str(p)
)
BUNDLED = pack().rules[0]
RULES = {
    "bundled": [RuleQuery("bundled", BUNDLED.sql(BUNDLED.version).sql)],
    "two_rules": [
        RuleQuery("bundled", BUNDLED.sql(BUNDLED.version).sql),
        RuleQuery(
            "errors",
            "SELECT event_source, error_code, count(*) AS n FROM cloudtrail_events"
            " WHERE error_code IS NOT NULL GROUP BY ALL ORDER BY ALL",
        ),
    ],
    "limit": [
        RuleQuery("first", "SELECT event_id FROM cloudtrail_events WHERE event_name LIKE 'Invoke%' ORDER BY 1 LIMIT 3")
    ],
    # Tests of the call (IN, a prefix) read first, the others after (engine/selective_first.py).
    "call_tests_first": [
        RuleQuery(
            "calls",
            "SELECT event_name, user_identity_arn, count(*) AS n FROM cloudtrail_events"
            " WHERE user_identity_arn IS NOT NULL AND event_source IN ('lambda.amazonaws.com', 'sts.amazonaws.com')"
            " AND starts_with(event_name, 'Invoke') AND error_code IS NULL GROUP BY ALL ORDER BY ALL",
        )
    ],
}


def scanned(files: list[str], rules: list[RuleQuery], *, split: bool, **window):
    with DuckDBEngine(threads=2) as engine:
        engine.split_reads = split
        engine.use_files(files)
        engine.count_reads()
        result = engine.run(rules, window.get("since"), window.get("until"))
        return result.alert_json, result.counts


@pytest.mark.parametrize("rules", sorted(RULES))
def test_a_split_read_equals_one_query_over_all_the_files(rules, monkeypatch):
    used = []
    monkeypatch.setattr(split_read, "read_in_shares", _counting(split_read.read_in_shares, used))
    split = scanned(INPUTS, RULES[rules], split=True)
    assert used == [2], "the read was not split"
    whole = scanned(INPUTS, RULES[rules], split=False)
    assert split == whole
    assert sum(count.records for count in split[1].values()) > 0


def test_a_split_read_keeps_only_the_rows_the_rules_filters_pass(monkeypatch):
    kept = []
    original = split_read.read_in_shares

    @contextmanager
    def keeping(con, files, select_sql, shares):
        with original(con, files, select_sql, shares) as relation:
            kept.append(con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0])
            yield relation

    monkeypatch.setattr(split_read, "read_in_shares", keeping)
    scanned(INPUTS, RULES["bundled"], split=True)
    with DuckDBEngine() as engine:
        engine.use_files(INPUTS)
        (total, passing) = engine.con.execute(
            "SELECT count(*), count(*) FILTER (event_source = 'lambda.amazonaws.com' AND event_name LIKE 'Invoke%'"
            " AND error_code IS NULL AND error_message IS NULL AND user_identity_arn IS NOT NULL"
            " AND user_identity_invoked_by IS NULL AND request_parameters IS NOT NULL) FROM cloudtrail_events"
        ).fetchone()
    assert kept == [passing] and 0 < passing < total, (kept, passing, total)


def test_a_split_read_applies_the_time_window(tmp_path):
    from datetime import datetime

    window = {"since": datetime(2026, 1, 1), "until": datetime(2026, 12, 31)}
    assert scanned(INPUTS, RULES["bundled"], split=True, **window) == scanned(
        INPUTS, RULES["bundled"], split=False, **window
    )


def test_a_rule_without_a_row_filter_reads_in_one_query(monkeypatch):
    used = []
    monkeypatch.setattr(split_read, "read_in_shares", _counting(split_read.read_in_shares, used))
    scanned(INPUTS, [RuleQuery("all", "SELECT count(*) AS n FROM cloudtrail_events")], split=True)
    assert used == []


def test_an_unreadable_file_in_one_share_fails_the_scan_as_one_query_would(tmp_path):
    good = [str(write_trail_file(tmp_path / f"{n}.json.gz", [invoke()])) for n in range(3)]
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(gzip.compress(b'{"Records": [')[:-8])
    files = [*good, str(bad)]
    errors = []
    for split in (True, False):
        with pytest.raises(Exception) as raised:
            scanned(files, RULES["bundled"], split=split)
        errors.append(type(raised.value))
    assert errors[0] is errors[1]
    with DuckDBEngine(threads=2) as engine:
        assert issubclass(errors[0], engine.error_types)


def test_the_shares_are_dropped_after_the_scan():
    with DuckDBEngine(threads=2) as engine:
        engine.use_files(INPUTS)
        engine.count_reads()
        engine.run(RULES["bundled"], None, None)
        left = engine.con.execute("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'ducktrail_share%'")
        assert left.fetchall() == []
        assert engine.con.execute("SELECT current_setting('threads')").fetchone()[0] == 2


def _counting(function, calls):
    def wrapper(con, files, select_sql, shares):
        calls.append(shares)
        return function(con, files, select_sql, shares)

    return wrapper


def test_ctrl_c_while_the_reads_start_stops_the_scan(tmp_path, monkeypatch):
    # Ctrl-C reaches the main thread between starting two workers. Every query that runs must be
    # stopped before the cursors are closed, and the interrupt must not pass for a failed read.
    files = [
        str(write_trail_file(tmp_path / f"{n}.json.gz", [invoke(event_id=f"{n}-{i}") for i in range(5000)]))
        for n in range(2)
    ]
    threads = split_read.threading.Thread
    original_start = threads.start

    def start_then_ctrl_c(self):
        original_start(self)
        if self._target.__name__ == "run":
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(threads, "start", start_then_ctrl_c)
    with DuckDBEngine(threads=2) as engine:
        engine.use_files(files)
        engine.count_reads()
        with pytest.raises(KeyboardInterrupt):
            engine.run(RULES["bundled"], None, None)
        monkeypatch.setattr(threads, "start", original_start)
        left = engine.con.execute("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'ducktrail_share%'")
        assert left.fetchall() == []
        assert engine.run(RULES["bundled"], None, None).alert_json["bundled"]


def test_ctrl_c_while_the_reads_run_stops_them_all(tmp_path, monkeypatch):
    # Interrupted while it waits, Thread.join can take a running thread for stopped (Python
    # 3.11); the read must still stop every query before closing the cursors.
    files = [
        str(write_trail_file(tmp_path / f"{n}.json.gz", [invoke(event_id=f"{n}-{i}") for i in range(20000)]))
        for n in range(2)
    ]
    with DuckDBEngine(threads=2) as engine:
        engine.use_files(files)
        engine.count_reads()
        timer = threading.Timer(0.05, lambda: os.kill(os.getpid(), signal.SIGINT))
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            engine.run(RULES["bundled"], None, None)
        timer.join()
        assert engine.run(RULES["bundled"], None, None).alert_json["bundled"]
