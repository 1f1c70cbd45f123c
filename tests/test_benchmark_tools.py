"""The benchmark's own tools: data generation is repeatable, the Python baseline it races
against computes the same alerts as ducktrail (so the comparison is fair), and the bare DuckDB
readers it reports read every event, the second with the fields the scan reads."""

from __future__ import annotations

import io
import json
import sys
from contextlib import redirect_stdout
from pathlib import Path

from tests.support import REPO, invoke, rule_columns, scan_paths, write_ndjson, write_trail_file

sys.path.insert(0, str(REPO / "benchmarks"))

import generate  # noqa: E402
import python_loop  # noqa: E402
import reader_floor  # noqa: E402
import run  # noqa: E402

from ducktrail.engine.duckdb_scan import BY_LINE, GENERAL, reading_for  # noqa: E402
from ducktrail.inputs.discover import discover  # noqa: E402


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.gz"))}


def test_generation_is_byte_identical_for_a_seed(tmp_path):
    generate.generate(str(tmp_path / "a"), 10_000, seed=7, jobs=1)
    generate.generate(str(tmp_path / "b"), 10_000, seed=7, jobs=2)
    first, second = tree_bytes(tmp_path / "a"), tree_bytes(tmp_path / "b")
    assert first == second and len(first) == 3  # two CloudTrail files and a digest
    generate.generate(str(tmp_path / "c"), 10_000, seed=8, jobs=1)
    assert tree_bytes(tmp_path / "c") != first


def test_python_baseline_and_ducktrail_raise_the_same_alerts(tmp_path):
    generate.generate(str(tmp_path), 20_000, seed=3, jobs=2)
    report = scan_paths(tmp_path)
    assert report.events_read == 20_000
    assert report.alerts, "the generated mix should contain cross-account invokes"
    out = io.StringIO()
    with redirect_stdout(out):
        python_loop.main([str(tmp_path)])
    assert json.loads(out.getvalue()) == rule_columns(report.alerts)
    # The benchmark's own check compares every column the loop prints, not just the groups.
    scanned = json.dumps(report.alerts).encode()
    assert run.same_alerts(out.getvalue().encode(), scanned)
    changed = json.loads(out.getvalue())
    changed[0]["source_ips"] = [*changed[0]["source_ips"], "192.0.2.1"]
    assert not run.same_alerts(json.dumps(changed).encode(), scanned)
    assert not run.same_alerts(b"[]", scanned)


def test_bare_readers_read_every_event_with_the_scans_fields(tmp_path):
    generate.generate(str(tmp_path), 15_000, seed=5, jobs=1)  # three files of 5,000
    files = list(discover([str(tmp_path)]).files)
    rule_fields = reader_floor.rule_read_type(files[0])
    for field in ("eventSource", "userIdentity", "requestParameters", "resources", "eventID"):
        assert f'"{field}"' in rule_fields
    assert '"sharedEventID"' not in rule_fields and '"awsRegion"' not in rule_fields
    assert reader_floor.read(files, rule_fields, BY_LINE) == 15_000
    assert reader_floor.read(files, reader_floor.ONE_FIELD, BY_LINE) == 15_000


def test_bare_readers_read_pretty_printed_files_and_exports_as_the_scan_would(tmp_path):
    events = [invoke(event_id=f"e-{n}") for n in range(7)]
    pretty = write_trail_file(tmp_path / "pretty.json.gz", events[:4], indent=2)
    export = write_ndjson(tmp_path / "export.ndjson", events[4:])
    assert reading_for([str(pretty)]) == GENERAL and reading_for([str(export)]) == BY_LINE
    files = [str(pretty), str(export)]
    for value_type in (reader_floor.ONE_FIELD, reader_floor.rule_read_type(str(pretty))):
        assert reader_floor.read(files, value_type, reading_for(files)) == 7


def test_growth_is_reported_from_the_smallest_tree_to_the_largest_and_only_when_they_differ():
    small = {"events": 500_000, "scan_s": 1.5, "scan_rss_mb": 180}
    large = {"events": 5_000_000, "scan_s": 12.0, "scan_rss_mb": 280}
    line = run.growth_line([large, small])
    assert line is not None and line.startswith("time growth 500,000 -> 5,000,000 events: 0.80 of linear"), line
    assert "peak scan RSS at 5,000,000: 280 MB" in line, line
    assert run.growth_line([small, dict(small, scan_s=2.0)]) is None
    assert run.growth_line([small]) is None


def test_peak_memory_is_the_commands_own_not_the_benchmarks():
    ballast = b"x" * (300 << 20)  # the benchmark's own memory, which a child forked from it would count
    _, rss, _ = run.timed([sys.executable, "-c", "pass"])
    assert len(ballast) and rss < 100, f"{rss:.0f} MB for an empty Python"


def test_python_baseline_reads_named_files_and_event_per_line_exports(tmp_path):
    events = [invoke(f"arn:aws:sts::444455556666:assumed-role/R/s{i}", event_id=f"e{i}") for i in range(3)]
    export = write_ndjson(tmp_path / "export.jsonl", events)
    trail = write_trail_file(tmp_path / "trail.json.gz", events)
    out = io.StringIO()
    with redirect_stdout(out):
        python_loop.main([str(export), str(trail)])
    looped = json.loads(out.getvalue())
    assert [a["invocation_count"] for a in looped] == [2, 2, 2], looped
    assert looped == rule_columns(scan_paths(export, trail).alerts)
