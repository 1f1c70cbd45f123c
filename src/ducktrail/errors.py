"""The one domain error the library raises, and the exit codes the CLI maps it to."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes; README.md and `ducktrail --help` document the same table."""

    OK = 0
    ALERTS = 1  # alerts were found and --fail-on-alerts was given
    USAGE = 2  # bad option or argument (also what typer/click use)
    INPUT = 3  # input that cannot be read (missing path, corrupt gzip, not CloudTrail JSON), or output not written
    RULE_PACK = 4  # the rule pack is invalid: bad metadata, or released SQL changed
    INTERRUPTED = 130  # Ctrl-C, as shells report a process SIGINT ended


class DucktrailError(Exception):
    """A failure the user can act on; never shown with a traceback.

    >>> str(DucktrailError("bad", path="a.json", record=3))
    'a.json (record 3): bad'
    """

    exit_code: ExitCode = ExitCode.RULE_PACK

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        record: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.record = record

    def __str__(self) -> str:
        where = self.path or ""
        if self.line is not None:
            where += f":{self.line}"
        if self.record is not None:
            where += f" (record {self.record})"
        return f"{where}: {self.message}" if where else self.message


class UsageError(DucktrailError):
    exit_code = ExitCode.USAGE


class InputError(DucktrailError):
    exit_code = ExitCode.INPUT


class PathError(InputError):
    """A path given, or found in a folder, that cannot be read: found while the paths are listed,
    before any file is read or anything stored."""


class OutputError(DucktrailError):
    """Standard output that cannot be written (a full disk): the run's result is lost, as when a
    database cannot be written, so it exits as input failures do."""

    exit_code = ExitCode.INPUT


class WrongSourceError(InputError):
    """Input that is the other --source's events: the rest of the files most likely are too, so
    skipping this one (--keep-going) would not help; naming the right source does."""


class RulePackError(DucktrailError):
    exit_code = ExitCode.RULE_PACK


class RulePackErrors(RulePackError):
    """Every problem a collecting loader found, reported together."""

    def __init__(self, problems: list[RulePackError]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
