"""The lock file: content hashes of released rule versions, so none can change silently.

`rules.lock.json` maps rule id -> version -> sha256 of that version's SQL file. A version in
the lock is released and frozen; a version not yet in it is a draft until `ducktrail lock`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from ducktrail.errors import RulePackError
from ducktrail.pack.rules import Rule

Lock = dict[str, dict[str, str]]


def read_lock(path: Path) -> Lock:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise RulePackError(f"unreadable lock file: {exc}", path=str(path)) from None
    except RecursionError:
        raise RulePackError("unreadable lock file: nested too deeply", path=str(path)) from None
    if not isinstance(data, dict) or not all(
        isinstance(versions, dict) and all(isinstance(h, str) for h in versions.values()) for versions in data.values()
    ):
        raise RulePackError('lock file must map rule id -> {"version": "sha256:..."}', path=str(path))
    return data


def changed_releases(rules: Iterable[Rule], lock: Lock) -> list[RulePackError]:
    """Released versions whose SQL no longer matches the lock, and locked versions now missing."""
    problems = []
    for rule in rules:
        locked = lock.get(rule.id, {})
        present = {str(v.number): v for v in rule.versions}
        for number, expected in sorted(locked.items()):
            version = present.get(number)
            if version is None:
                problems.append(
                    RulePackError(f"released version {number} of {rule.id} is missing", path=str(rule.path))
                )
            elif version.sha256 != expected:
                problems.append(
                    RulePackError(
                        f"released SQL changed (locked {expected[:19]}..., now {version.sha256[:19]}...): "
                        f"restore it and put the change in v{rule.version + 1}.sql",
                        path=str(version.path),
                    )
                )
    return problems


def drafts(rules: Iterable[Rule], lock: Lock) -> list[tuple[Rule, int]]:
    """Versions not yet released (not in the lock)."""
    return [(rule, v.number) for rule in rules for v in rule.versions if str(v.number) not in lock.get(rule.id, {})]


def locked_with_drafts(rules: Iterable[Rule], lock: Lock) -> Lock:
    """The lock with every draft version added; refuses if a released version changed."""
    rules = list(rules)
    problems = changed_releases(rules, lock)
    if problems:
        raise problems[0] if len(problems) == 1 else RulePackError("; ".join(map(str, problems)))
    updated: Lock = {rule_id: dict(versions) for rule_id, versions in lock.items()}
    for rule in rules:
        entry = updated.setdefault(rule.id, {})
        newest_released = max(map(int, entry), default=0)
        for version in rule.versions:
            if str(version.number) not in entry and version.number < newest_released:
                # Versions are released in order: an older one missing from the lock lost its entry.
                raise RulePackError(
                    f"version {version.number} of {rule.id} is not in the lock file, though version"
                    f" {newest_released} is released: restore its entry (from version control) rather than"
                    " release it again",
                    path=str(version.path),
                )
            entry.setdefault(str(version.number), version.sha256)
    return {rule_id: dict(sorted(v.items(), key=lambda kv: int(kv[0]))) for rule_id, v in sorted(updated.items())}


def write_lock(path: Path, lock: Lock) -> None:
    path.write_text(json.dumps(lock, indent=2) + "\n", encoding="utf-8")
