"""The `ducktrail` command line. It parses and prints; the work is in plain library functions."""

from __future__ import annotations

import errno
import os
import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import typer

from ducktrail.errors import (
    DucktrailError,
    ExitCode,
    InputError,
    OutputError,
    PathError,
    UsageError,
    WrongSourceError,
)
from ducktrail.report.formats import TABLE_ROWS, printable

EXIT_CODES = """Exit codes: 0 clean run (alerts or not); 1 alerts found and --fail-on-alerts given;
2 usage error; 3 unreadable input (missing path, corrupt gzip, not CloudTrail JSON) or
unwritable output; 4 invalid rule pack (bad metadata, released SQL changed) or engine failure; 130 interrupted."""
INGEST_EXIT_CODES = """Exit codes: 0 loaded (or nothing new to load); 2 usage error; 3 unreadable input
(missing path, corrupt gzip, not CloudTrail JSON, a database ducktrail cannot use) or
unwritable stderr; 4 engine failure (such as running out of memory); 130 interrupted."""

app = typer.Typer(
    help="Detection-as-code for AWS CloudTrail: versioned SQL rules run by DuckDB.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    ndjson = "ndjson"
    csv = "csv"


class ListFormat(StrEnum):
    table = "table"
    json = "json"


# Options shared by the commands that read CloudTrail.
SourceOption = Annotated[
    str,
    typer.Option(
        metavar="SOURCE", help="cloudtrail (CloudTrail's own JSON) or ecs (Elastic CloudTrail documents, NDJSON)."
    ),
]
# More threads than this only costs memory and start-up (a typo of 100000 would run for minutes).
MAX_THREADS = 1024
ThreadsOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        max=MAX_THREADS,
        metavar="N",
        help="DuckDB worker threads (default: one per core; fewer when --memory-limit holds fewer).",
    ),
]


# Said after the error that stopped a scan or ingest at an unreadable input file.
KEEP_GOING_HINT = "--keep-going skips unreadable files, {verb} the rest and lists every one"


def keep_going_helps(paths: list[str] | None, error: InputError) -> bool:
    """Whether --keep-going could read more than the file the error stopped at: not for a
    single path that is no folder (a file, or one that is missing), nor when the files are the
    other --source's."""
    single_file = len(paths or []) == 1 and not os.path.isdir((paths or [""])[0])
    return not single_file and not isinstance(error, WrongSourceError)


def emit(text: str, **options: Any) -> None:
    """Text on standard output. A write that fails (a full disk) ends the run with an error: the
    alerts did not reach their reader. A reader that stopped early (`| head`) had what it wanted."""
    if sys.stdout is None:  # started with the descriptor closed (`ducktrail transpile ... >&-`)
        fail(UsageError("standard output is closed: the output would be lost"))
    try:
        typer.echo(text, **options)
    except BrokenPipeError:
        raise
    except OSError as exc:
        fail(OutputError(f"cannot write the output: {exc.strerror or exc}"))


def say(line: str) -> None:
    """One line on stderr. File names and values in it come from the input: a control character
    in one (an escape sequence, a line break) is shown escaped, never sent to the terminal.

    A stderr that cannot be written (a log on a full disk) does not stop the run, whose result
    goes to stdout; the run then ends with exit code 3 (main), as the lines were lost. A closed
    stderr (`2>&-`), or a reader of it that stopped, is taken as `2>/dev/null` is.
    """
    global stderr_failed
    try:
        typer.echo(printable(line), err=True)
    except BrokenPipeError:
        pass
    except OSError:
        stderr_failed = True


# Set when a line for stderr could not be written.
stderr_failed = False


def fail(error: DucktrailError, then: str | None = None) -> NoReturn:
    """Print the error (and `then`, a line of advice after it) and exit with its code."""
    # Only "\n" parts a message (several problems at once); any other break is a file name's.
    for line in str(error).split("\n"):
        say(f"ducktrail: error: {line}")
    if then:
        say(f"ducktrail: {then}")
    raise typer.Exit(int(error.exit_code))


def parse_time(value: str | None, option: str) -> datetime | None:
    """ISO 8601 in, naive UTC out (CloudTrail event times are UTC).

    >>> parse_time("2026-11-01T10:00:00+01:00", "--since")
    datetime.datetime(2026, 11, 1, 9, 0)
    >>> parse_time("2026-11-01", "--since")
    datetime.datetime(2026, 11, 1, 0, 0)
    >>> try:
    ...     parse_time("0001-01-01T00:00:00+01:00", "--since")
    ... except typer.BadParameter as error:
    ...     print(error)
    '0001-01-01T00:00:00+01:00' is out of range in UTC
    """
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 time such as 2026-11-01T10:00:00Z", param_hint=option
        ) from None
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            raise typer.BadParameter(f"{value!r} is out of range in UTC", param_hint=option) from None
    return moment


def load_pack_or_fail():  # noqa: ANN201 - the Pack type would pull the loader in at import
    from ducktrail.pack.loader import load_pack

    try:
        return load_pack()
    except DucktrailError as error:
        fail(error)


@app.command(epilog=EXIT_CODES)
def scan(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="CloudTrail files or folders (e.g. an AWSLogs/ tree).", show_default=False, metavar="PATH..."
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option("--db", metavar="FILE", help="Scan a database made by `ducktrail ingest` instead of files."),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="How alerts are printed on stdout.")
    ] = OutputFormat.table,
    rows: Annotated[
        int,
        typer.Option(
            "--rows",
            min=0,
            metavar="N",
            help="Table format: show at most N alerts per rule (0: all). Other formats print every alert.",
        ),
    ] = TABLE_ROWS,
    rule: Annotated[
        list[str] | None,
        typer.Option(
            "--rule", "-r", metavar="ID", help="Run only this rule (id, upstream id, or id@version); repeatable."
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            metavar="SOURCE",
            help="cloudtrail (CloudTrail's own JSON, the default) or ecs (Elastic CloudTrail documents, NDJSON).",
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option(metavar="TIME", help="Only events at or after this ISO 8601 time (UTC if no offset).")
    ] = None,
    until: Annotated[str | None, typer.Option(metavar="TIME", help="Only events before this ISO 8601 time.")] = None,
    fail_on_alerts: Annotated[
        bool, typer.Option("--fail-on-alerts", help="Exit 1 when any alert is raised (for CI).")
    ] = False,
    keep_going: Annotated[
        bool, typer.Option("--keep-going", help="Skip unreadable files, scan the rest, list them, exit 3.")
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No progress or summary line on stderr (warnings and errors still print)."),
    ] = False,
    threads: ThreadsOption = None,
    memory_limit: Annotated[
        str | None, typer.Option(metavar="SIZE", help="DuckDB memory limit, e.g. 2GB (default: 80% of RAM).")
    ] = None,
) -> None:
    """Run the rules over CloudTrail files (or an ingested database) and print the alerts.

    Reads S3-delivery trees (gzipped or plain {"Records": [...]} files under AWSLogs/) and
    NDJSON files with one event per line. CloudTrail-Digest, -Insight and -NetworkActivity
    files are skipped. A one-line summary goes to stderr; on a terminal, a progress line too.
    """
    if sys.stdout is None:  # started with the descriptor closed (`ducktrail scan ... >&-`)
        fail(UsageError("standard output is closed: the alerts would be lost"))
    if bool(paths) == bool(database):
        both = ", not both" if paths else ""
        raise typer.BadParameter(f"give PATH... to scan files, or --db FILE to scan a database{both}")
    if database and (keep_going or source is not None):
        raise typer.BadParameter("--source and --keep-going apply to files; a database holds events already read")
    source = "cloudtrail" if source is None else source
    window = (parse_time(since, "--since"), parse_time(until, "--until"))
    # DuckDB starts up while the rest of ducktrail loads (engine/warm.py).
    from ducktrail.engine import warm

    if database:
        warm.start(**warm.for_database(database, threads, memory_limit))
    else:
        warm.start(**warm.for_files(source, threads, memory_limit))
    from ducktrail import scan as scanning
    from ducktrail.report.formats import FORMATS, render_table
    from ducktrail.report.progress import ProgressLine
    from ducktrail.report.summary import summary_line, warnings

    try:
        pack = load_pack_or_fail()
        if database:
            report = scanning.scan_database(
                database,
                pack,
                rule_names=rule,
                since=window[0],
                until=window[1],
                threads=threads,
                memory_limit=memory_limit,
            )
        else:
            report = scanning.scan(
                paths or [],
                pack,
                rule_names=rule,
                source=source,
                since=window[0],
                until=window[1],
                keep_going=keep_going,
                threads=threads,
                memory_limit=memory_limit,
                progress=ProgressLine(enabled=not quiet),
            )
    except InputError as error:
        fail(
            error,
            None
            if database or quiet or not keep_going_helps(paths, error)
            else "nothing is reported: " + KEEP_GOING_HINT.format(verb="reads"),
        )
    except DucktrailError as error:
        fail(error)
    finally:
        warm.discard()  # when the scan stopped before taking it
    if output_format is OutputFormat.table:
        emit(render_table(report.alerts, max_rows=rows))
    else:
        text = FORMATS[output_format.value](report.alert_json, report.alert_columns)
        if output_format is OutputFormat.csv and sys.stdout.isatty():
            # Values come from logs: on a terminal an escape sequence in one is shown, not obeyed.
            text = "\n".join(printable(line) for line in text.split("\n"))
        if text:  # no alert in NDJSON is no line, not an empty one
            # color=True: click would otherwise strip what looks like a terminal escape from the
            # values of a CSV written to a pipe or file (JSON escapes them itself).
            emit(text, color=True)
    for line in warnings(report):
        say(line)
    if not pack.lock_found:
        say(f"ducktrail: warning: {pack.lock_path}: no lock file, so no rule version is released")
    if not quiet:
        say(summary_line(report))
    if report.unreadable:
        raise typer.Exit(int(ExitCode.INPUT))
    if fail_on_alerts and report.alert_json:
        raise typer.Exit(int(ExitCode.ALERTS))


@app.command(epilog=INGEST_EXIT_CODES)
def ingest(
    paths: Annotated[
        list[str],
        typer.Argument(help="CloudTrail files or folders to load.", show_default=False, metavar="PATH..."),
    ],
    database: Annotated[
        str,
        typer.Option("--db", metavar="FILE", help="DuckDB database file to load into (created if missing or empty)."),
    ],
    source: SourceOption = "cloudtrail",
    keep_going: Annotated[
        bool, typer.Option("--keep-going", help="Skip unreadable files, load the rest, list them, exit 3.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no summary line on stderr.")] = False,
    threads: ThreadsOption = None,
    memory_limit: Annotated[
        str | None, typer.Option(metavar="SIZE", help="DuckDB memory limit, e.g. 2GB (default: 768MB).")
    ] = None,
) -> None:
    """Load CloudTrail files into a DuckDB database once; `scan --db` then runs the rules on it.

    Incremental: files already loaded (same path, size and modification time, by this version of
    the source adapter) are skipped, and changed ones replaced. The table cloudtrail_events in the
    database is the canonical relation.
    """
    from ducktrail.ingest import ingest as load
    from ducktrail.report.progress import ProgressLine
    from ducktrail.report.summary import ingest_line, warnings

    try:
        report = load(
            paths,
            database,
            source=source,
            keep_going=keep_going,
            threads=threads,
            memory_limit=memory_limit,
            progress=ProgressLine(enabled=not quiet),
        )
    except InputError as error:
        about_input = error.path != database and not quiet and keep_going_helps(paths, error)
        # A path that cannot be listed stops the run before any batch is loaded.
        kept = "" if isinstance(error, PathError) else "batches loaded before it are kept; "
        fail(error, kept + KEEP_GOING_HINT.format(verb="loads") if about_input else None)
    except DucktrailError as error:
        fail(error)
    for line in warnings(report):
        say(line)
    if not quiet:
        say(ingest_line(report))
    if report.unreadable:
        raise typer.Exit(int(ExitCode.INPUT))


@app.command("list")
def list_rules(
    output_format: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.table,
) -> None:
    """List the rules in the pack."""
    from ducktrail.report.rules import rules_json, rules_table

    pack = load_pack_or_fail()
    emit(rules_json(pack) if output_format is ListFormat.json else rules_table(pack))


RuleArgument = Annotated[
    str,
    typer.Argument(help="Rule id or upstream rule id, or ID@N for version N.", show_default=False, metavar="RULE"),
]


def rule_version(pack, rule: str, version: int | None):  # noqa: ANN001, ANN201 - Pack and Rule would pull the loader in at import
    """The rule and version number that RULE (ID or ID@N) and --version name together."""
    chosen, number = pack.resolve(rule)
    if version is not None and "@" in rule and version != number:
        raise UsageError(f"{rule!r} and --version {version} name different versions")
    return chosen, number if version is None else chosen.sql(version).number


@app.command()
def show(
    rule: RuleArgument,
    version: Annotated[
        int | None, typer.Option(metavar="N", help="Show this version's SQL (default: the newest).")
    ] = None,
) -> None:
    """Show a rule: metadata, triage guide and its SQL."""
    from ducktrail.report.rules import rule_text

    pack = load_pack_or_fail()
    try:
        emit(rule_text(pack, *rule_version(pack, rule, version)))
    except DucktrailError as error:
        fail(error)


@app.command()
def transpile(
    rule: RuleArgument,
    dialect: Annotated[
        str,
        typer.Option(
            "--dialect",
            "-d",
            metavar="DIALECT",
            help="snowflake, bigquery, athena, trino, spark, databricks, clickhouse or duckdb.",
        ),
    ],
    source: Annotated[
        str, typer.Option(metavar="SOURCE", help="Source adapter: how that engine holds CloudTrail.")
    ] = "cloudtrail",
    version: Annotated[int | None, typer.Option(metavar="N", help="Rule version (default: the newest).")] = None,
) -> None:
    """Print a rule as ready-to-run SQL for another engine, behind that engine's source adapter."""
    from ducktrail.transpile.transpile import transpile as write_for

    pack = load_pack_or_fail()
    try:
        chosen, number = rule_version(pack, rule, version)
        sql = write_for(chosen, dialect, source=source, version=number, released=pack.is_released(chosen, number))
    except DucktrailError as error:
        fail(error)
    emit(sql, nl=False)


@app.command()
def lock(
    check: Annotated[
        bool, typer.Option("--check", help="Only verify: exit 4 if a draft is unlocked or a release changed.")
    ] = False,
    new: Annotated[
        bool, typer.Option("--new", help="Start the lock file of a pack that has none (every version is released).")
    ] = False,
) -> None:
    """Release new rule versions: check their SQL and record its content hash in the lock file."""
    from ducktrail.pack.binding import binding_problems
    from ducktrail.pack.loader import inspect_pack
    from ducktrail.pack.lock import drafts, locked_with_drafts, write_lock
    from ducktrail.pack.sql_shape import pack_shape_problems

    # Every problem of every rule at once, the SQL of the rules that load included: CI should
    # not need a run per broken rule.
    try:
        pack, problems = inspect_pack()
    except DucktrailError as error:
        fail(error)
    pending = drafts(pack.rules, pack.lock)
    shape = pack_shape_problems(pack.rules, pack.is_released)
    misshapen = {problem.path for problem in shape}
    problems += shape + binding_problems(
        (rule, version) for rule in pack.rules for version in rule.versions if str(version.path) not in misshapen
    )
    for problem in problems:
        say(f"ducktrail: error: {problem}")
    if not pack.lock_found and not new:
        # Without it every version reads as a draft, and locking would release whatever the SQL
        # files hold now, changed releases included.
        say(
            f"ducktrail: error: {pack.lock_path}: no lock file; restore it from version control, or start the"
            " lock of a new pack with `ducktrail lock --new`"
        )
        raise typer.Exit(int(ExitCode.RULE_PACK))
    if check:
        for rule, number in pending:
            path = rule.sql(number).path
            say(f"ducktrail: error: {path}: version {number} is not in the lock file; run `ducktrail lock`")
        if pending or problems:
            raise typer.Exit(int(ExitCode.RULE_PACK))
        released = sum(len(v) for v in pack.lock.values())
        emit(f"lock ok: {released} released versions match in {pack.lock_path.parent.parent}")
        return
    if problems:
        raise typer.Exit(int(ExitCode.RULE_PACK))
    try:
        write_lock(pack.lock_path, locked_with_drafts(pack.rules, pack.lock))
    except DucktrailError as error:
        fail(error)
    for rule, number in pending:
        emit(f"locked {rule.id} version {number}")
    if not pending:
        # Named: an install that is not editable runs its own copy of the pack, not the clone's.
        emit(f"nothing to lock in {pack.lock_path.parent.parent}: every version is released")


def version_callback(value: bool) -> None:
    if value:
        from ducktrail import __version__

        emit(f"ducktrail {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=version_callback, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Detection-as-code for AWS CloudTrail: versioned SQL rules run by DuckDB."""


def main() -> None:
    """The command line (launch.py starts it): run, flush the output, and leave without the interpreter's
    teardown. Output is written and databases are closed by then; tearing down DuckDB and the
    modules only hands back memory the OS reclaims anyway, and took about 40 ms of a
    500,000-event scan."""
    code = run_cli()
    if stderr_failed and code in (ExitCode.OK, ExitCode.ALERTS):
        code = int(OutputError.exit_code)  # warnings or the summary were lost, and no message can say so
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None when the process started with the descriptor closed
                stream.flush()
        except OSError:
            pass  # a reader that stopped early (`ducktrail scan ... | head`) has what it wanted
    os._exit(code)


def run_cli() -> int:
    """Run the command line given in sys.argv; returns its exit code."""
    global stderr_failed
    stderr_failed = False
    try:
        app()
    except SystemExit as exit_:
        if was_interrupted(exit_):
            say("ducktrail: interrupted")
        return exit_status(exit_.code)
    except KeyboardInterrupt:
        say("ducktrail: interrupted")
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - the last guard: no input may end in a traceback
        if os.environ.get("DUCKTRAIL_DEBUG"):
            raise
        if isinstance(exc, OSError) and exc.errno in WRITE_FAILURES and stderr_failed_now():
            # click writes its own usage errors to stderr, not through say(): that write failed.
            return int(ExitCode.USAGE)
        say(f"ducktrail: internal error: {type(exc).__name__}: {exc}")
        say("ducktrail: this is a bug; DUCKTRAIL_DEBUG=1 shows the traceback")
        return int(ExitCode.RULE_PACK)
    return 0


# How a write to a full or failing device fails.
WRITE_FAILURES = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def stderr_failed_now() -> bool:
    """Whether stderr cannot be written: a line is tried (it is lost, as every line is then)."""
    say("")
    return stderr_failed


def was_interrupted(exit_: BaseException) -> bool:
    """Whether typer turned a Ctrl-C into this exit: it raises Exit(130) from the
    KeyboardInterrupt, silently."""
    seen: BaseException | None = exit_
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def exit_status(code: object) -> int:
    """The process status for a SystemExit code, as Python itself would give it.

    >>> exit_status(None), exit_status(3)
    (0, 3)
    """
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    say(str(code))
    return 1
