"""What can be proven here of the adapters no engine here runs (Trino/Athena, Snowflake, BigQuery):
their event-time regexes decide exactly as DuckDB's adapter does which times have an instant.

Each engine's parser reads more forms than DuckDB (a bare date, epoch seconds, week dates), so
the adapters parse only what a regex lets through; these tests take each adapter's regex from its
SQL file and apply it as that engine does: Trino's regexp_like searches (anchored by `^` and
`\\z`), Snowflake's REGEXP_LIKE matches the whole string, BigQuery's REGEXP_CONTAINS searches and
its RE2 `$` is the very end (Python's would also match before a final newline).
"""

from __future__ import annotations

import re

import pytest

from ducktrail.engine.duckdb_module import duckdb
from ducktrail.engine.duckdb_scan import an_empty_file, source_adapter
from ducktrail.sqlfiles import source_adapter_path

# (eventTime, whether it names its zone)
READ_BY_DUCKDB = [
    ("2026-11-01T10:00:00Z", True),
    ("2026-11-01T10:00:00.123Z", True),
    ("2026-11-01T10:00:00.123456789Z", True),
    ("2026-11-01T10:00:00.123456789123Z", True),
    ("2026-11-01T11:00:00+01:00", True),
    ("2026-11-01T11:00:00+0100", True),
    ("2026-11-01T11:00:00+01", True),
    ("2026-11-01T05:00:00-05:00", True),
    ("2026-11-01T10:00:00+14:00", True),
    ("2026-11-01T10:00:00", False),
    ("2026-11-01T10:00:00.5", False),
    ("2026-11-01 10:00:00Z", True),
    ("2026-11-01 10:00:00", False),
]
NOT_READ_BY_DUCKDB = [
    "2026-11-01",
    "2026-11-01T10:00",
    "2026-11-01T10",
    "T10:00:00Z",
    "2026-W44-7T10:00:00Z",
    "2026-305T10:00:00Z",
    "99999-01-01T00:00:00Z",
    "1487654321",
    "2026-11-01t10:00:00z",
    "2026-11-01T10:00:00,5Z",
    " 2026-11-01T10:00:00+01:00",
    "2026-11-01T10:00:00+01:00\n",
    "2026-11-01T10:00:00 UTC",
    "",
]
# DuckDB's strptime, which reads CloudTrail's own form first, skips whitespace around it; the other
# engines' adapters do not read these (nor does DuckDB with an offset, above).
READ_BY_DUCKDB_ONLY = [" 2026-11-01T10:00:00Z", "2026-11-01T10:00:00Z\n"]
# Trino holds no zone beyond 14 hours, and fails the query on one: its adapter leaves those out.
BEYOND_TRINO_ZONES = ["2026-11-01T10:00:00+15:00", "2026-11-01T10:00:00-14:01", "2026-11-01T10:00:00+1430"]


def adapter_text(engine: str) -> str:
    return source_adapter_path(engine, "cloudtrail").read_text(encoding="utf-8")


def sql_patterns(engine: str, call: str, column: str) -> list[str]:
    """The patterns of each `call(column, '<pattern>')` in the engine's adapter, in order."""
    found = re.findall(re.escape(f"{call}({column}, '") + r"([^']*)'\)", adapter_text(engine))
    assert found, f"no {call}({column}, '...') in the {engine} adapter"
    return found


def trino_search(pattern: str):
    return re.compile(pattern.replace("\\z", "\\Z")).search


def bigquery_search(pattern: str):
    return re.compile(re.sub(r"\$$", r"\\Z", pattern)).search


TRINO_GATE = trino_search(sql_patterns("trino", "regexp_like", "eventtime")[0])
SNOWFLAKE_GATE = re.compile(sql_patterns("snowflake", "NOT REGEXP_LIKE", "event_time_text")[0]).fullmatch
BIGQUERY_GATE = bigquery_search(sql_patterns("bigquery", "REGEXP_CONTAINS", "event_time_text")[0])


@pytest.fixture(scope="module")
def duckdb_reads():
    con = duckdb.connect()
    with an_empty_file() as empty:  # the adapter's view binds to a file
        con.execute("SET VARIABLE ducktrail_files = ?", [empty])
        con.execute(source_adapter("cloudtrail"))

    def reads(value: str) -> bool:
        return con.execute("SELECT ducktrail_event_time(?) IS NOT NULL", [value]).fetchone()[0]

    yield reads
    con.close()


def test_the_forms_listed_here_are_those_duckdb_reads(duckdb_reads):
    assert [value for value, _ in READ_BY_DUCKDB if not duckdb_reads(value)] == []
    assert [value for value in NOT_READ_BY_DUCKDB if duckdb_reads(value)] == []
    assert all(duckdb_reads(value) for value in BEYOND_TRINO_ZONES + READ_BY_DUCKDB_ONLY)


@pytest.mark.parametrize(
    ("engine", "gate"), [("trino", TRINO_GATE), ("snowflake", SNOWFLAKE_GATE), ("bigquery", BIGQUERY_GATE)]
)
def test_each_adapter_parses_the_times_duckdb_reads_and_no_others(engine, gate):
    assert [value for value, _ in READ_BY_DUCKDB if not gate(value)] == [], engine
    assert [value for value in NOT_READ_BY_DUCKDB + READ_BY_DUCKDB_ONLY if gate(value)] == [], engine


def test_trino_leaves_out_zones_it_cannot_hold_and_the_others_read_them():
    assert [value for value in BEYOND_TRINO_ZONES if TRINO_GATE(value)] == []
    assert all(SNOWFLAKE_GATE(value) and BIGQUERY_GATE(value) for value in BEYOND_TRINO_ZONES)


def test_trino_and_snowflake_tell_a_zone_from_none_as_the_forms_do():
    # Trino appends Z where no zone is given (else its session zone applies); Snowflake reads a
    # zone through TIMESTAMP_TZ (TO_TIMESTAMP_NTZ would drop it).
    trino_zone = trino_search(sql_patterns("trino", "regexp_like", "eventtime")[1])
    snowflake_zone = re.compile(sql_patterns("snowflake", "WHEN REGEXP_LIKE", "event_time_text")[0]).fullmatch
    for value, zoned in READ_BY_DUCKDB:
        assert bool(trino_zone(value)) == zoned, value
        assert bool(snowflake_zone(value)) == zoned, value
