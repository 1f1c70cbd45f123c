"""Whether a file holds one JSON value per line, judged from its first few kilobytes.

DuckDB reads such files line by line ('newline_delimited') about a quarter faster than files whose
values may span lines ('unstructured'), where it scans every byte for the end of each value.
CloudTrail's S3 deliveries are one line per file and its exports one event per line; a
pretty-printed file, such as a hand-made sample, spans lines. The guess only decides speed: when
a line-by-line read fails, the engine reads every file the general way (engine/duckdb_scan.py).
"""

from __future__ import annotations

import os
import zlib
from typing import BinaryIO

from ducktrail.inputs.locate import GZIP_MAGIC

# Compressed bytes read from each file: enough for the first lines of an export, little enough
# that checking thousands of files costs milliseconds.
PEEK_BYTES = 2048
# Uncompressed bytes looked at.
PREFIX_BYTES = 8192


def one_value_per_line(path: str, *, longest_line: int) -> bool:
    """Whether every complete line at the start of the file is a whole JSON object or array, and
    a file that may be one line (no line ends in its first kilobytes) is not longer than
    `longest_line` bytes uncompressed.

    False when the file cannot be read; reading it the general way then reports the problem.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(PEEK_BYTES)
            at_end = not handle.read(1)
            size = _uncompressed_size(handle, head)
        if head.startswith(GZIP_MAGIC):
            inflate = zlib.decompressobj(wbits=31)
            prefix = inflate.decompress(head, PREFIX_BYTES)
            at_end = at_end and inflate.eof and not inflate.unconsumed_tail and not inflate.unused_data
        else:
            prefix = head[:PREFIX_BYTES]
            at_end = at_end and len(head) <= PREFIX_BYTES
    except (OSError, zlib.error):
        return False
    if not prefix and not at_end:
        return False  # gzip data that yields nothing: a broken file
    if b"\n" not in prefix and size > longest_line:
        return False  # one line, as S3 delivers a file, too long to be read by line
    return lines_are_values(prefix, complete=at_end)


def uncompressed_size(path: str) -> int:
    """Bytes of JSON a file holds: its size, or for gzip what its trailer records (modulo 4 GiB,
    of the last member); 0 when it cannot be read, which reading it then reports."""
    try:
        with open(path, "rb") as handle:
            return _uncompressed_size(handle, handle.read(len(GZIP_MAGIC)))
    except OSError:
        return 0


def _uncompressed_size(handle: BinaryIO, head: bytes) -> int:
    """The file's size, or for gzip the size its trailer records (modulo 4 GiB, last member)."""
    end = handle.seek(0, os.SEEK_END)
    if not head.startswith(GZIP_MAGIC) or end < 18:
        return end
    handle.seek(end - 4)
    return int.from_bytes(handle.read(4), "little")


def lines_are_values(prefix: bytes, *, complete: bool) -> bool:
    """Whether each complete line of `prefix` holds one whole JSON object or array.

    The last line counts only when `prefix` is the whole file (`complete`); a first line longer
    than the prefix, as in a one-line S3 delivery, passes.

    >>> lines_are_values(b'{"Records":[{"eventVersion":"1.09"', complete=False)
    True
    >>> lines_are_values(b'{"eventName":"Invoke"}\\r\\n\\n{"eventName":"Invo', complete=False)
    True
    >>> lines_are_values(b'{\\n  "Records": [\\n    {', complete=False)
    False
    >>> lines_are_values(b'{"Records": []', complete=True)
    False
    """
    lines = prefix.split(b"\n")
    if not complete:
        lines.pop()
    for line in lines:
        line = line.strip()
        if line and line[:1] + line[-1:] not in (b"{}", b"[]"):
            return False
    return True
