"""Scan CloudTrail files with the rule pack: the library entry point behind `ducktrail scan`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ducktrail.engine.duckdb_scan import DuckDBEngine, EngineError, FileCount, RuleQuery, first_line
from ducktrail.errors import InputError, UsageError
from ducktrail.inputs import locate
from ducktrail.inputs.discover import SkippedFile, discover
from ducktrail.pack.loader import Pack
from ducktrail.pack.rules import Rule


@dataclass(frozen=True)
class SelectedRule:
    rule: Rule
    version: int
    released: bool

    @property
    def key(self) -> str:
        return f"{self.rule.id}@{self.version}"


@dataclass(frozen=True)
class SkippedRecords:
    path: str
    count: int
    first_record: int | None


@dataclass
class ScanReport:
    rules: list[SelectedRule]
    alerts: list[dict[str, Any]] = field(default_factory=list)
    files_read: int = 0
    events_read: int = 0
    skipped_files: list[SkippedFile] = field(default_factory=list)
    unreadable: list[InputError] = field(default_factory=list)
    skipped_records: list[SkippedRecords] = field(default_factory=list)


def select_rules(pack: Pack, names: list[str] | None) -> list[SelectedRule]:
    """Rules by id or upstream id, optionally `id@version`; all newest versions by default."""
    if not names:
        return [SelectedRule(r, r.version, pack.is_released(r, r.version)) for r in pack.rules]
    selected = []
    for name in names:
        rule_name, _, version_text = name.partition("@")
        rule = pack.find(rule_name)
        version = rule.version
        if version_text:
            if not version_text.isdigit():
                raise UsageError(f"bad rule version in {name!r}: expected ID@N")
            version = rule.sql(int(version_text)).number
        chosen = SelectedRule(rule, version, pack.is_released(rule, version))
        if chosen not in selected:
            selected.append(chosen)
    return selected


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
) -> ScanReport:
    """Run the selected rules over every CloudTrail file under `paths`.

    Fails with InputError at the first unreadable file; with `keep_going` scans every readable
    file and lists the unreadable ones in the report instead.
    """
    if since is not None and until is not None and since >= until:
        raise UsageError("--since must be earlier than --until")
    rules = select_rules(pack, rule_names)
    found = discover(paths, keep_going=keep_going)
    report = ScanReport(rules=rules, skipped_files=list(found.skipped), unreadable=list(found.unreadable))
    files = list(found.files)
    if not files:
        return report
    engine = DuckDBEngine(source=source, threads=threads, memory_limit=memory_limit)
    queries = [RuleQuery(chosen.key, chosen.rule.sql(chosen.version).sql) for chosen in rules]
    result = None
    while result is None:
        engine.use_files(files)
        try:
            result = engine.run(queries, since, until)
        except engine.error_types as exc:
            bad = _diagnose(engine, files, exc, find_all=keep_going)
            if not keep_going:
                raise bad[0] from None
            report.unreadable.extend(bad)
            failed = {problem.path for problem in bad}
            files = [f for f in files if f not in failed]
            if not files:
                break
    if result is not None:
        _account(report, files, result.counts, keep_going)
        by_key = {chosen.key: chosen for chosen in rules}
        for key, alerts in result.alerts.items():
            report.alerts.extend(_with_metadata(by_key[key], alert) for alert in alerts)
    return report


def _account(report: ScanReport, files: list[str], counts: dict[str, FileCount], keep_going: bool) -> None:
    """Turn per-file counts into read/skipped figures; a file with no event at all is not CloudTrail."""
    for path in files:
        count = counts.get(path)
        if count is None:
            report.files_read += 1
            continue
        if count.unrecognized == count.records:
            problem = InputError(
                f"not CloudTrail JSON: no record has any of {', '.join(locate.EVENT_KEYS)}",
                path=path,
                record=locate.first_record(path, lambda r: not locate.is_event(r)),
            )
            if not keep_going:
                raise problem
            report.unreadable.append(problem)
            continue
        report.files_read += 1
        report.events_read += count.records - count.unrecognized
        if count.unrecognized:
            first = locate.first_record(path, lambda r: not locate.is_event(r))
            report.skipped_records.append(SkippedRecords(path, count.unrecognized, first))


def _with_metadata(chosen: SelectedRule, alert: dict[str, Any]) -> dict[str, Any]:
    rule = chosen.rule
    enriched: dict[str, Any] = {
        "rule_id": rule.id,
        "rule_name": rule.name,
        "rule_version": chosen.version,
        "severity": rule.severity,
        "risk_score": rule.risk_score,
        "mitre_techniques": [t.id for t in rule.techniques],
    }
    if rule.upstream is not None:
        enriched["upstream_rule_id"] = rule.upstream.rule_id
    enriched.update(alert)
    return enriched


def _diagnose(engine: DuckDBEngine, files: list[str], exc: Exception, *, find_all: bool) -> list[InputError]:
    """Name the file(s) behind an engine error: from its message, else by reading each alone."""
    message = str(exc)
    if isinstance(exc, engine.resource_errors):
        raise EngineError(f"DuckDB ran out of resources: {first_line(exc)} (try --memory-limit or --threads)") from None
    named = [f for f in files if f in message]
    if named and not find_all:
        culprit = max(named, key=len)
        return [explain(culprit, message)]
    problems = []
    for path in files:
        try:
            engine.probe(path)
        except engine.resource_errors as probe_exc:
            raise EngineError(
                f"DuckDB ran out of resources: {first_line(probe_exc)} (try --memory-limit or --threads)"
            ) from None
        except engine.error_types as probe_exc:
            problems.append(explain(path, str(probe_exc)))
            if not find_all:
                break
    if not problems:
        raise EngineError(f"the scan failed and no input file explains it: {first_line(exc)}")
    return problems


def explain(path: str, engine_message: str) -> InputError:
    """An InputError for `path` in the user's terms, from the engine's message."""
    # The message quotes the path; a folder named 'gzip-exports' must not steer the diagnosis.
    text = " ".join(engine_message.replace(path, "<file>").split())
    if locate.is_gzip(path):
        broken = locate.gzip_problem(path)
        if broken:
            return InputError(broken, path=path)
        if not path.endswith(".gz"):
            return InputError("gzip-compressed but not named .gz; add the .gz suffix", path=path)
    elif "GZIP" in text.upper():
        if locate.starts_with(path, b"{") or locate.starts_with(path, b"["):
            return InputError("named .gz but holds plain JSON (decompressed on download?); drop the .gz", path=path)
        return InputError("not a gzip file, though named .gz", path=path)
    if "maximum_object_size" in text:
        return InputError(
            "a JSON value is larger than the 128 MiB the reader accepts (AWS delivers files of at most about 50 MB)",
            path=path,
        )
    if "Malformed JSON" in text:
        syntax = locate.json_syntax_error(path)
        if syntax is not None:
            return InputError(f"not valid JSON ({syntax.reason})", path=path, line=syntax.line)
        detail = _after(text, r"in record/value \d+: ")
        return InputError(f"not valid JSON ({detail.rstrip('. ')})" if detail else "not valid JSON", path=path)
    if "transform error" in text or "Expected" in text:
        detail = (_after(text, r"in record/value \d+: ") or text).split(" Try setting")[0].rstrip(". ")
        if detail.startswith("Expected OBJECT, but got ARRAY") and locate.starts_with(path, b"["):
            detail = 'a JSON array at the top level; expected {"Records": [...]} or one event per line'
        return InputError(
            f"not CloudTrail JSON ({detail})",
            path=path,
            record=locate.first_record(path, locate.is_malformed),
        )
    return InputError(first_line(Exception(text)), path=path)


def _after(text: str, pattern: str) -> str:
    match = re.search(pattern, text)
    return text[match.end() :] if match else ""
