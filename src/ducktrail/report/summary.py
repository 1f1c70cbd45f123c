"""The one-line account of a scan printed on stderr, and the warnings that go with it."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ducktrail.inputs.locate import SOURCES
from ducktrail.scan import ScanReport, SkippedRecords

if TYPE_CHECKING:
    from ducktrail.ingest import IngestReport


def plural(count: int, noun: str) -> str:
    """The count as the progress line writes it, thousands separated, and the noun.

    >>> plural(1, "file"), plural(2, "file"), plural(500000, "event")
    ('1 file', '2 files', '500,000 events')
    """
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def summary_line(report: ScanReport) -> str:
    """
    >>> summary_line(ScanReport(rules=[]))
    'ducktrail: 0 files read, 0 events, 0 files skipped, 0 alerts from 0 rules'
    >>> summary_line(ScanReport(rules=[], files_read=4, events_read=17, database="t.duckdb"))
    'ducktrail: t.duckdb holds 4 files, 17 events; 0 alerts from 0 rules'
    """
    held = ""
    parts = []
    if report.database is not None:  # no file is read: these are what the database holds
        held = f"{report.database} holds {plural(report.files_read, 'file')}, {plural(report.events_read, 'event')}; "
    else:
        parts = [f"{plural(report.files_read, 'file')} read", plural(report.events_read, "event")]
        parts.append(_skipped_files(report.skipped_files))
    if report.unreadable:
        parts.append(f"{plural(len(report.unreadable), 'file')} unreadable")
    if report.skipped_records:
        parts.append(_skipped_records(report.skipped_records))
    untimed = sum(report.untimed_events.values())
    if untimed:
        parts.append(f"{plural(untimed, 'event')} without a readable {report.time_field} left out by the window")
    parts.append(f"{plural(len(report.alert_json), 'alert')} from {_rules_run(report.rules)}")
    return "ducktrail: " + held + ", ".join(parts)


def _rules_run(rules: list) -> str:
    """The rules a scan ran, and their versions when it ran several of one.

    >>> from types import SimpleNamespace as Rule
    >>> _rules_run([Rule(rule=Rule(id="a")), Rule(rule=Rule(id="b"))])
    '2 rules'
    >>> _rules_run([Rule(rule=Rule(id="a")), Rule(rule=Rule(id="a"))])
    '1 rule (2 versions)'
    """
    distinct = len({chosen.rule.id for chosen in rules})
    text = plural(distinct, "rule")
    return text if distinct == len(rules) else f"{text} ({plural(len(rules), 'version')})"


def ingest_line(report: IngestReport) -> str:
    """
    >>> from ducktrail.ingest import IngestReport
    >>> report = IngestReport(database="t.duckdb", files_ingested=2, events_ingested=9, files_total=2, events_total=9)
    >>> ingest_line(report)
    'ducktrail: 2 files ingested (9 events), 0 unchanged, 0 files skipped; t.duckdb holds 2 files, 9 events'
    >>> ingest_line(IngestReport(database="t.duckdb", files_emptied=1)).split(", ")[2]
    '1 stored file emptied (its events removed)'
    >>> ingest_line(IngestReport(database="t.duckdb", files_ingested=3, files_reloaded=1)).split(", ")[0]
    'ducktrail: 3 files ingested (0 events; 1 reloaded for this version of the source adapter)'
    """
    ingested = f"{plural(report.files_ingested, 'file')} ingested ({plural(report.events_ingested, 'event')}"
    if report.files_reloaded:
        ingested += f"; {report.files_reloaded:,} reloaded for this version of the source adapter"
    parts = [ingested + ")", f"{report.files_unchanged:,} unchanged"]
    if report.files_emptied:
        emptied = plural(report.files_emptied, "stored file")
        parts.append(f"{emptied} emptied ({'its' if report.files_emptied == 1 else 'their'} events removed)")
    parts.append(_skipped_files(report.skipped_files))
    if report.unreadable:
        parts.append(f"{plural(len(report.unreadable), 'file')} unreadable")
    if report.skipped_records:
        parts.append(_skipped_records(report.skipped_records))
    held = f"{report.database} holds {plural(report.files_total, 'file')}, {plural(report.events_total, 'event')}"
    return "ducktrail: " + ", ".join(parts) + "; " + held


def _skipped_records(skipped: list[SkippedRecords]) -> str:
    """
    >>> _skipped_records([SkippedRecords("a.json", 2, 1), SkippedRecords("b.json", 1, 3)])
    '3 records skipped (not CloudTrail events)'
    >>> _skipped_records([SkippedRecords("a.ndjson", 1, 1, source="ecs")])
    '1 record skipped (not Elastic CloudTrail documents)'
    """
    events = SOURCES[skipped[0].source].events
    return f"{plural(sum(s.count for s in skipped), 'record')} skipped (not {events})"


def _skipped_files(skipped: list) -> str:
    reasons = Counter(s.reason for s in skipped)
    text = plural(len(skipped), "file") + " skipped"
    if reasons:
        text += " (" + ", ".join(_reason_count(n, reason) for reason, n in sorted(reasons.items())) + ")"
    return text


def _reason_count(count: int, reason: str) -> str:
    """A skip reason (a singular noun phrase, '... file') with its count.

    >>> _reason_count(1, "CloudTrail-Digest file"), _reason_count(2, "CloudTrail-Digest file")
    ('1 CloudTrail-Digest file', '2 CloudTrail-Digest files')
    >>> _reason_count(3, "not a .json/.jsonl/.ndjson file")
    '3 not .json/.jsonl/.ndjson files'
    """
    if count == 1 or not reason.endswith(" file"):
        return f"{count:,} {reason}"
    negated = reason.startswith("not a ")
    noun = reason.removeprefix("not a ").removesuffix(" file")
    return f"{count:,} {'not ' if negated else ''}{noun} files"


def warnings(report: ScanReport | IngestReport) -> list[str]:
    """
    >>> warnings(ScanReport(rules=[], files_read=1, events_read=3, database="t.duckdb", stale_files=1))[0]
    'ducktrail: warning: t.duckdb: 1 of 1 file was loaded by another version of the source adapter, so the \
alerts may differ from a scan of the files; run `ducktrail ingest` over them again (with --source ecs for \
Elastic exports) to reload them'
    """
    lines = [f"ducktrail: warning: unreadable, skipped: {problem}" for problem in report.unreadable]
    read = report.files_read if isinstance(report, ScanReport) else report.files_ingested + report.files_unchanged
    database = report.database if isinstance(report, ScanReport) else None
    if database is not None and not report.events_read:
        lines.append(f"ducktrail: warning: {database} holds no events (load files into it with `ducktrail ingest`)")
    elif not read and not report.unreadable:
        see = " (see the skipped files in the summary)" if report.skipped_files else ""
        lines.append(f"ducktrail: warning: no CloudTrail files found{see}")
    stale = getattr(report, "stale_files", 0)
    if stale:
        lines.append(
            f"ducktrail: warning: {database}: {stale:,} of {plural(report.files_read, 'file')}"
            f" {'was' if stale == 1 else 'were'} loaded by another version of the source adapter, so the alerts may"
            " differ from a scan of the files; run `ducktrail ingest` over them again (with --source ecs for Elastic"
            " exports) to reload them"
        )
    for skipped in report.skipped_records:
        terms = SOURCES[skipped.source]
        notes = [f"first: record {skipped.first_record}"] if skipped.first_record else []
        if skipped.other_source:
            notes.append(terms.other_source_hint)
        where = f" ({'; '.join(notes)})" if notes else ""
        lines.append(
            f"ducktrail: warning: {skipped.path}: skipped {plural(skipped.count, 'record')} "
            f"that {f'is not {terms.event}' if skipped.count == 1 else f'are not {terms.events}'}{where}"
        )
    moved = getattr(report, "stored_elsewhere", [])
    if moved:
        new, old = moved[0]
        lines.append(
            f"ducktrail: warning: {plural(len(moved), 'new file')} {'has' if len(moved) == 1 else 'have'} the name"
            f" of a file stored from another path (first: {new}, stored as {old}); if files were moved or"
            " recompressed, their events are now stored twice: delete the old paths' rows from both tables (see README)"
        )
    untimed = getattr(report, "untimed_events", {})
    if untimed:
        events, (first, *_) = sum(untimed.values()), untimed
        lines.append(
            f"ducktrail: warning: --since/--until left out {plural(events, 'event')} that"
            f" {'has' if events == 1 else 'have'} no readable {report.time_field} (in {plural(len(untimed), 'file')};"
            f" first: {first}); scan without --since/--until to include them"
        )
    for chosen in getattr(report, "rules", []):
        if not chosen.released:
            lines.append(f"ducktrail: warning: {chosen.key} is an unreleased draft (not in the lock file)")
    return lines
