"""Load CloudTrail files into a DuckDB database once, so later scans skip decompressing them."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field, replace
from functools import partial

from ducktrail.diagnose import is_not_cloudtrail, not_cloudtrail, read_tolerantly, vanished
from ducktrail.engine.adapter_identity import current_adapter_hashes
from ducktrail.engine.duckdb_scan import INGEST_MEMORY_PER_THREAD, DuckDBEngine
from ducktrail.engine.duckdb_store import FileStamp, Store, check_database_name
from ducktrail.engine.read_counter import FileCount, ReadCounts
from ducktrail.errors import InputError
from ducktrail.inputs import layout
from ducktrail.inputs.discover import EMPTY_FILE, SkippedFile, discover
from ducktrail.report.progress import ProgressLine
from ducktrail.scan import SkippedRecords

# Each transaction (a batch) is sorted in memory before it is stored: up to this much JSON, some
# 350,000 events, sorts within the default memory limit, whatever the size of the files.
BATCH_BYTES = 384 << 20
# And up to this many files: progress advances and a failure loses at most one batch's work.
BATCH_FILES = 1024
# DuckDB keeps written blocks cached up to its memory limit (80% of RAM by default), and the
# process holds somewhat more than that; an ingest needs little of it, so unless told otherwise
# it stays within this, and its peak RSS under 1 GB.
DEFAULT_MEMORY_LIMIT = "768MB"


@dataclass
class IngestReport:
    database: str
    files_ingested: int = 0
    events_ingested: int = 0
    files_unchanged: int = 0
    # Of those ingested, stored files read again only because an adapter this ducktrail does not
    # have (an earlier version's) made their rows.
    files_reloaded: int = 0
    # Stored files that are empty now, whose events were removed.
    files_emptied: int = 0
    skipped_files: list[SkippedFile] = field(default_factory=list)
    unreadable: list[InputError] = field(default_factory=list)
    skipped_records: list[SkippedRecords] = field(default_factory=list)
    files_total: int = 0
    events_total: int = 0
    # New files that have the name (and size, or the name with or without .gz) of a stored file
    # not among the paths given now (path as given, stored path): most likely a tree that was
    # moved or recompressed, whose events are then stored twice.
    stored_elsewhere: list[tuple[str, str]] = field(default_factory=list)


class Tally:
    """Files done and events stored by the batches so far, plus what the read hook has counted
    of the batch being read: the progress line moves while a batch is read, not once per batch
    (a batch can take seconds). Without the hook it moves per batch."""

    def __init__(self, engine: DuckDBEngine) -> None:
        self._engine = engine
        # A stored batch leaves the hook's log and enters the totals at once, never counted twice.
        self._lock = threading.Lock()
        self._files = 0
        self._events = 0

    def stored(self, files: int, events: int) -> None:
        with self._lock:
            self._files += files
            self._events += events
            counter = self._engine.reads
            if counter is not None:
                counter.reset()

    def so_far(self) -> ReadCounts:
        """Callable from any thread, also while a batch is read."""
        with self._lock:
            counter = self._engine.reads
            reading = counter.snapshot() if counter is not None else ReadCounts(0, 0)
            return ReadCounts(self._files + reading.files, self._events + reading.events)


def ingest(
    paths: list[str],
    database: str,
    *,
    source: str = "cloudtrail",
    keep_going: bool = False,
    threads: int | None = None,
    memory_limit: str | None = None,
    progress: ProgressLine | None = None,
) -> IngestReport:
    """Ingest new and changed files (by path, size and modification time) into `database`."""
    check_database_name(database)
    found = discover(paths, keep_going=keep_going)
    report = IngestReport(database=database, skipped_files=list(found.skipped), unreadable=list(found.unreadable))
    # A file is known by its real path: reached through a symlink it is still the same file.
    # Messages name it as the user gave it, as scan's do.
    given = {os.path.realpath(path): path for path in found.files}
    try:
        with DuckDBEngine(
            source=source,
            threads=threads,
            memory_limit=memory_limit or DEFAULT_MEMORY_LIMIT,
            temp_directory=database + ".tmp",
            memory_per_thread=INGEST_MEMORY_PER_THREAD,
        ) as engine:
            _load(Store(engine, database), given, found.skipped, report, keep_going, progress)
    except InputError as error:
        error.path = given.get(error.path or "", error.path)
        raise
    for problem in report.unreadable:
        problem.path = given.get(problem.path or "", problem.path)
    report.skipped_records = [
        replace(skipped, path=given.get(skipped.path, skipped.path)) for skipped in report.skipped_records
    ]
    return report


def _load(
    store: Store,
    given: dict[str, str],
    skipped_files: tuple[SkippedFile, ...],
    report: IngestReport,
    keep_going: bool,
    progress: ProgressLine | None,
) -> None:
    """Ingest the files `given` (real path: path as given) that are new or changed."""
    engine = store.engine
    # Rows either source's adapter made are current: a file the ECS adapter loaded is not reloaded
    # by an ingest of its tree without --source ecs.
    current = current_adapter_hashes()
    known = store.known_files()
    stamps = {}
    pending = []
    # Unchanged files whose rows another version of the adapter made.
    reloading: set[str] = set()
    # Other names a pending file is stored by: replaced with it, in its batch's transaction, so
    # that a file that cannot be read now keeps what was stored from it under any name.
    aliases: dict[str, list[str]] = {}
    by_stem = _by_stem(known)
    for real, path in given.items():
        try:
            stat = os.stat(real)
        except OSError:
            # Deleted since the folder was listed (a retention job, `aws s3 sync --delete`).
            if not keep_going:
                raise vanished(real) from None
            report.unreadable.append(vanished(real))
            continue
        stamps[real] = FileStamp(stat.st_size, stat.st_mtime)
        stored = known.get(real)
        same_file = stored is not None and (stored.size, stored.mtime) == (stat.st_size, stat.st_mtime)
        if same_file and stored.adapter_sha256 in current:
            report.files_unchanged += 1
        else:
            if same_file:
                reloading.add(real)
            pending.append(real)
            aliases[real] = [name for name in _stored_as(path, real, known, by_stem) if name != real]
    # A stored file that is empty now holds no events: what it held goes, as a changed file's would.
    emptied = []
    for skipped in skipped_files:
        if skipped.reason == EMPTY_FILE:
            names = _stored_as(skipped.path, os.path.realpath(skipped.path), known, by_stem)
            if names:
                emptied.append(names)
    if emptied:
        store.forget([name for names in emptied for name in names])
        report.files_emptied = len(emptied)
    tally = Tally(engine)
    stop_watching = (
        progress.watch(tally.so_far, len(pending), verb="ingest") if progress is not None and pending else lambda: None
    )
    try:
        _load_batches(store, pending, stamps, aliases, report, keep_going, tally)
    finally:
        stop_watching()
    failed = {problem.path for problem in report.unreadable}
    stored = [path for path in pending if path not in failed]
    report.files_reloaded = len(reloading.intersection(stored))
    # A file stored under another of its names is the same file, not a copy elsewhere.
    renamed = {path for path in stored if aliases.get(path)}
    report.stored_elsewhere = _stored_elsewhere(
        [path for path in stored if path not in renamed], given, stamps, known, by_stem
    )
    report.files_total, report.events_total = store.totals()
    store.checkpoint()


def _by_stem(known: dict[str, FileStamp]) -> dict[str, list[str]]:
    """Stored paths by file name without .gz: where to look for a file stored under another path."""
    by_stem: dict[str, list[str]] = {}
    for path in known:
        by_stem.setdefault(os.path.basename(path).removesuffix(".gz"), []).append(path)
    return by_stem


def _stored_elsewhere(
    stored: list[str],
    given: dict[str, str],
    stamps: dict[str, FileStamp],
    known: dict[str, FileStamp],
    by_stem: dict[str, list[str]],
) -> list[tuple[str, str]]:
    """Files just stored for the first time that have the name of a file stored before and not
    given now: with its size, or with .gz added or taken away (`gzip -r`, `gunzip -r`). CloudTrail
    names each delivery uniquely, so such a pair is one file moved, copied or recompressed.

    >>> stamp = FileStamp(10, 0.0)
    >>> known = {"/old/a.json.gz": stamp, "/old/b.json": stamp, "/old/c.json": FileStamp(99, 0.0)}
    >>> new = {"/new/a.json.gz": stamp, "/old/b.json.gz": FileStamp(4, 0.0), "/new/c.json": stamp}
    >>> _stored_elsewhere(list(new), {path: path for path in new}, new, known, _by_stem(known))
    [('/new/a.json.gz', '/old/a.json.gz'), ('/old/b.json.gz', '/old/b.json')]
    """
    pairs = []
    for real in stored:
        if real in known:
            continue  # changed, not new
        name = os.path.basename(real)
        twins = [
            twin
            for twin in by_stem.get(name.removesuffix(".gz"), [])
            if os.path.basename(twin) != name or known[twin].size == stamps[real].size
        ]
        if twins and not any(twin in given for twin in twins):
            pairs.append((given[real], min(twins)))
    return pairs


def _stored_as(
    path: str, real: str, known: dict[str, FileStamp], by_stem: dict[str, list[str]] | None = None
) -> list[str]:
    """The names a file is stored by: its real path, the absolute path it was given by (ducktrail
    stored files by it before it resolved links), and a stored path of the same name (found in
    `by_stem`, from _by_stem) that is the same file: a symlink to it, or a hard link, of which a
    run reads the first name it finds, which need not be the one stored.

    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     first, second = os.path.join(folder, "a.json"), os.path.join(folder, "b", "a.json")
    ...     os.mkdir(os.path.dirname(second)); open(first, "w").close(); os.link(first, second)
    ...     _stored_as(first, first, {second: FileStamp(0, 0.0)}, {"a.json": [second]}) == [second]
    True
    """
    names = [name for name in dict.fromkeys((real, os.path.abspath(path))) if name in known]
    name = os.path.basename(real)
    for stored in (by_stem or {}).get(name.removesuffix(".gz"), []):
        if stored not in names and os.path.basename(stored) == name and _same_file(stored, real):
            names.append(stored)
    return names


def _same_file(first: str, second: str) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:  # a stored path that is gone now
        return False


def _load_batches(
    store: Store,
    pending: list[str],
    stamps: dict[str, FileStamp],
    aliases: dict[str, list[str]],
    report: IngestReport,
    keep_going: bool,
    tally: Tally,
) -> None:
    engine = store.engine
    sizes = [layout.uncompressed_size(path) for path in pending]
    refuse = partial(_not_cloudtrail, source=engine.source)
    for batch in batches(pending, sizes, max_bytes=BATCH_BYTES, max_files=BATCH_FILES):
        files_done, events_before = len(batch), report.events_ingested
        store_batch = partial(store.ingest, stamps=stamps, refuse=refuse, aliases=aliases)
        counts, batch, problems = read_tolerantly(engine, batch, store_batch, keep_going=keep_going)
        report.unreadable.extend(problems)
        for path in batch:
            count = (counts or {}).get(path)
            report.files_ingested += 1
            if count is not None:
                report.events_ingested += count.records - count.unrecognized
                if count.unrecognized:
                    report.skipped_records.append(SkippedRecords.found_in(path, count.unrecognized, engine.source))
        tally.stored(files_done, report.events_ingested - events_before)


def _not_cloudtrail(counts: dict[str, FileCount], source: str) -> list[InputError]:
    """The files of a batch that held records but no CloudTrail event: they must not be stored.
    The batch is rolled back, so a stored file that is no longer CloudTrail JSON keeps its events,
    as an unreadable one does, and the rest is read again without them."""
    return [not_cloudtrail(path, source) for path, count in counts.items() if is_not_cloudtrail(count)]


def batches(paths: list[str], sizes: list[int], *, max_bytes: int, max_files: int) -> list[list[str]]:
    """The paths in order, in runs of at most `max_files` files and `max_bytes` bytes (or one file).

    >>> batches(["a", "b", "c", "d", "e"], [4, 5, 2, 12, 1], max_bytes=10, max_files=2)
    [['a', 'b'], ['c'], ['d'], ['e']]
    """
    runs: list[list[str]] = []
    held = 0
    for path, size in zip(paths, sizes, strict=True):
        if not runs or len(runs[-1]) == max_files or held + size > max_bytes:
            runs.append([])
            held = 0
        runs[-1].append(path)
        held += size
    return runs
