"""The whole pack: every rule folder, checked against the lock."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ducktrail import sqlfiles
from ducktrail.errors import RulePackError, RulePackErrors, UsageError
from ducktrail.pack.lock import Lock, changed_releases, read_lock
from ducktrail.pack.rules import Rule, load_rule


@dataclass(frozen=True)
class Pack:
    rules: tuple[Rule, ...]
    lock: Lock
    # The lock file itself: without it every version reads as a draft, so `lock` will not
    # start a new one unless asked (a deleted lock file would otherwise re-release anything).
    lock_path: Path
    lock_found: bool = True

    def is_released(self, rule: Rule, version: int) -> bool:
        return str(version) in self.lock.get(rule.id, {})

    def resolve(self, name: str) -> tuple[Rule, int]:
        """A rule and version from `ID` (its newest version) or `ID@N`; ID may be the upstream id."""
        rule_name, at, version_text = name.partition("@")
        rule = self.find(rule_name)
        if not at:
            return rule, rule.version
        # ASCII digits only: int() would also take other scripts' digits.
        if not (version_text.isascii() and version_text.isdigit()):
            raise UsageError(f"bad rule version in {name!r}: expected ID@N")
        return rule, rule.sql(int(version_text)).number

    def find(self, name: str) -> Rule:
        """A rule by its id or its upstream rule id."""
        for rule in self.rules:
            if name == rule.id or (rule.upstream is not None and name == rule.upstream.rule_id):
                return rule
        known = ", ".join(r.id for r in self.rules) or "none"
        raise UsageError(f"no rule {name!r} (rules: {known})")


def load_pack(rules_dir: Path | None = None, *, collect: bool = False) -> Pack:
    """Load and check every rule; fail at the first bad rule, or with `collect` report all."""
    pack, problems = _load(rules_dir, fail_fast=not collect)
    if problems:
        raise RulePackErrors(problems)
    return pack


def inspect_pack(rules_dir: Path | None = None) -> tuple[Pack, list[RulePackError]]:
    """Every rule that loads, and every problem of the pack: `lock` checks the SQL of the rules
    that load and reports it with the others' metadata problems, all in one run."""
    return _load(rules_dir, fail_fast=False)


def _load(rules_dir: Path | None, *, fail_fast: bool) -> tuple[Pack, list[RulePackError]]:
    rules_dir = rules_dir or sqlfiles.rules_dir()
    if not rules_dir.is_dir():
        raise RulePackError("rule folder not found", path=str(rules_dir))
    lock_file = rules_dir / sqlfiles.lock_path().name
    rules: list[Rule] = []
    problems: list[RulePackError] = []
    try:
        lock = read_lock(lock_file)
    except RulePackError as exc:
        if fail_fast:
            raise
        problems.append(exc)
        lock = {}
    for folder in sorted(p for p in rules_dir.iterdir() if p.is_dir() and not _ignored(p.name)):
        try:
            rule = load_rule(folder)
        except RulePackErrors as exc:
            if fail_fast:
                raise
            problems.extend(exc.problems)
            continue
        changed = changed_releases([rule], lock)
        if changed and fail_fast:
            raise RulePackErrors(changed)
        problems.extend(changed)
        rules.append(rule)
    loaded = {rule.id for rule in rules} | {path.name for path in rules_dir.iterdir() if path.is_dir()}
    problems.extend(
        RulePackError(f"released rule {rule_id} is missing: its folder {rule_id}/ is gone", path=str(lock_file))
        for rule_id in sorted(set(lock) - loaded)
    )
    problems.extend(_ambiguous_names(rules))
    if not rules and not problems:
        problems.append(
            RulePackError("no rules: expected a folder per rule, with rule.toml and v1.sql", path=str(rules_dir))
        )
    return Pack(rules=tuple(rules), lock=lock, lock_path=lock_file, lock_found=lock_file.exists()), problems


def _ignored(name: str) -> bool:
    """Folders that hold no rule: hidden ones (.cache) and Python's bytecode cache."""
    return name.startswith(".") or name == "__pycache__"


def _ambiguous_names(rules: list[Rule]) -> list[RulePackError]:
    """`--rule`, `show` and `transpile` take a rule's id or its upstream rule id, so each name
    must select one rule: no upstream id may be another rule's upstream id or own id."""
    owner: dict[str, Rule] = {rule.id: rule for rule in rules}
    problems = []
    for rule in rules:
        if rule.upstream is None:
            continue
        name = rule.upstream.rule_id
        earlier = owner.setdefault(name, rule)
        if earlier is not rule:
            whose = f"{earlier.id}'s id" if name == earlier.id else f"also {earlier.id}'s"
            problems.append(
                RulePackError(
                    f"upstream.rule_id {name} is {whose}: a name selects one rule", path=str(rule.path / "rule.toml")
                )
            )
    return problems
