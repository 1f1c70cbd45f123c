"""Which version of a DuckDB source adapter made an ingested file's rows.

An ingested database stores what the adapter made of each file. A later ducktrail whose adapter
reads the files differently would scan stale rows, so each file's row in the files table records
the adapter's hash, and ingest reloads files that another adapter loaded. The hash covers the
adapter's SQL tokens only: an edited comment or a reflowed line changes no row, so it must not
make every database reload.
"""

from __future__ import annotations

import hashlib

from ducktrail import sqlfiles


def adapter_sha256(sql: str) -> str:
    """`sha256:<hex>` of the SQL's tokens as DuckDB's tokenizer splits them, comments left out.

    >>> one = "-- reads it\\nSELECT 'a -- b' AS x,  1\\nFROM t;"
    >>> adapter_sha256(one) == adapter_sha256("SELECT 'a -- b' AS x, /* kept? no */ 1 FROM t; -- end")
    True
    >>> adapter_sha256(one) == adapter_sha256("SELECT 'a -- c' AS x, 1 FROM t;")
    False
    >>> adapter_sha256("SELECT a b FROM t") == adapter_sha256("SELECT ab FROM t")
    False
    """
    from ducktrail.engine.duckdb_module import duckdb

    tokens = duckdb.tokenize(sql)
    ends = [start for start, _ in tokens[1:]] + [len(sql)]
    kept = [
        sql[start:end].strip()
        for (start, kind), end in zip(tokens, ends, strict=True)
        if kind != duckdb.token_type.comment
    ]
    return "sha256:" + hashlib.sha256("\n".join(kept).encode()).hexdigest()


def current_adapter_hashes() -> frozenset[str]:
    """The hash of every DuckDB source adapter this ducktrail has (cloudtrail, ecs): rows any of
    them made are current. A file there that cannot be read as text is no adapter of ours."""
    hashes = set()
    for path in sqlfiles.source_adapter_paths("duckdb"):
        try:
            hashes.add(adapter_sha256(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeError):
            continue
    return frozenset(hashes)
