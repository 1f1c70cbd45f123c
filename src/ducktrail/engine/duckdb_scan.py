"""Run rules over CloudTrail files in DuckDB, in one pass over the files.

The source adapter SQL defines the view `cloudtrail_events`. A scan costs one decompression and
one JSON parse of each file however many rules run: the adapter's read hook counts what each
file holds as it is read (engine/read_counter.py) and a single rule reads the view directly,
with its filters pushed down so that only matching events are shaped; several rules share one
materialised read. Without the hook, a GROUP BY over that read gives the counts. The read takes
only the fields the rules use (engine/read_fields.py), and files of one JSON value per line are
read by line (inputs/layout.py).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ducktrail import sqlfiles
from ducktrail.engine.literal_paths import escaped, reported, unexpanded
from ducktrail.engine.read_counter import HOOK, FileCount, ReadCounter
from ducktrail.errors import DucktrailError, InputError, RulePackError, UsageError
from ducktrail.inputs import layout

# Rows of cloudtrail_events that are not CloudTrail events: the adapter keeps them (all event
# columns NULL) so they are counted, not lost. Mirrors inputs.locate.is_event_of, and the adapters'
# read hooks test the same on the raw fields (tests/test_read_counts.py checks they agree).
UNRECOGNIZED = "event_version IS NULL AND event_source IS NULL AND event_name IS NULL AND event_id IS NULL"


@dataclass(frozen=True)
class JsonReading:
    """How the adapters' read_json reads files: the variables ducktrail_json_format and
    ducktrail_maximum_object_size, whose defaults in the SQL are GENERAL's."""

    format: str
    maximum_object_size: int


# Any JSON file: DuckDB scans every byte for the end of each value. AWS caps a delivered file
# (one JSON object) at about 50 MB uncompressed.
GENERAL = JsonReading("unstructured", 64 << 20)
# Files of one JSON value per line (S3 deliveries, exports): a scan about a quarter faster. The smaller
# buffer matters too: with 64 MiB buffers the read spends the gain on page faults.
BY_LINE = JsonReading("newline_delimited", 32 << 20)


# What one thread reading files needs within DuckDB's memory limit: the JSON reader's buffer,
# twice the largest value it accepts (GENERAL's), and room for the rows it makes. An ingest also
# sorts and writes its batches: with two threads it failed at 381 MiB and passed at 429 MiB.
SCAN_MEMORY_PER_THREAD = 2 * GENERAL.maximum_object_size + (32 << 20)
INGEST_MEMORY_PER_THREAD = SCAN_MEMORY_PER_THREAD + (64 << 20)


def memory_bytes(setting: str) -> int | None:
    """Bytes in a size as DuckDB shows its memory_limit setting; None if not such a size.

    >>> memory_bytes("244.1 MiB"), memory_bytes("18.8 GiB") // 2**20, memory_bytes("1000 bytes")
    (255957401, 19251, 1000)
    >>> memory_bytes("unlimited")
    """
    match = re.fullmatch(r"\s*([0-9.]+)\s*(bytes|KiB|MiB|GiB|TiB|PiB|EiB)\s*", setting)
    if match is None:
        return None
    scale = 1 << (10 * ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"].index(match[2]))
    return int(float(match[1]) * scale)


def reading_for(files: Iterable[str], by_line: Callable[[str], bool] | None = None) -> JsonReading:
    """BY_LINE when every file holds one JSON value per line (inputs/layout.py), else GENERAL;
    `by_line` answers that for one file (the default looks at its first kilobytes)."""
    return BY_LINE if all(map(by_line or _one_value_per_line, files)) else GENERAL


def _one_value_per_line(path: str) -> bool:
    return layout.one_value_per_line(path, longest_line=BY_LINE.maximum_object_size)


# Every engine's connection: a scan never fetches code, so an extension DuckDB would download (for
# a SQLite file, an s3:// path or a function a rule names) is an error instead.
CONNECTION_CONFIG: dict[str, Any] = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}

# Marks in DuckDB's serialized parse tree of a query that may end its read of the input early.
STOPS_EARLY = ('"LIMIT_MODIFIER"', '"LIMIT_PERCENT_MODIFIER"', '"sample":{', '"error":true')


@dataclass(frozen=True)
class RuleQuery:
    key: str
    sql: str
    # The rule's SQL file, named in errors about it.
    path: str | None = None


@dataclass(frozen=True)
class EngineResult:
    # Per rule, each alert as the JSON object DuckDB wrote, timestamps in ISO 8601 UTC: the JSON
    # outputs print them as they are, which on large results costs far less than parsing and
    # writing them again in Python.
    alert_json: dict[str, list[str]]
    counts: dict[str, FileCount]
    columns: dict[str, tuple[str, ...]]

    @property
    def alerts(self) -> dict[str, list[dict[str, Any]]]:
        return {key: parse_objects(texts) for key, texts in self.alert_json.items()}


def parse_objects(texts: list[str]) -> list[dict[str, Any]]:
    """JSON objects parsed in one call, far cheaper than one json.loads each.

    >>> parse_objects(['{"a":1}', '{"a":[2]}'])
    [{'a': 1}, {'a': [2]}]
    """
    return json.loads("[" + ",".join(texts) + "]")


class DuckDBEngine:
    """One DuckDB connection with the CloudTrail source adapter loaded over a file list."""

    def __init__(
        self,
        *,
        source: str = "cloudtrail",
        threads: int | None = None,
        memory_limit: str | None = None,
        database: str | None = None,
        temp_directory: str | None = None,
        connection: Any = None,
        memory_per_thread: int = SCAN_MEMORY_PER_THREAD,
    ) -> None:
        """An in-memory engine over files, or with `database` one over an ingested file (read-only).
        Spilled data goes to `temp_directory`, by default beside the database (`<file>.tmp`), as
        DuckDB does for a database it opens itself. `connection`: an in-memory DuckDB connection
        made with CONNECTION_CONFIG (engine/warm.py), to use instead of making one; the engine's
        settings are then SET on it, and it is closed if they are refused. Under `memory_limit`,
        no more threads run than it holds `memory_per_thread` bytes for."""
        from ducktrail.engine.duckdb_module import duckdb

        self._duckdb = duckdb
        settings: dict[str, Any] = {}
        if temp_directory is not None or database is not None:
            settings["temp_directory"] = unexpanded(temp_directory or database + ".tmp")
        if threads is not None:
            settings["threads"] = threads
        if memory_limit is not None:
            settings["memory_limit"] = memory_limit
        try:
            if memory_limit is not None and memory_limit.strip().startswith("-"):  # DuckDB: "no limit"
                raise UsageError(f"--memory-limit cannot be negative ({memory_limit}): DuckDB reads it as no limit")
            if connection is None:
                self.con = duckdb.connect(":memory:", config=CONNECTION_CONFIG | settings)
            else:
                self.con = connection
                for name, value in settings.items():
                    self.con.execute(f"SET {name} = ?", [value])
        except BaseException as exc:
            if connection is not None:
                connection.close()
            if isinstance(exc, duckdb.OutOfMemoryException):
                raise out_of_resources(exc) from None
            if isinstance(exc, duckdb.Error):
                rejected = "the settings"
                if memory_limit is not None and "memory" in str(exc).lower():
                    rejected = f"--memory-limit {memory_limit!r}"
                raise UsageError(f"DuckDB rejected {rejected}: {first_line(exc)}") from None
            raise
        if memory_limit is not None:
            try:
                self._fit_threads_to_memory(memory_per_thread)
            except duckdb.OutOfMemoryException as exc:
                self.con.close()
                raise out_of_resources(exc) from None
        if database is not None:
            self._open(database)
        # An ingested database already holds the relation; only file scans need the adapter.
        self._adapter_sql = source_adapter(source) if database is None else ""
        self._source = source
        self._adapter_loaded = False
        self._files: list[str] = []
        self._given_paths: dict[str, str] = {}
        self._reads: ReadCounter | None = None
        self._reading: JsonReading | None = None
        self._by_line_allowed = True
        self._one_value_per_line: dict[str, bool] = {}
        self._parse_trees: dict[str, str] = {}
        self._value_type: Any = None
        self._read_fields: frozenset[str] | None = None
        # Whether a scan may split its read across threads (engine/split_read.py).
        self.split_reads = True

    def _fit_threads_to_memory(self, per_thread: int) -> None:
        """No more threads than the memory limit holds reads of: under a small limit, more fail
        or not by how their buffers' allocations happen to overlap."""
        settings = "SELECT current_setting('memory_limit'), current_setting('threads')"
        limit, threads = self.con.execute(settings).fetchone()
        limit_bytes = memory_bytes(limit)
        fitting = max(1, (limit_bytes or 0) // per_thread)
        if limit_bytes is not None and int(threads) > fitting:
            self.con.execute(f"SET threads = {int(fitting)}")

    def _open(self, database: str) -> None:
        """Make the database file, read-only, the one queries name by default. TYPE duckdb: a
        SQLite or other file is refused as such, not handed to an extension DuckDB would download."""
        try:
            self.con.execute("ATTACH ? AS ducktrail_database (TYPE duckdb, READ_ONLY)", [unexpanded(database)])
            self.con.execute("USE ducktrail_database")
        except BaseException as exc:
            self.con.close()
            if is_interruption(exc):
                raise KeyboardInterrupt from None
            if isinstance(exc, self._duckdb.OutOfMemoryException):
                raise out_of_resources(exc) from None
            if isinstance(exc, self._duckdb.Error):
                raise InputError(f"cannot open the database: {first_line(exc)}", path=database) from None
            raise

    @property
    def source(self) -> str:
        """The source adapter's name: cloudtrail or ecs."""
        return self._source

    @functools.cached_property
    def adapter_sha256(self) -> str:
        """The hash of the source adapter that shapes the files' rows (engine/adapter_identity.py)."""
        from ducktrail.engine.adapter_identity import adapter_sha256

        return adapter_sha256(self._adapter_sql)

    @property
    def error_types(self) -> tuple[type[Exception], ...]:
        # DuckDB quotes the offending input in its messages; when that is not UTF-8 the Python
        # binding fails to decode the message itself and raises UnicodeDecodeError instead.
        return (self._duckdb.Error, UnicodeDecodeError)

    @property
    def resource_errors(self) -> tuple[type[Exception], ...]:
        """Failures of the machine, not of an input file."""
        return (self._duckdb.OutOfMemoryException,)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> None:
        self.close()
        # Whichever statement ran out of memory, it is the machine's limit, not an input's fault.
        if isinstance(error, self.resource_errors):
            raise out_of_resources(error) from None
        if error is not None and is_interruption(error):
            raise KeyboardInterrupt from None

    def use_files(self, files: list[str]) -> None:
        """Point the adapter's view at these files. Nothing reads them yet: a file that cannot
        be read fails the query that reads it, where the caller can name it."""
        self.load_adapter()
        names = {path: reported(path) for path in files}
        self.con.execute("SET VARIABLE ducktrail_files = ?", [[escaped(names[path]) for path in files]])
        self._files = list(files)
        self._given_paths = {name: path for path, name in names.items() if name != path}
        self._use_reading(reading_for(files, self._by_line) if self._by_line_allowed else GENERAL)

    def load_adapter(self) -> None:
        """Define the source adapter's view, if not yet done (use_files does it too)."""
        if self._adapter_loaded or not self._adapter_sql:
            return
        # The view binds read_json to its files when it is created: over one empty file of our
        # own, so that the input cannot fail it.
        with an_empty_file() as empty:
            self.con.execute("SET VARIABLE ducktrail_files = ?", [[empty]])
            self.con.execute(self._adapter_sql)
        self._adapter_loaded = True

    @property
    def reading(self) -> JsonReading | None:
        """How the files set by use_files are read."""
        return self._reading

    def stop_reading_by_line(self) -> bool:
        """After a failed read: read every file the general way from now on. False when that is
        how the failed read read them, so that only the input can explain the failure."""
        if self._reading != BY_LINE:
            return False
        self._by_line_allowed = False
        self._use_reading(GENERAL)
        return True

    def _by_line(self, path: str) -> bool:
        if path not in self._one_value_per_line:
            self._one_value_per_line[path] = _one_value_per_line(path)
        return self._one_value_per_line[path]

    def _use_reading(self, reading: JsonReading) -> None:
        if reading != self._reading:
            self.con.execute("SET VARIABLE ducktrail_json_format = ?", [reading.format])
            self.con.execute("SET VARIABLE ducktrail_maximum_object_size = ?", [reading.maximum_object_size])
            self._reading = reading

    def count_reads(self) -> ReadCounter | None:
        """Count what each file holds while queries read it; from then on run() takes its
        per-file counts from the counter and a single rule need not materialise the view.
        None when the engine cannot (an adapter without the read hook).

        Call after use_files, which loads the adapter whose read hook this redefines.
        """
        from ducktrail.engine.read_counter import count_reads

        if self._reads is None and HOOK in self._adapter_sql:
            # Where DuckDB cannot log, counts come from SQL and progress shows time only.
            with contextlib.suppress(self._duckdb.Error):
                self._reads = count_reads(self.con)
        return self._reads

    @property
    def reads(self) -> ReadCounter | None:
        """The counter count_reads() started, if it did."""
        return self._reads

    def probe(self, path: str) -> None:
        """Read one file through the adapter; raises the engine's error if it cannot be read,
        read by line or the general way. A file only the general read takes (values back to back
        on one line, as `zcat *.json.gz` writes them) is read the general way from then on."""
        self.use_files([path])
        try:
            self.con.execute("SELECT count(*) FROM cloudtrail_events").fetchall()
        except self.error_types as exc:
            if isinstance(exc, self.resource_errors) or self._reading != BY_LINE:
                raise
            self._use_reading(GENERAL)
            self.con.execute("SELECT count(*) FROM cloudtrail_events").fetchall()
            self._one_value_per_line[path] = False

    def run(
        self,
        rules: list[RuleQuery],
        since: datetime | None,
        until: datetime | None,
        *,
        relation: str = "cloudtrail_events",
        per_file_counts: bool = True,
    ) -> EngineResult:
        """Every rule, and the per-file counts, from one read of `relation`.

        Over files, with count_reads() on, the adapter's read hook counts what each file holds
        while the rules read it, and the view is materialised only when several rules share it,
        a rule might stop reading early (LIMIT, SAMPLE) and so leave files uncounted, or a rule
        reads the relation twice (a self-join), which would count every file twice. Without
        it the counts are a GROUP BY over the view, materialised once for it and every rule.
        Over an ingested database `relation` is the stored table: no materialising or counting.
        """
        columns = {rule.key: self._columns(rule) for rule in rules}
        hooked = per_file_counts and self._reads is not None
        # Only bounds that were given: an always-true test of NULL parameters would still
        # shape every event's time (try_strptime), about 3% of a scan.
        params: dict[str, Any] = {}
        window = []
        if since is not None:
            params["since"] = since
            window.append("event_time >= $since::TIMESTAMP")
        if until is not None:
            params["until"] = until
            window.append("event_time < $until::TIMESTAMP")
        # A window leaves out the events without a readable time, so it counts them, per file.
        untimed = f"count(*) FILTER (WHERE event_time IS NULL AND NOT ({UNRECOGNIZED}))" if window else "0"
        parts = []
        if per_file_counts and not hooked:
            parts.append(
                "SELECT NULL AS rule_key, 0 AS ordinal, to_json(file_count) AS payload FROM ("
                " SELECT source_file AS path, count(*) AS records,"
                f" count(*) FILTER (WHERE {UNRECOGNIZED}) AS unrecognized, {untimed} AS untimed"
                " FROM ducktrail_scanned GROUP BY source_file) AS file_count"
            )
        elif window and not per_file_counts:
            # An ingested table holds events only; the files' other counts are the store's.
            parts.append(
                "SELECT NULL AS rule_key, 0 AS ordinal, to_json(file_count) AS payload FROM ("
                " SELECT source_file AS path, 0 AS records, 0 AS unrecognized, count(*) AS untimed"
                " FROM ducktrail_scanned WHERE event_time IS NULL GROUP BY source_file) AS file_count"
            )
        for index, rule in enumerate(rules):
            params[f"rule_{index}"] = rule.key
            parts.append(
                f"SELECT $rule_{index}{' AS rule_key' if not parts else ''}, row_number() OVER (),"
                f" to_json(alert) FROM (SELECT {_iso_timestamps(columns[rule.key][1])}"
                f" FROM (\n{strip_sql(rule.sql)}\n) AS rule_output) AS alert"
            )
        read = self._columns_read(rules, with_time=bool(window)) if relation == "cloudtrail_events" else None
        if relation == "cloudtrail_events" and self._source == "cloudtrail":
            self._read_only_fields_for(read)
        if hooked:
            self._reads.reset()  # type: ignore[union-attr]
            self._reads.count_untimed(bool(window))  # type: ignore[union-attr]
        shares = self._shares(rules, read) if hooked and relation == "cloudtrail_events" else None
        with shares if shares is not None else contextlib.nullcontext(relation) as scanned:
            if not per_file_counts:
                materialized = ""
            elif not hooked or len(rules) > 1 or any(not self._reads_every_file_once(rule) for rule in rules):
                materialized = "MATERIALIZED "
            else:
                materialized = "NOT MATERIALIZED "
            query = (
                f"WITH ducktrail_scanned AS {materialized}(FROM {scanned}),\n"
                f"cloudtrail_events AS {'NOT MATERIALIZED ' if materialized else ''}(FROM ducktrail_scanned"
                f"{' WHERE ' + ' AND '.join(window) if window else ''})\n" + "\nUNION ALL\n".join(parts)
            )
            rows = self.con.execute(query, params).fetchall()
        alerts: dict[str, list[tuple[int, str]]] = {rule.key: [] for rule in rules}
        file_counts = []
        for rule_key, ordinal, payload in rows:
            if rule_key is None:
                file_counts.append(payload)
            else:
                alerts[rule_key].append((ordinal, payload))
        counts = self._by_given_path(
            {
                value["path"]: FileCount(value["path"], value["records"], value["unrecognized"], value["untimed"])
                for value in parse_objects(file_counts)
            }
        )
        ordered = {key: [text for _, text in sorted(found)] for key, found in alerts.items()}
        if hooked:
            counts = self._hooked_counts()
        return EngineResult(
            alert_json=ordered, counts=counts, columns={key: names for key, (names, _) in columns.items()}
        )

    def _hooked_counts(self) -> dict[str, FileCount]:
        """The read hook's counts, with any file the rules' plan did not read counted by a read of
        its own (a rule the optimizer proved empty reads nothing; an empty file has no value)."""
        counter, files = self._reads, self._files
        assert counter is not None
        counts = self._by_given_path(counter.file_counts())
        unseen = [path for path in files if path not in counts]
        if unseen:
            self.use_files(unseen)
            self.con.execute("SELECT count(*) FROM cloudtrail_events").fetchall()
            self.use_files(files)
            counts = self._by_given_path(counter.file_counts())
        return counts

    def _by_given_path(self, counts: dict[str, FileCount]) -> dict[str, FileCount]:
        """Counts keyed by the paths use_files was given, not by DuckDB's names for the files
        (engine/literal_paths.py: `./case [1].json` is read as `case [1].json`)."""
        if not self._given_paths:
            return counts
        given = {}
        for name, count in counts.items():
            path = self._given_paths.get(name, name)
            given[path] = replace(count, path=path)
        return given

    def _shares(self, rules: list[RuleQuery], columns: frozenset[str] | None) -> Any:
        """The read split across threads (engine/split_read.py), as a context manager yielding
        the relation to scan; None when one query must read the files: one thread or one file,
        or a rule that may use rows no row filter describes (engine/row_filter.py)."""
        from ducktrail.engine import row_filter, selective_first, split_read

        (threads,) = self.con.execute("SELECT current_setting('threads')").fetchone()
        shares = min(int(threads), len(self._files))
        if shares < 2 or not self.split_reads:
            return None
        predicate = row_filter.row_filter([json.loads(self._serialized(rule)) for rule in rules])
        if predicate is None:
            return None
        # Only the columns the rules use: a rule whose filter keeps most events then copies less.
        selected = "*" if columns is None else ", ".join(sorted(columns)) or "source_file"
        template = json.loads(self._parse_tree(f"SELECT {selected} FROM cloudtrail_events"))
        case = json.loads(self._parse_tree(f"SELECT 1 WHERE {selective_first.CASE_TEMPLATE}"))
        template["statements"][0]["node"]["where_clause"] = selective_first.selective_first(
            predicate, case["statements"][0]["node"]["where_clause"]
        )
        (select_sql,) = self.con.execute("SELECT json_deserialize_sql(?::JSON)", [json.dumps(template)]).fetchone()
        return split_read.read_in_shares(self.con, self._files, select_sql, shares)

    @property
    def read_fields(self) -> frozenset[str] | None:
        """The CloudTrail fields the last scan read (engine/read_fields.py); None: all of them."""
        return self._read_fields

    def _columns_read(self, rules: list[RuleQuery], *, with_time: bool) -> frozenset[str] | None:
        """The cloudtrail_events columns the rules (and a time window) use; None: any of them."""
        from ducktrail.engine import read_fields

        columns: set[str] = {"event_time"} if with_time else set()
        for rule in rules:
            used = read_fields.columns_used(json.loads(self._serialized(rule)))
            if used is None:
                return None
            columns |= used
        return frozenset(columns)

    def _read_only_fields_for(self, columns: frozenset[str] | None) -> None:
        from ducktrail.engine import read_fields

        fields = None if columns is None else read_fields.fields_for(columns)
        if fields == self._read_fields:
            return
        if self._value_type is None:
            self._value_type = self.con.execute(f"SELECT NULL::{read_fields.VALUE_TYPE}").description[0][1]
        self.con.execute("SET VARIABLE ducktrail_read_type = ?", [read_fields.read_type(self._value_type, fields)])
        self._read_fields = fields

    def _serialized(self, rule: RuleQuery) -> str:
        """DuckDB's parse tree of the rule, as JSON text (json_serialize_sql)."""
        return self._parse_tree(strip_sql(rule.sql))

    def _parse_tree(self, sql: str) -> str:
        if sql not in self._parse_trees:
            (tree,) = self.con.execute("SELECT json_serialize_sql(?::VARCHAR)", [sql]).fetchone()
            self._parse_trees[sql] = tree
        return self._parse_trees[sql]

    def _reads_every_file_once(self, rule: RuleQuery) -> bool:
        """Whether reading the files for this rule alone reads each exactly once, as counting
        them while it reads needs: not when DuckDB may stop before the end of the input, nor
        when the rule reads the relation more than once (engine/relation_reads.py)."""
        from ducktrail.engine import relation_reads

        tree = self._serialized(rule)
        return not any(mark in tree for mark in STOPS_EARLY) and relation_reads.reads(json.loads(tree)) == 1

    def output_columns(self, rule: RuleQuery) -> tuple[str, ...]:
        """The rule's output columns; RulePackError naming its file when it is not one query that
        binds to the relation."""
        return self._columns(rule)[0]

    @contextlib.contextmanager
    def over_no_files(self) -> Iterator[None]:
        """The adapter's view over one empty file, while inside: its columns and no rows."""
        with an_empty_file() as empty:
            self.use_files([empty])
            yield

    def _columns(self, rule: RuleQuery) -> tuple[tuple[str, ...], tuple[tuple[str, bool], ...]]:
        """The rule's output columns, and those of them that are timestamps."""
        sql = strip_sql(rule.sql)
        # Before DESCRIBE, which would run every statement of a script (a COPY ... TO among them).
        if not self._is_query(sql):
            raise RulePackError(f"rule {rule.key} is not one query (a single SELECT)", path=rule.path)
        try:
            described = self.con.execute("DESCRIBE " + sql).fetchall()
        except (*self.resource_errors, self._duckdb.IOException):
            raise  # binding globs the input files again: one gone since is the input's fault
        except self._duckdb.Error as exc:
            raise RulePackError(f"rule {rule.key} does not bind: {first_line(exc)}", path=rule.path) from None
        names = tuple(name for name, *_ in described)
        stamps = tuple(
            (name, kind == "TIMESTAMP WITH TIME ZONE") for name, kind, *_ in described if kind.startswith("TIMESTAMP")
        )
        return names, stamps

    def _is_query(self, sql: str) -> bool:
        try:
            statements = self.con.extract_statements(sql)
        except self._duckdb.Error:
            return True  # it does not parse: say why, as binding it did
        return len(statements) == 1 and statements[0].type == self._duckdb.StatementType.SELECT


@contextlib.contextmanager
def an_empty_file() -> Iterator[str]:
    """The path of an empty .json file, removed on leaving."""
    with tempfile.TemporaryDirectory() as folder:
        empty = os.path.join(folder, "empty.json")
        open(empty, "wb").close()
        yield empty


def source_adapter(source: str) -> str:
    """The DuckDB adapter SQL for a source: `cloudtrail` (CloudTrail's own JSON) or `ecs`."""
    return sqlfiles.read_source_adapter("duckdb", source, shown_as="DuckDB")


def strip_sql(sql: str) -> str:
    """A rule's SQL made fit to nest: no trailing semicolon.

    >>> strip_sql("SELECT 1;\\n")
    'SELECT 1'
    """
    return sql.strip().rstrip(";").rstrip()


def _iso_timestamps(columns: tuple[tuple[str, bool], ...]) -> str:
    """A select list that writes these timestamp columns (name, whether with a time zone) in
    ISO 8601 UTC, as alerts show them ('2026-01-02 03:04:05[.fraction]' becomes
    '2026-01-02T03:04:05[.fraction]Z').

    >>> _iso_timestamps(())
    '*'
    """
    if not columns:
        return "*"
    text = "CAST({0} AS VARCHAR)"
    iso = (
        f"CASE WHEN substr({text}, 11, 1) = ' '"
        f" THEN substr({text}, 1, 10) || 'T' || substr({text}, 12) || 'Z' ELSE {text} END"
    )
    selected = []
    for name, zoned in columns:
        quoted = '"' + name.replace('"', '""') + '"'
        # A time zone's offset would be written after the time: it is turned to UTC first.
        value = "timezone('UTC', " + quoted + ")" if zoned else quoted
        selected.append(f"{iso.format(value)} AS {quoted}")
    return "* REPLACE (" + ", ".join(selected) + ")"


def first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class EngineError(DucktrailError):
    """The engine failed for a reason no input file explains (memory, a bad rule)."""


def out_of_resources(exc: BaseException) -> EngineError:
    return EngineError(
        f"DuckDB ran out of resources: {first_line(exc)} (raise --memory-limit: a scan needs about"
        f" {SCAN_MEMORY_PER_THREAD >> 20} MiB of it per thread, an ingest about {INGEST_MEMORY_PER_THREAD >> 20} MiB;"
        " fewer threads run under a smaller limit)"
    )


def is_interruption(error: BaseException) -> bool:
    """Whether DuckDB stopped a query for Ctrl-C: its Python API raises RuntimeError('Query
    interrupted') from the query the signal reached, not KeyboardInterrupt.

    >>> is_interruption(RuntimeError("Query interrupted")), is_interruption(RuntimeError("other"))
    (True, False)
    """
    return type(error).__name__ == "InterruptException" or (
        type(error) is RuntimeError and str(error).strip() == "Query interrupted"
    )
