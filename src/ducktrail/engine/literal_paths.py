"""File paths for DuckDB's readers, which take every path as a glob pattern.

A file named `case [1].json` would otherwise read `case 1.json` if that exists, and `star*.json`
every file it matches: the wrong events, silently. Each glob character is put in a bracket
class of its own, which matches only itself. A path starting with `~` (a folder of that name)
DuckDB would read in the home folder, so it is made absolute.

DuckDB names a file it found through a pattern by the pattern's normalized path (`./` and `//`
dropped, `folder/..` resolved, as os.path.normpath does); `reported` gives that name, so that
what DuckDB says about a file can be matched to the path it was given.
"""

from __future__ import annotations

import os

GLOB_CHARACTERS = "[*?"


def literal(path: str) -> str:
    """The glob pattern that matches exactly this path.

    >>> literal("logs/case [1]/star*.json")
    'logs/case [[]1]/star[*].json'
    >>> literal("AWSLogs/111122223333/x.json.gz")
    'AWSLogs/111122223333/x.json.gz'
    """
    path = _not_home(path)
    if not _has_glob(path):
        return path
    return "".join(f"[{character}]" if character in GLOB_CHARACTERS else character for character in path)


def literals(paths: list[str]) -> list[str]:
    return [literal(path) for path in paths]


def reported(path: str) -> str:
    """The name DuckDB gives (in `filename` and its messages) the file it reads through literal(path).

    >>> reported("./logs//case [1].json")
    'logs/case [1].json'
    >>> reported("./logs/plain.json")
    './logs/plain.json'
    """
    path = _not_home(path)
    if not _has_glob(path):
        return path
    normal = os.path.normpath(path)
    # POSIX lets normpath keep two leading slashes; DuckDB keeps one.
    return normal[1:] if normal.startswith("//") else normal


def _has_glob(path: str) -> bool:
    return any(character in path for character in GLOB_CHARACTERS)


def _not_home(path: str) -> str:
    """
    >>> _not_home("~/x.json") == os.path.join(os.getcwd(), "~", "x.json")
    True
    """
    if "~" in path and os.path.normpath(path).startswith("~"):
        return os.path.abspath(path)
    return path
