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

    def is_released(self, rule: Rule, version: int) -> bool:
        return str(version) in self.lock.get(rule.id, {})

    def find(self, name: str) -> Rule:
        """A rule by its id or its upstream rule id."""
        for rule in self.rules:
            if name == rule.id or (rule.upstream is not None and name == rule.upstream.rule_id):
                return rule
        known = ", ".join(r.id for r in self.rules) or "none"
        raise UsageError(f"no rule {name!r} (rules: {known})")


def load_pack(rules_dir: Path | None = None, *, collect: bool = False) -> Pack:
    """Load and check every rule; fail at the first bad rule, or with `collect` report all."""
    rules_dir = rules_dir or sqlfiles.rules_dir()
    if not rules_dir.is_dir():
        raise RulePackError("rule folder not found", path=str(rules_dir))
    lock = read_lock(rules_dir / sqlfiles.lock_path().name)
    rules: list[Rule] = []
    problems: list[RulePackError] = []
    for folder in sorted(p for p in rules_dir.iterdir() if p.is_dir()):
        try:
            rule = load_rule(folder)
        except RulePackErrors as exc:
            if not collect:
                raise
            problems.extend(exc.problems)
            continue
        changed = changed_releases([rule], lock)
        if changed and not collect:
            raise RulePackErrors(changed)
        problems.extend(changed)
        rules.append(rule)
    if problems:
        raise RulePackErrors(problems)
    return Pack(rules=tuple(rules), lock=lock)
