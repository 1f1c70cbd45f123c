"""What can be proven here of the adapters no engine here runs (Trino/Athena, Snowflake, BigQuery):
their event times are the instants DuckDB's adapter reads, from the same forms.

Each engine's parser reads more forms than DuckDB (a bare date, epoch seconds, week dates), so
each adapter lets a regex decide which times it parses, and rewrites those into the one form its
parser is given. The tests take each adapter's regex from its SQL file and apply it as that engine
does: Trino's regexp_like searches (anchored by `^` and `\\z`), Snowflake's REGEXP_LIKE matches the
whole string, BigQuery's REGEXP_CONTAINS searches and its RE2 `$` is the very end (Python's would
also match before a final newline). The rewriting they take from the adapter's parsed SQL, run in
DuckDB as sqlglot translates it, and check that it gives the form the parser expects, naming the
instant DuckDB reads.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlglot
from sqlglot import exp

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
SNOWFLAKE_GATE = re.compile(sql_patterns("snowflake", "REGEXP_LIKE", "event_time_text")[0]).fullmatch
BIGQUERY_GATE = bigquery_search(sql_patterns("bigquery", "REGEXP_CONTAINS", "event_time_text")[0])


@pytest.fixture(scope="module")
def duckdb_reads():
    con = duckdb.connect()
    with an_empty_file() as empty:  # the adapter's view binds to a file
        con.execute("SET VARIABLE ducktrail_files = ?", [empty])
        con.execute(source_adapter("cloudtrail"))

    def reads(value: str) -> bool:
        return con.execute("SELECT ducktrail_event_time(?) IS NOT NULL", [value]).fetchone()[0]

    reads.con = con
    yield reads
    con.close()


def test_the_forms_listed_here_are_those_duckdb_reads(duckdb_reads):
    assert [value for value, _ in READ_BY_DUCKDB if not duckdb_reads(value)] == []
    assert [value for value in NOT_READ_BY_DUCKDB if duckdb_reads(value)] == []
    assert all(duckdb_reads(value) for value in BEYOND_TRINO_ZONES + READ_BY_DUCKDB_ONLY)


@pytest.mark.parametrize(
    ("engine", "gate"), [("trino", TRINO_GATE), ("snowflake", SNOWFLAKE_GATE), ("bigquery", BIGQUERY_GATE)]
)
def test_each_adapter_attempts_the_times_duckdb_reads_and_no_others(engine, gate):
    assert [value for value, _ in READ_BY_DUCKDB if not gate(value)] == [], engine
    assert [value for value in NOT_READ_BY_DUCKDB + READ_BY_DUCKDB_ONLY if gate(value)] == [], engine


def test_trino_leaves_out_zones_it_cannot_hold_and_the_others_attempt_them():
    assert [value for value in BEYOND_TRINO_ZONES if TRINO_GATE(value)] == []
    assert all(SNOWFLAKE_GATE(value) and BIGQUERY_GATE(value) for value in BEYOND_TRINO_ZONES)


# The one form each parser is given: Trino's from_iso8601_timestamp, BigQuery's PARSE_TIMESTAMP
# with '%Y-%m-%dT%H:%M:%E*S%Ez', Snowflake's TO_TIMESTAMP_TZ with 'YYYY-MM-DD"T"HH24:MI:SS.FF9TZH:TZM'.
PARSER_FORMS = {
    "trino": (r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?([+-]\d\d):(\d\d)", "eventtime"),
    "bigquery": (r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{6})([+-]\d\d):(\d\d)", "event_time_text"),
    "snowflake": (r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{9})([+-]\d\d):(\d\d)", "event_time_text"),
}
# The digits of a fraction each engine keeps (the rest are cut), and whether its form pads them.
PRECISION = {"trino": (9, False), "bigquery": (6, True), "snowflake": (9, True)}
# How each adapter calls its parser on that form, and makes its result a UTC time: what the
# rewriting above is checked against. (Not run here: the engines' documentation is the proof.)
PARSER_CALLS = {
    "trino": ["try(CAST(from_iso8601_timestamp(", ") AT TIME ZONE 'UTC' AS TIMESTAMP(3))) AS event_time,"],
    "bigquery": ["THEN SAFE.PARSE_TIMESTAMP(\n            '%Y-%m-%dT%H:%M:%E*S%Ez',\n", ") END AS event_time,"],
    "snowflake": [
        "THEN CONVERT_TIMEZONE('UTC', TRY_TO_TIMESTAMP_TZ(\n",
        """,\n            'YYYY-MM-DD"T"HH24:MI:SS.FF9TZH:TZM'\n        ))::TIMESTAMP_NTZ END AS event_time,""",
    ],
}


def rewriting(engine: str) -> str:
    """The adapter's rewriting of an event time for its parser, as DuckDB SQL: the concatenation
    the event_time column's gated branch hands the parser."""
    tree = sqlglot.parse_one(adapter_text(engine), read=engine)
    column = next(a for a in tree.find_all(exp.Alias) if a.alias == "event_time" and not isinstance(a.this, exp.Column))
    gated = column.find(exp.Case).args["ifs"][0].args["true"]
    if engine == "trino":
        # Trino's regexp_extract gives NULL where nothing matches; DuckDB's, which sqlglot keeps
        # it as, gives ''.
        gated = gated.transform(
            lambda node: (
                exp.If(this=exp.RegexpLike(this=node.this.copy(), expression=node.expression.copy()), true=node)
                if isinstance(node, exp.RegexpExtract)
                else node
            )
        )
    return gated.find(exp.DPipe).sql("duckdb")


def instant(text: str, form: str) -> datetime:
    year, month, day, hour, minute, second, fraction, hours, minutes = re.fullmatch(form, text).groups()
    local = datetime(*map(int, (year, month, day, hour, minute, second)), int((fraction or "").ljust(9, "0")[:6]))
    sign = -1 if hours.startswith("-") else 1
    return local - sign * timedelta(hours=abs(int(hours)), minutes=int(minutes))


@pytest.mark.parametrize("engine", sorted(PARSER_FORMS))
def test_each_adapter_hands_its_parser_one_form_naming_the_instant_duckdb_reads(engine, duckdb_reads):
    form, column = PARSER_FORMS[engine]
    sql = f"SELECT {rewriting(engine)}, ducktrail_event_time(${column}) FROM (SELECT ${column} AS {column})"
    for value, _ in READ_BY_DUCKDB:
        if engine == "trino" and value in BEYOND_TRINO_ZONES:
            continue
        rewritten, expected = duckdb_reads.con.execute(sql, {column: value}).fetchone()
        assert re.fullmatch(form, rewritten), (engine, value, rewritten)
        assert instant(rewritten, form) == expected, (engine, value, rewritten)
        digits, padded = PRECISION[engine]
        given = re.search(r"[.](\d+)", value)
        kept = given.group(1)[:digits] if given else ""
        fraction = re.fullmatch(form, rewritten).group(7) or ""
        assert fraction == (kept.ljust(digits, "0") if padded else kept), (engine, value, rewritten)


@pytest.mark.parametrize("engine", sorted(PARSER_CALLS))
def test_each_adapter_calls_its_parser_as_the_form_it_is_given_needs(engine):
    text = adapter_text(engine)
    assert [call for call in PARSER_CALLS[engine] if call not in text] == [], engine
