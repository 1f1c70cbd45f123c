"""Turn the user's paths into the files to read and the files skipped, each with its reason."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from ducktrail.engine.literal_paths import has_glob
from ducktrail.errors import InputError, PathError

JSON_SUFFIXES = (".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")

# Folders beside CloudTrail/ under AWSLogs/ hold digests, Insights events and network activity
# events: other shapes, which the rules must not read as API events.
OTHER_TRAIL_FOLDERS = ("CloudTrail-Digest", "CloudTrail-Insight", "CloudTrail-NetworkActivity")


EMPTY_FILE = "empty file"


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass(frozen=True)
class Discovery:
    files: tuple[str, ...]
    skipped: tuple[SkippedFile, ...]
    unreadable: tuple[InputError, ...] = ()


def discover(paths: list[str], *, keep_going: bool = False) -> Discovery:
    """Walk directories (sorted, so runs are repeatable); take named files as they are.

    A path that cannot be read raises InputError, or with `keep_going` is listed as unreadable.

    >>> discover([]).files
    ()
    >>> [str(e) for e in discover(["/no/such/path"], keep_going=True).unreadable]
    ['/no/such/path: no such file or directory']
    """
    files: list[str] = []
    skipped: list[SkippedFile] = []
    unreadable: list[InputError] = []
    seen: set[str] = set()
    # (device, inode) of files with several hard links: one file however many names it has.
    linked: set[tuple[int, int]] = set()

    def fail(problem: InputError) -> None:
        if not keep_going:
            raise problem
        unreadable.append(problem)

    def consider(path: str, explicit: bool, real_folder: str | None = None) -> None:
        # In a walked folder only a link needs resolving: realpath costs a stat per path level.
        key = os.path.join(real_folder, os.path.basename(path)) if real_folder else ""
        if not key or os.path.islink(path):
            key = os.path.realpath(path)
        if key in seen:
            return
        seen.add(key)
        with contextlib.suppress(OSError):  # skip_reason reports a file that cannot be stat'ed
            stat = os.stat(path)
            if stat.st_nlink > 1:
                if (stat.st_dev, stat.st_ino) in linked:
                    return
                linked.add((stat.st_dev, stat.st_ino))
        try:
            reason = skip_reason(path, explicit=explicit)
        except InputError as problem:
            fail(problem)
            return
        if reason:
            skipped.append(SkippedFile(path, reason))
        else:
            files.append(path)

    def unlisted(error: OSError) -> None:
        fail(PathError(f"cannot list folder: {error.strerror}", path=str(error.filename)))

    for given in paths:
        if os.path.isdir(given):
            # Symlinked folders are followed (a linked day of logs is still logs); each real
            # folder is walked once, so a link cycle ends.
            walked: set[str] = set()
            for folder, subfolders, names in os.walk(given, onerror=unlisted, followlinks=True):
                real = os.path.realpath(folder)
                if real in walked:
                    subfolders.clear()
                    continue
                walked.add(real)
                subfolders.sort()
                for name in sorted(names):
                    consider(os.path.join(folder, name), explicit=False, real_folder=real)
        elif os.path.isfile(given):
            consider(given, explicit=True)
        else:
            fail(PathError(why_unusable(given), path=given))
    return Discovery(files=tuple(files), skipped=tuple(skipped), unreadable=tuple(unreadable))


def why_unusable(path: str) -> str:
    """Why a path given to read is neither a file nor a folder, in the system's words.

    >>> why_unusable("/no/such/path"), why_unusable("/dev/null"), why_unusable("")
    ('no such file or directory', 'not a regular file or directory', 'an empty path names no file')
    """
    if not path:
        return "an empty path names no file"
    try:
        os.stat(path)
    except OSError as exc:  # a symlink loop, a folder on the way that cannot be searched, ...
        return exc.strerror.lower() if exc.strerror else str(exc)
    return "not a regular file or directory"


def skip_reason(path: str, *, explicit: bool) -> str | None:
    """Why a file is not read, or None to read it.

    >>> skip_reason("AWSLogs/1/CloudTrail-Digest/us-east-1/x.json.gz", explicit=False)
    'CloudTrail-Digest file'
    >>> skip_reason("notes.txt", explicit=False)
    'not a .json/.jsonl/.ndjson file'
    """
    if not path.isascii():
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            # DuckDB takes paths as UTF-8 text; Python keeps other bytes as lone surrogates.
            raise PathError("cannot read: the file name is not valid UTF-8", path=path) from None
    parts = Path(path).parts
    name = parts[-1] if parts else path
    if "?" in path and name.lower().endswith(".gz"):
        # DuckDB decides on decompression from the path with anything after a '?' cut off.
        raise PathError(
            "cannot read: DuckDB does not decompress a .gz file whose path holds a '?'; rename the file or its folder",
            path=path,
        )
    for folder in OTHER_TRAIL_FOLDERS:
        if folder in parts[:-1] or f"_{folder}_" in name:
            return f"{folder} file"
    if not explicit and not name.lower().endswith(JSON_SUFFIXES):
        return "not a .json/.jsonl/.ndjson file"
    try:
        if os.path.getsize(path) == 0:
            return EMPTY_FILE
    except OSError as exc:
        raise PathError(f"cannot read: {exc.strerror}", path=path) from None
    if not os.access(path, os.R_OK):
        raise PathError("permission denied", path=path)
    if "\\" in path and has_glob(path):
        # DuckDB finds such a path as a pattern, and its pattern matching takes a backslash for
        # a folder separator.
        raise PathError(
            "cannot read: DuckDB cannot open a file whose path holds both a backslash and one of [ * ?;"
            " rename the file or its folder",
            path=path,
        )
    return None
