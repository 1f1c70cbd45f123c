"""File paths for DuckDB's readers, which take every path as a glob pattern.

A file named `case [1].json` would otherwise read `case 1.json` if that exists, and `star*.json`
every file it matches: the wrong events, silently. Each glob character is put in a bracket
class of its own, which matches only itself.

DuckDB also reads a pattern's `..` on its text (`link/../x[1].json` is `./x[1].json` to it, not
the file beside the folder `link` points to), and a path starting with `~` in the home folder.
Such paths are handed over as their real path, which DuckDB reads as the operating system
would; `reported` gives the name DuckDB then uses for the file, so that what DuckDB says about a
file can be matched to the path it was given.
"""

from __future__ import annotations

import os

GLOB_CHARACTERS = "[*?"


def literal(path: str) -> str:
    """The glob pattern that matches exactly this path.

    >>> literal("/logs/case [1]/star*.json")
    '/logs/case [[]1]/star[*].json'
    >>> literal("AWSLogs/111122223333/x.json.gz")
    'AWSLogs/111122223333/x.json.gz'
    """
    return escaped(reported(path))


def literals(paths: list[str]) -> list[str]:
    return [literal(path) for path in paths]


def escaped(name: str) -> str:
    """The glob pattern that matches exactly this name, as DuckDB reads it (see reported()).

    >>> escaped("/logs/star*.json")
    '/logs/star[*].json'
    """
    if not has_glob(name):
        return name
    return "".join(f"[{character}]" if character in GLOB_CHARACTERS else character for character in name)


def reported(path: str) -> str:
    """The name DuckDB gives (in `filename` and its messages) the file it reads through literal(path).

    >>> reported("./logs/plain.json")
    './logs/plain.json'
    >>> reported("./logs//case [1].json") == os.path.realpath("logs/case [1].json")
    True
    """
    home = "~" in path and (path.startswith("~") or os.path.normpath(path).startswith("~"))
    return os.path.realpath(path) if home or has_glob(path) else path


def unexpanded(path: str) -> str:
    """A database path as DuckDB must be given it to open what the operating system would: DuckDB
    reads a leading `~` as the home folder.

    >>> unexpanded("~/trail.duckdb"), unexpanded("/tmp/~/trail.duckdb")
    ('./~/trail.duckdb', '/tmp/~/trail.duckdb')
    """
    return "./" + path if path.startswith("~") else path


def has_glob(path: str) -> bool:
    """Whether DuckDB would take this path for a pattern.

    >>> has_glob("a/b.json"), has_glob("a/[b].json")
    (False, True)
    """
    return any(character in path for character in GLOB_CHARACTERS)
