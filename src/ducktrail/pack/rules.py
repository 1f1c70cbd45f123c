"""Load rule folders (`rule.toml` + `vN.sql`) into frozen, validated dataclasses.

A rule folder holds the metadata in `rule.toml` and one SQL file per version, `v1.sql`,
`v2.sql`, ...; the metadata's `version` names the newest. Every problem carries the file and,
where it can be found, the line.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ducktrail.errors import RulePackError, RulePackErrors, UsageError

RULE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.sql$")
SEVERITIES = ("low", "medium", "high", "critical")
TACTIC_ID = re.compile(r"^TA[0-9]{4}$")
TECHNIQUE_ID = re.compile(r"^T[0-9]{4}(\.[0-9]{3})?$")
URL = re.compile(r"^https://\S+$")


@dataclass(frozen=True)
class MitreEntry:
    id: str
    name: str
    reference: str


@dataclass(frozen=True)
class Upstream:
    source: str
    rule_id: str
    version: int
    name: str


@dataclass(frozen=True)
class RuleVersion:
    number: int
    path: Path
    sql: str

    @property
    def sha256(self) -> str:
        return content_hash(self.sql.encode())


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    version: int
    description: str
    severity: str
    risk_score: int
    tactic: MitreEntry
    techniques: tuple[MitreEntry, ...]
    references: tuple[str, ...]
    false_positives: tuple[str, ...]
    setup: str
    triage: str
    tags: tuple[str, ...]
    upstream: Upstream | None
    versions: tuple[RuleVersion, ...]
    path: Path

    def sql(self, version: int | None = None) -> RuleVersion:
        wanted = self.version if version is None else version
        for candidate in self.versions:
            if candidate.number == wanted:
                return candidate
        known = ", ".join(str(v.number) for v in self.versions)
        raise UsageError(f"rule {self.id} has no version {wanted} (versions: {known})")


def content_hash(data: bytes) -> str:
    """The lock's notation for a file's content.

    >>> content_hash(b"SELECT 1")[:15]
    'sha256:e004ebd5'
    """
    return "sha256:" + hashlib.sha256(data).hexdigest()


def load_rule(folder: Path) -> Rule:
    """Load one rule folder; raise RulePackErrors listing every problem found in it."""
    toml_path = folder / "rule.toml"
    try:
        text = toml_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulePackErrors(
            [RulePackError(f"cannot read rule metadata: {exc.strerror}", path=str(toml_path))]
        ) from None
    except UnicodeDecodeError as exc:
        raise RulePackErrors([RulePackError(not_utf8(exc), path=str(toml_path))]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulePackErrors(
            [RulePackError(f"invalid TOML: {exc}", path=str(toml_path), line=_toml_error_line(exc, text))]
        ) from None
    except RecursionError:
        raise RulePackErrors([RulePackError("invalid TOML: nested too deeply", path=str(toml_path))]) from None
    fields = _Fields(data, text, str(toml_path))
    rule = _build_rule(fields, folder)
    if fields.problems:
        raise RulePackErrors(fields.problems)
    assert rule is not None
    return rule


def _build_rule(f: _Fields, folder: Path) -> Rule | None:
    rule_id = f.get("id", str, check=lambda v: bool(RULE_ID.fullmatch(v)), expect="a lower-case slug like my-rule-name")
    if rule_id is not None and rule_id != folder.name:
        f.problem("id", f"id {rule_id!r} must match its folder name {folder.name!r}")
    version = f.get("version", int, check=lambda v: v >= 1, expect="a whole number from 1")
    severity = f.get("severity", str, check=lambda v: v in SEVERITIES, expect=" | ".join(SEVERITIES))
    risk_score = f.get("risk_score", int, check=lambda v: 0 <= v <= 100, expect="a whole number from 0 to 100")
    references = f.get_list("references", check=lambda v: bool(URL.fullmatch(v)), expect="https URLs")
    tactic = _mitre(f, f.get("tactic", dict), "tactic", TACTIC_ID)
    raw_techniques = f.get("techniques", list, check=lambda v: len(v) > 0, expect="at least one technique")
    techniques = tuple(_mitre(f, t, f"techniques[{i}]", TECHNIQUE_ID) for i, t in enumerate(raw_techniques or []))
    for index, entry in enumerate(raw_techniques or []):
        if not isinstance(entry, dict):
            f.problem("techniques", f"entry {index + 1} must be a table ([[techniques]]), got {type(entry).__name__}")
    upstream = _upstream(f, f.get("upstream", dict, required=False))
    versions = _versions(f, folder, version)
    values = dict(
        id=rule_id,
        name=f.get("name", str),
        version=version,
        description=f.get("description", str),
        severity=severity,
        risk_score=risk_score,
        tactic=tactic,
        techniques=techniques,
        references=tuple(references or ()),
        false_positives=tuple(f.get_list("false_positives") or ()),
        setup=f.get("setup", str),
        triage=f.get("triage", str),
        tags=tuple(f.get_list("tags") or ()),
        upstream=upstream,
        versions=versions,
        path=folder,
    )
    # `versions` and `path` come from the folder, not from rule.toml.
    f.reject_unknown(set(values) - {"versions", "path"})
    if f.problems:
        return None
    return Rule(**values)  # type: ignore[arg-type]


def _mitre(f: _Fields, entry: Any, where: str, pattern: re.Pattern[str]) -> MitreEntry | None:
    if not isinstance(entry, dict):
        return None
    sub = _Fields(entry, f.text, f.path, prefix=where, sink=f.problems)
    values = dict(
        id=sub.get("id", str, check=lambda v: bool(pattern.fullmatch(v)), expect=f"an id like {pattern.pattern}"),
        name=sub.get("name", str),
        reference=sub.get("reference", str, check=lambda v: bool(URL.fullmatch(v)), expect="an https URL"),
    )
    sub.reject_unknown(values)
    return MitreEntry(**values)


def _upstream(f: _Fields, entry: Any) -> Upstream | None:
    if entry is None:
        return None
    sub = _Fields(entry, f.text, f.path, prefix="upstream", sink=f.problems)
    values = dict(
        source=sub.get("source", str),
        rule_id=sub.get("rule_id", str),
        version=sub.get("version", int, check=lambda v: v >= 1, expect="a whole number from 1"),
        name=sub.get("name", str),
    )
    sub.reject_unknown(values)
    return Upstream(**values)


def _versions(f: _Fields, folder: Path, newest: int | None) -> tuple[RuleVersion, ...]:
    found: dict[int, Path] = {}
    for path in folder.iterdir():
        match = VERSION_FILE.fullmatch(path.name)
        if match:
            found[int(match.group(1))] = path
        elif path.suffix == ".sql":
            f.problems.append(RulePackError("rule SQL files are named v1.sql, v2.sql, ...", path=str(path)))
    if not found:
        f.problems.append(RulePackError("no rule SQL: expected v1.sql beside rule.toml", path=str(folder)))
        return ()
    numbers = sorted(found)
    if numbers != list(range(1, len(numbers) + 1)):
        f.problems.append(RulePackError(f"versions must run 1..N without gaps, found {numbers}", path=str(folder)))
    if newest is not None and newest != numbers[-1]:
        f.problem("version", f"version is {newest} but the newest SQL file is v{numbers[-1]}.sql")
    versions = []
    for number in numbers:
        path = found[number]
        try:
            sql = path.read_text(encoding="utf-8")
        except OSError as exc:
            f.problems.append(RulePackError(f"cannot read rule SQL: {exc.strerror}", path=str(path)))
            continue
        except UnicodeDecodeError as exc:
            f.problems.append(RulePackError(not_utf8(exc), path=str(path)))
            continue
        if not sql.strip():
            f.problems.append(RulePackError("rule SQL is empty", path=str(path)))
        versions.append(RuleVersion(number=number, path=path, sql=sql))
    return tuple(versions)


class _Fields:
    """Typed access to a TOML table that records problems instead of raising at the first."""

    def __init__(
        self,
        data: dict[str, Any],
        text: str,
        path: str,
        prefix: str = "",
        sink: list[RulePackError] | None = None,
    ) -> None:
        self.data = data
        self.text = text
        self.path = path
        self.prefix = prefix
        self.problems: list[RulePackError] = [] if sink is None else sink

    def problem(self, key: str, message: str) -> None:
        name = f"{self.prefix}.{key}" if self.prefix else key
        line = _line_of(self.text, key, table=self.prefix)
        self.problems.append(RulePackError(f"{name}: {message}", path=self.path, line=line))

    def reject_unknown(self, known: Iterable[str]) -> None:
        """A problem for each key of the table that is none of `known` (a misspelt key would
        otherwise be reported only as the right one missing)."""
        for key in sorted(set(self.data) - set(known)):
            self.problem(key, f"unknown key {key!r}")

    def get(
        self,
        key: str,
        kind: type,
        *,
        required: bool = True,
        check: Callable[[Any], bool] | None = None,
        expect: str = "",
    ) -> Any:
        if key not in self.data:
            if required:
                self.problem(key, "missing")
            return None
        value = self.data[key]
        # bool is an int to Python, never a version or a score to us.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.problem(key, f"expected {kind.__name__}, got {type(value).__name__}")
            return None
        if kind is str and not value.strip():
            self.problem(key, "must not be empty")
            return None
        if kind is str and (control := _control_character(value, lines=key in MULTILINE_KEYS)):
            self.problem(key, f"holds a control character ({control}), which would reach the terminal")
            return None
        if check is not None and not check(value):
            self.problem(key, f"expected {expect}, got {value!r}")
            return None
        return value

    def get_list(self, key: str, *, check: Callable[[str], bool] | None = None, expect: str = "") -> list[str] | None:
        values = self.get(key, list)
        if values is None:
            return None
        for value in values:
            if not isinstance(value, str) or not value.strip():
                self.problem(key, f"entries must be non-empty strings, got {value!r}")
                return None
            if control := _control_character(value, lines=False):
                self.problem(key, f"an entry holds a control character ({control}), which would reach the terminal")
                return None
            if check is not None and not check(value):
                self.problem(key, f"expected {expect}, got {value!r}")
                return None
        return values


# Texts of several lines, printed by `show`; every other text is one line of a listing or alert.
MULTILINE_KEYS = frozenset({"description", "setup", "triage"})


def _control_character(text: str, *, lines: bool) -> str | None:
    r"""The first control character in `text` as U+XXXX (a line break or tab counts only in a
    one-line text), or None.

    >>> _control_character("Lambda\x1b[2J", lines=True), _control_character("a\nb", lines=False)
    ('U+001B', 'U+000A')
    >>> _control_character("a\n\tb", lines=True)
    """
    allowed = "\n\t" if lines else ""
    for char in text:
        if (char < " " or "\x7f" <= char <= "\x9f") and char not in allowed:
            return f"U+{ord(char):04X}"
    return None


def _toml_error_line(exc: tomllib.TOMLDecodeError, text: str) -> int | None:
    """tomllib puts the position in its message ('(at line 3, column 5)') before Python 3.14.

    >>> try:
    ...     tomllib.loads("a = 1 2")
    ... except tomllib.TOMLDecodeError as error:
    ...     _toml_error_line(error, "a = 1 2")
    1
    """
    line = getattr(exc, "lineno", None)
    if line is not None:
        return line
    match = re.search(r"at line (\d+)", str(exc))
    if match:
        return int(match.group(1))
    return text.count("\n") + 1 if "end of document" in str(exc) else None


TABLE_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_-]+)\s*\]\]?\s*(?:#.*)?$")


def _line_of(text: str, key: str, table: str = "") -> int | None:
    """Best-effort line of `key = ...` in TOML text (tomllib keeps no positions): at the top
    level, or in `table` ('tactic', or 'techniques[1]' for the second [[techniques]]); else the
    line of the table itself (`[key]` at the top level, the table's header inside one).

    >>> text = 'id = "a"\\n[tactic]\\nid = "x"\\n[[techniques]]\\nid = "y"\\n[[techniques]]\\nid = "z"\\n'
    >>> _line_of(text, "id"), _line_of(text, "id", "tactic"), _line_of(text, "id", "techniques[1]")
    (1, 3, 7)
    >>> _line_of(text, "tactic"), _line_of(text, "name", "tactic")
    (2, 2)
    """
    name, _, index = table.partition("[")
    wanted = int(index.rstrip("]")) if index else 0
    assignment = re.compile(rf"\s*{re.escape(key)}\s*=")
    current, seen, header_line = "", {}, None
    for number, line in enumerate(text.splitlines(), 1):
        header = TABLE_HEADER.match(line)
        if header:
            current = header.group(1)
            seen[current] = seen.get(current, -1) + 1
            if not table and current == key:
                return number
            if table and current == name and seen[current] == wanted:
                header_line = number
            continue
        inside = current == "" if not table else (current == name and seen[current] == wanted)
        if inside and assignment.match(line):
            return number
    return header_line


def not_utf8(error: UnicodeDecodeError) -> str:
    return f"not UTF-8 text (byte {error.object[error.start]:#04x} at offset {error.start})"
