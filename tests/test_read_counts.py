"""Per-file counts: a GROUP BY over the materialised view, or, when a progress line counts the
reads, the adapters' read hook while the rules read the files.

The hook's counts must be exact whatever the rules do (several rules, a rule that stops reading
early, a rule the optimizer proves empty, rule filters the optimizer pushes down) and must equal
the GROUP BY's.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from ducktrail.engine import read_counter
from ducktrail.engine.duckdb_scan import DuckDBEngine, RuleQuery
from ducktrail.engine.read_counter import FileCount
from tests.support import invoke, write_ndjson, write_trail_file
from tests.test_ecs_source import export

COUNT_RULE = RuleQuery("count", "SELECT count(*) AS n FROM cloudtrail_events")
ALL_IDS = "SELECT event_id FROM cloudtrail_events"
NOT_EVENTS = [{"message": "export started"}, {"eventName": "", "note": "placeholder only"}, {"Records": None}]


def events(count: int, prefix: str = "e") -> list[dict]:
    return [invoke(event_id=f"{prefix}-{n}") for n in range(count)]


def mixed_inputs(folder: Path) -> dict[str, FileCount]:
    """Files of every shape with the counts they must give: (records, of which not events)."""
    expected = {}
    for path, records, count in [
        (write_trail_file(folder / "plain.json.gz", events(4)), 4, 0),
        (write_trail_file(folder / "pretty.json", events(2), indent=2), 2, 0),
        (write_trail_file(folder / "noisy.json", [*events(3), {"foo": 1}, {"eventVersion": "-"}]), 5, 2),
        (write_trail_file(folder / "empty_records.json", []), 0, 0),
        (write_ndjson(folder / "export.ndjson", [*events(2, "n"), *NOT_EVENTS]), 5, 3),
        (write_ndjson(folder / "junk.ndjson.gz", [{"foo": 1}, {"bar": 2}]), 2, 2),
    ]:
        expected[str(path)] = FileCount(str(path), records, count)
    return expected


def counts_of(
    files: list[str], rules: list[RuleQuery], *, hooked: bool, source: str = "cloudtrail", threads: int | None = None
) -> dict[str, FileCount]:
    with DuckDBEngine(source=source, threads=threads) as engine:
        engine.use_files(files)
        if hooked:
            assert engine.count_reads() is not None, "this DuckDB cannot log"
        return engine.run(rules, None, None).counts


def refuse_logging(monkeypatch) -> None:
    """Act as a DuckDB that cannot log to memory (before 1.3)."""

    def refuse(con):
        raise duckdb.CatalogException("Table Function with name enable_logging does not exist!")

    monkeypatch.setattr(read_counter, "count_reads", refuse)


def test_the_hook_counts_every_shape_exactly(tmp_path):
    expected = mixed_inputs(tmp_path)
    counts = counts_of(list(expected), [COUNT_RULE], hooked=True)
    # A file with an empty Records list still holds one JSON value, so it is seen, with 0 records.
    assert counts == expected


def test_the_hook_and_the_group_by_count_alike(tmp_path):
    expected = mixed_inputs(tmp_path)
    fallback = counts_of(list(expected), [COUNT_RULE], hooked=False)
    # The GROUP BY has no row for a file without records; the scan treats both the same.
    assert {path: count for path, count in fallback.items() if count.records} == {
        path: count for path, count in expected.items() if count.records
    }


@pytest.mark.parametrize(
    "rules",
    [
        [RuleQuery("limited", "SELECT event_id FROM cloudtrail_events LIMIT 1")],
        [RuleQuery("sampled", "SELECT event_id FROM cloudtrail_events USING SAMPLE 1 ROWS")],
        [RuleQuery("never", "SELECT event_id FROM cloudtrail_events WHERE false")],
        [RuleQuery("one_event", "SELECT count(*) AS n FROM cloudtrail_events WHERE event_id = 'e-1'")],
        [RuleQuery("in_one_file", "SELECT count(*) FROM cloudtrail_events WHERE source_file LIKE '%plain%'")],
        [COUNT_RULE, RuleQuery("second", "SELECT count(DISTINCT event_id) AS n FROM cloudtrail_events")],
        [
            RuleQuery(
                "self_join", "SELECT count(*) AS n FROM cloudtrail_events a JOIN cloudtrail_events b USING (event_id)"
            )
        ],
        [RuleQuery("in_itself", f"SELECT count(*) AS n FROM cloudtrail_events WHERE event_id IN ({ALL_IDS})")],
        [
            RuleQuery(
                "cte_twice",
                "WITH e AS (FROM cloudtrail_events) SELECT (FROM e SELECT count(*)) + (FROM e SELECT count(event_id))",
            )
        ],
    ],
    ids=[
        "limit",
        "sample",
        "proved_empty",
        "filters_events",
        "filters_files",
        "two_rules",
        "self_join",
        "in_itself",
        "cte_named_twice",
    ],
)
@pytest.mark.parametrize("threads", [1, 2])
def test_counts_stay_exact_whatever_the_rules_read(tmp_path, rules, threads):
    expected = mixed_inputs(tmp_path)
    assert counts_of(list(expected), rules, hooked=True, threads=threads) == expected


@pytest.mark.parametrize(
    "rule",
    [COUNT_RULE, RuleQuery("one_event", "SELECT count(*) AS n FROM cloudtrail_events WHERE event_id = 'e-1'")],
    ids=["reads_all", "filters_events"],
)
def test_ecs_documents_are_counted_one_record_each(tmp_path, rule):
    path = write_ndjson(tmp_path / "export.ndjson", [*export(events(3)), {"message": "not a document"}])
    counts = counts_of([str(path)], [rule], hooked=True, source="ecs")
    assert counts == {str(path): FileCount(str(path), 4, 1)}


def test_a_rule_reads_the_same_rows_with_or_without_the_hook(tmp_path):
    files = list(mixed_inputs(tmp_path))
    rule = RuleQuery("ids", "SELECT list(event_id ORDER BY event_id) AS ids FROM cloudtrail_events")
    found = []
    for hooked in (True, False):
        with DuckDBEngine() as engine:
            engine.use_files(files)
            if hooked:
                assert engine.count_reads() is not None
            found.append(engine.run([rule], None, None).alerts)
    assert json.dumps(found[0]) == json.dumps(found[1])


def test_without_logging_a_scan_counts_in_sql_and_shows_time_only(tmp_path, monkeypatch):
    refuse_logging(monkeypatch)
    expected = mixed_inputs(tmp_path)
    with DuckDBEngine() as engine:
        engine.use_files(list(expected))
        assert engine.count_reads() is None
        counts = engine.run([COUNT_RULE], None, None).counts
    assert {path: count for path, count in counts.items() if count.records} == {
        path: count for path, count in expected.items() if count.records
    }
