"""Scan CloudTrail files with the rule pack: the library entry point behind `ducktrail scan`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ducktrail.diagnose import first_unrecognized, is_not_cloudtrail, not_cloudtrail, read_tolerantly
from ducktrail.engine import warm
from ducktrail.engine.duckdb_scan import (
    DuckDBEngine,
    EngineResult,
    FileCount,
    RuleQuery,
    first_line,
    parse_objects,
)
from ducktrail.errors import InputError, RulePackError, RulePackErrors, UsageError
from ducktrail.inputs.discover import SkippedFile, discover
from ducktrail.pack.loader import Pack
from ducktrail.pack.rules import Rule
from ducktrail.report.formats import RULE_KEYS
from ducktrail.report.progress import ProgressLine


@dataclass(frozen=True)
class SelectedRule:
    rule: Rule
    version: int
    released: bool

    @property
    def key(self) -> str:
        return f"{self.rule.id}@{self.version}"

    def query(self) -> RuleQuery:
        chosen = self.rule.sql(self.version)
        return RuleQuery(self.key, chosen.sql, str(chosen.path))


# Where a database's rows without a source_file are counted.
NO_SOURCE_FILE = "(rows without a source_file)"


@dataclass(frozen=True)
class SkippedRecords:
    """Records of a file that its source adapter did not read as events."""

    path: str
    count: int
    first_record: int | None
    source: str = "cloudtrail"
    # Some of them are the other source's events: the file mixes raw CloudTrail and Elastic documents.
    other_source: bool = False

    @classmethod
    def found_in(cls, path: str, count: int, source: str) -> SkippedRecords:
        first, other_source = first_unrecognized(path, source, count)
        return cls(path, count, first, source, other_source)


@dataclass
class ScanReport:
    rules: list[SelectedRule]
    # Each alert as a JSON object: the rule's metadata, then the rule's columns.
    alert_json: list[str] = field(default_factory=list)
    # Their keys, in order, for the CSV header: known from the rules even when none alerted.
    alert_columns: list[str] = field(default_factory=list)
    files_read: int = 0
    events_read: int = 0
    skipped_files: list[SkippedFile] = field(default_factory=list)
    unreadable: list[InputError] = field(default_factory=list)
    skipped_records: list[SkippedRecords] = field(default_factory=list)
    # Per file, the events --since/--until left out because they have no readable time, and the
    # field that time is read from.
    untimed_events: dict[str, int] = field(default_factory=dict)
    time_field: str = "eventTime"
    # The ingested database scanned (`scan --db`), rather than files.
    database: str | None = None
    # Of its files, those whose rows another version of the source adapter made.
    stale_files: int = 0

    @property
    def alerts(self) -> list[dict[str, Any]]:
        """The alerts parsed, anew on each access."""
        return parse_objects(self.alert_json)


def select_rules(pack: Pack, names: list[str] | None) -> list[SelectedRule]:
    """Rules by id or upstream id, optionally `id@version`; all newest versions by default."""
    if not names:
        return [SelectedRule(r, r.version, pack.is_released(r, r.version)) for r in pack.rules]
    selected = []
    for name in names:
        rule, version = pack.resolve(name)
        chosen = SelectedRule(rule, version, pack.is_released(rule, version))
        if chosen not in selected:
            selected.append(chosen)
    return selected


def refuse_misshapen_drafts(rules: list[SelectedRule]) -> None:
    """Released versions passed the shape check when they were locked; a draft has not. Only
    drafts pay for importing sqlglot."""
    drafts = [chosen.rule.sql(chosen.version) for chosen in rules if not chosen.released]
    if not drafts:
        return
    from ducktrail.pack.sql_shape import version_shape_problems

    problems = [problem for draft in drafts for problem in version_shape_problems(draft)]
    if problems:
        raise RulePackErrors(problems)


def _check_window(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and since >= until:
        raise UsageError("--since must be earlier than --until")


def scan_database(
    database: str,
    pack: Pack,
    *,
    rule_names: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    threads: int | None = None,
    memory_limit: str | None = None,
) -> ScanReport:
    """Run the selected rules over a database made by `ducktrail ingest`."""
    from ducktrail.engine.duckdb_store import EVENTS_TABLE, open_for_scan

    _check_window(since, until)
    rules = select_rules(pack, rule_names)
    refuse_misshapen_drafts(rules)
    engine, held = open_for_scan(database, threads=threads, memory_limit=memory_limit)
    report = ScanReport(
        rules=rules,
        files_read=held["files"],
        events_read=held["events"],
        database=database,
        stale_files=held["stale_files"],
    )
    queries = [chosen.query() for chosen in rules]
    with engine:
        try:
            result = engine.run(queries, since, until, relation=f"main.{EVENTS_TABLE}", per_file_counts=False)
        except engine.resource_errors:
            raise  # not the database's fault: the engine's exit reports it
        except engine.error_types as exc:
            raise InputError(f"cannot read the database: {first_line(exc)}", path=database) from None
    # Rows an analyst stored without a source_file are counted too, under a name of their own.
    untimed = {path or NO_SOURCE_FILE: count.untimed for path, count in result.counts.items() if count.untimed}
    report.untimed_events = dict(sorted(untimed.items()))
    report.time_field = "event_time"
    _add_alerts(report, rules, result)
    return report


def scan(
    paths: list[str],
    pack: Pack,
    *,
    rule_names: list[str] | None = None,
    source: str = "cloudtrail",
    since: datetime | None = None,
    until: datetime | None = None,
    keep_going: bool = False,
    threads: int | None = None,
    memory_limit: str | None = None,
    progress: ProgressLine | None = None,
) -> ScanReport:
    """Run the selected rules over every CloudTrail file under `paths`.

    Fails with InputError at the first unreadable file; with `keep_going` scans every readable
    file and lists the unreadable ones in the report instead.
    """
    _check_window(since, until)
    rules = select_rules(pack, rule_names)
    refuse_misshapen_drafts(rules)
    found = discover(paths, keep_going=keep_going)
    report = ScanReport(rules=rules, skipped_files=list(found.skipped), unreadable=list(found.unreadable))
    if source == "ecs":
        report.time_field = "@timestamp"
    files = list(found.files)
    settings = warm.for_files(source, threads, memory_limit)
    with warm.take(**settings) or DuckDBEngine(**settings) as engine:
        if not files:
            _add_columns(report, rules, _described(engine, rules))  # a CSV's header, even of nothing
            return report
        return _scan_files(engine, rules, files, report, since, until, keep_going, progress)


def _scan_files(
    engine: DuckDBEngine,
    rules: list[SelectedRule],
    files: list[str],
    report: ScanReport,
    since: datetime | None,
    until: datetime | None,
    keep_going: bool,
    progress: ProgressLine | None,
) -> ScanReport:
    queries = [chosen.query() for chosen in rules]
    engine.use_files(files)  # loads the adapter, whose read hook the counter takes over
    counter = engine.count_reads()
    so_far = counter.snapshot if counter is not None else None
    stop_watching = progress.watch(so_far, len(files)) if progress is not None else (lambda: None)
    try:
        result, files, problems = read_tolerantly(
            engine, files, lambda _: engine.run(queries, since, until), keep_going=keep_going
        )
    finally:
        stop_watching()
    report.unreadable.extend(problems)
    if result is not None:
        _account(report, files, result.counts, keep_going, engine.source)
        _add_alerts(report, rules, result)
    else:  # every file unreadable (--keep-going): no alerts, but their columns
        _add_columns(report, rules, _described(engine, rules))
    return report


def _described(engine: DuckDBEngine, rules: list[SelectedRule]) -> dict[str, tuple[str, ...]]:
    """Each rule's output columns, with no file read."""
    with engine.over_no_files():
        return {chosen.key: engine.output_columns(chosen.query()) for chosen in rules}


def _add_alerts(report: ScanReport, rules: list[SelectedRule], result: EngineResult) -> None:
    """Each alert's JSON object with its rule's metadata first, joined as text: large results
    need no parse and no second write in Python. Also the columns, known with no alert too."""
    _add_columns(report, rules, result.columns)
    for chosen in rules:
        head = json.dumps(_metadata(chosen), ensure_ascii=False, separators=(",", ":"))[:-1]
        report.alert_json.extend(
            head + ("}" if text == "{}" else "," + text[1:]) for text in result.alert_json[chosen.key]
        )


def _add_columns(report: ScanReport, rules: list[SelectedRule], columns: dict[str, tuple[str, ...]]) -> None:
    """The alerts' keys in order: each rule's metadata, then its output columns."""
    for chosen in rules:
        clash = [name for name in columns[chosen.key] if name in RULE_KEYS]
        if clash:
            raise RulePackError(f"rule {chosen.key} returns {', '.join(clash)}, which ducktrail adds to every alert")
        for name in (*_metadata(chosen), *columns[chosen.key]):
            if name not in report.alert_columns:
                report.alert_columns.append(name)


def _account(report: ScanReport, files: list[str], counts: dict[str, FileCount], keep_going: bool, source: str) -> None:
    """Turn per-file counts into read/skipped figures; a file with no event at all is not CloudTrail."""
    for path in files:
        count = counts.get(path)
        if is_not_cloudtrail(count):
            if not keep_going:
                raise not_cloudtrail(path, source)
            report.unreadable.append(not_cloudtrail(path, source))
            continue
        report.files_read += 1
        if count is None:
            continue
        report.events_read += count.records - count.unrecognized
        if count.unrecognized:
            report.skipped_records.append(SkippedRecords.found_in(path, count.unrecognized, source))
        if count.untimed:
            report.untimed_events[path] = count.untimed


def _metadata(chosen: SelectedRule) -> dict[str, Any]:
    rule = chosen.rule
    metadata: dict[str, Any] = {
        "rule_id": rule.id,
        "rule_name": rule.name,
        "rule_version": chosen.version,
        "severity": rule.severity,
        "risk_score": rule.risk_score,
        "mitre_techniques": [t.id for t in rule.techniques],
    }
    if rule.upstream is not None:
        metadata["upstream_rule_id"] = rule.upstream.rule_id
    return metadata
