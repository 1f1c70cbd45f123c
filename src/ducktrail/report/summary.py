"""The one-line account of a scan printed on stderr, and the warnings that go with it."""

from __future__ import annotations

from collections import Counter

from ducktrail.scan import ScanReport


def plural(count: int, noun: str) -> str:
    """
    >>> plural(1, "file"), plural(2, "file")
    ('1 file', '2 files')
    """
    return f"{count} {noun}{'' if count == 1 else 's'}"


def summary_line(report: ScanReport) -> str:
    """
    >>> summary_line(ScanReport(rules=[]))
    'ducktrail: 0 files read, 0 events, 0 files skipped, 0 alerts from 0 rules'
    """
    parts = [f"{plural(report.files_read, 'file')} read", plural(report.events_read, "event")]
    reasons = Counter(s.reason for s in report.skipped_files)
    skipped = plural(len(report.skipped_files), "file") + " skipped"
    if reasons:
        skipped += " (" + ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items())) + ")"
    parts.append(skipped)
    if report.unreadable:
        parts.append(f"{plural(len(report.unreadable), 'file')} unreadable")
    records = sum(s.count for s in report.skipped_records)
    if records:
        parts.append(f"{plural(records, 'record')} skipped (not CloudTrail events)")
    parts.append(f"{plural(len(report.alerts), 'alert')} from {plural(len(report.rules), 'rule')}")
    return "ducktrail: " + ", ".join(parts)


def warnings(report: ScanReport) -> list[str]:
    lines = [f"ducktrail: warning: unreadable, skipped: {problem}" for problem in report.unreadable]
    for skipped in report.skipped_records:
        where = f" (first: record {skipped.first_record})" if skipped.first_record else ""
        lines.append(
            f"ducktrail: warning: {skipped.path}: skipped {plural(skipped.count, 'record')} "
            f"that are not CloudTrail events{where}"
        )
    for chosen in report.rules:
        if not chosen.released:
            lines.append(f"ducktrail: warning: {chosen.key} is an unreleased draft (not in the lock file)")
    return lines
