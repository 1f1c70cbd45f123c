"""Naming the input behind an engine failure, in the user's terms.

DuckDB reports the first failure of a whole multi-file read. These functions find which file
it was (from the message, else by reading each file alone) and say what is wrong with it,
looking into the file with Python only on this error path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from ducktrail.engine.duckdb_scan import DuckDBEngine, EngineError, FileCount, first_line
from ducktrail.engine.literal_paths import reported
from ducktrail.errors import InputError, WrongSourceError
from ducktrail.inputs import locate

Result = TypeVar("Result")


class RejectedFiles(Exception):
    """Raised by a read (having changed nothing) to take files out of it: one InputError each."""

    def __init__(self, problems: list[InputError]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


def read_tolerantly(
    engine: DuckDBEngine,
    files: list[str],
    read: Callable[[list[str]], Result],
    *,
    keep_going: bool,
) -> tuple[Result | None, list[str], list[InputError]]:
    """Run `read` over `files`; on failure name the bad file(s).

    A failed read by line (engine.reading) is first repeated the general way.

    Fails with the first InputError, or with `keep_going` drops every unreadable file, and every
    file the read rejects (RejectedFiles), reads the rest, and returns (result, files read, problems).
    """
    problems: list[InputError] = []
    while files:
        engine.use_files(files)
        try:
            return read(files), files, problems
        except RejectedFiles as rejected:
            rejected_paths = {problem.path for problem in rejected.problems}
            if not keep_going or not rejected_paths & set(files):
                raise rejected.problems[0] from None
            problems.extend(rejected.problems)
            files = [f for f in files if f not in rejected_paths]
        except engine.error_types as exc:
            if not isinstance(exc, engine.resource_errors) and engine.stop_reading_by_line():
                continue  # a file spans lines after all; only a failure of the general read is the input's
            bad = diagnose(engine, files, exc, find_all=keep_going)
            if not keep_going:
                raise bad[0] from None
            problems.extend(bad)
            failed = {problem.path for problem in bad}
            files = [f for f in files if f not in failed]
    return None, files, problems


def not_cloudtrail(path: str, source: str = "cloudtrail") -> InputError:
    """A file whose every record lacks all the fields that mark an event of `source`, saying so
    when its records are the other source's events (--source given or left out by mistake)."""
    terms = locate.SOURCES[source]
    message = f"{terms.not_this_source}: no record has any of {', '.join(terms.event_fields)}"
    # One read of the file for both: it may be tens of megabytes. Read as trail files are, so
    # that a CloudTrail delivery given as an Elastic export is seen for what it is.
    other_source, unrecognized = locate.first_records(
        path,
        lambda record: locate.source_of(record) not in (None, source),
        lambda record: not locate.is_event_of(record, source),
    )
    if other_source is not None:
        message += (
            "; they are CloudTrail's own events: leave out --source ecs"
            if source == "ecs"
            else "; they are Elastic documents: add --source ecs"
        )
        return WrongSourceError(message, path=path, record=unrecognized)
    return InputError(message, path=path, record=unrecognized)


def is_not_cloudtrail(count: FileCount | None) -> bool:
    return count is not None and count.records > 0 and count.unrecognized == count.records


def first_unrecognized(path: str, source: str, count: int) -> tuple[int | None, bool]:
    """The number of the first of the `count` records that the `source` adapter did not read as
    events, and whether the other source's events are among them (a file that mixes the two).
    Reads no further than it must: an export may be gigabytes, its skipped records a header line."""
    first: int | None = None
    other_source = False
    seen = 0

    def note(number: int, record: Any) -> bool:
        nonlocal first, other_source, seen
        if locate.is_event_of(record, source):
            return False
        first = number if first is None else first
        seen += 1
        other_source = other_source or locate.source_of(record) not in (None, source)
        return other_source or seen >= count

    locate.visit_records(path, note, source=source)
    return first, other_source


def diagnose(engine: DuckDBEngine, files: list[str], exc: Exception, *, find_all: bool) -> list[InputError]:
    """Name the file(s) behind an engine error: from its message, else by reading each alone."""
    message = str(exc)
    if isinstance(exc, engine.resource_errors):
        raise exc  # the machine's limit, not a file's fault: the engine's exit reports it
    named = [f for f in files if f in message]
    if named and not find_all:
        culprit = max(named, key=len)
        return [explain(culprit, message, engine.source)]
    problems = []
    for path in files:
        try:
            engine.probe(path)
        except engine.resource_errors:
            raise
        except engine.error_types as probe_exc:
            problems.append(explain(path, str(probe_exc), engine.source))
            if not find_all:
                break
    if not problems:
        raise EngineError(f"DuckDB failed and no input file explains it: {first_line(exc)}")
    return problems


def vanished(path: str) -> InputError:
    """A file listed at the start of the run that is gone when it is read."""
    return InputError("no longer a file: removed or replaced while ducktrail ran?", path=path)


def explain(path: str, engine_message: str, source: str = "cloudtrail") -> InputError:
    """An InputError for `path` in the user's terms, from the engine's message about a file of
    `source` (cloudtrail or ecs)."""
    terms = locate.SOURCES[source]
    # The message quotes the path; a folder named 'gzip-exports' must not steer the diagnosis.
    text = " ".join(engine_message.replace(path, "<file>").replace(reported(path), "<file>").split())
    if not os.path.isfile(path):
        return vanished(path)
    if locate.is_gzip(path):
        broken = locate.gzip_problem(path)
        if broken:
            return InputError(broken, path=path)
        if not path.lower().endswith(".gz"):  # DuckDB takes .GZ for gzip too
            return InputError("gzip-compressed but not named .gz; add the .gz suffix", path=path)
        if "GZIP" in text.upper():
            # Python's gzip ignores zero padding after the last member; DuckDB reads on for another.
            return InputError(
                "bytes after the gzip data are not another gzip member (zero padding?), which DuckDB"
                " cannot read; recompress it: zcat FILE | gzip > NEW.json.gz",
                path=path,
            )
    elif "GZIP" in text.upper():
        if locate.starts_with(path, b"{") or locate.starts_with(path, b"["):
            return InputError("named .gz but holds plain JSON (decompressed on download?); drop the .gz", path=path)
        return InputError("not a gzip file, though named .gz", path=path)
    if "maximum_object_size" in text:
        return InputError(
            "a JSON value is larger than the 64 MiB the reader accepts (AWS delivers files of at most about 50 MB)",
            path=path,
        )
    if "Malformed JSON" in text:
        syntax = locate.json_syntax_error(path)
        if syntax is not None:
            return InputError(f"not valid JSON ({syntax.reason})", path=path, line=syntax.line)
        detail = _after(text, r"in (?:record/value|line) \d+: ")
        return InputError(f"not valid JSON ({detail.rstrip('. ')})" if detail else "not valid JSON", path=path)
    if "transform error" in text or "Expected" in text:
        detail = (_after(text, r"in (?:record/value|line) \d+: ") or text).split(" Try setting")[0].rstrip(". ")
        if detail.startswith("Expected OBJECT, but got ARRAY") and locate.starts_with(path, b"["):
            detail = "a JSON array at the top level; expected " + terms.layout
        if "duplicate key" in detail:
            record = locate.first_record(path, locate.has_duplicate_keys, duplicates=True, source=source)
        else:
            record = locate.first_record(path, partial(locate.is_malformed, shape=terms.shape), source=source)
        return InputError(f"{terms.not_this_source} ({detail})", path=path, record=record)
    return InputError(first_line(Exception(text)), path=path)


def _after(text: str, pattern: str) -> str:
    match = re.search(pattern, text)
    return text[match.end() :] if match else ""
