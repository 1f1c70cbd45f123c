"""File paths for DuckDB's readers, which take every path as a glob pattern.

A file named `case [1].json` would otherwise read `case 1.json` if that exists, and `star*.json`
every file it matches: the wrong events, silently. Each glob character is put in a bracket
class of its own, which matches only itself; DuckDB still reports the file by its real name.
"""

from __future__ import annotations

GLOB_CHARACTERS = "[*?"


def literal(path: str) -> str:
    """The glob pattern that matches exactly this path.

    >>> literal("logs/case [1]/star*.json")
    'logs/case [[]1]/star[*].json'
    >>> literal("AWSLogs/111122223333/x.json.gz")
    'AWSLogs/111122223333/x.json.gz'
    """
    if not any(character in path for character in GLOB_CHARACTERS):
        return path
    return "".join(f"[{character}]" if character in GLOB_CHARACTERS else character for character in path)


def literals(paths: list[str]) -> list[str]:
    return [literal(path) for path in paths]
