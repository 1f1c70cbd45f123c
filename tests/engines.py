"""Running transpiled rules on other engines, for the execution tests: Spark, ClickHouse, DuckDB."""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ducktrail.sqlfiles import sql_root


def iso(value: Any) -> Any:
    """Engines print timestamps their own way; alerts compare in ISO 8601 UTC as ducktrail writes
    them, a fraction of a second without trailing zeros.

    >>> iso(datetime(2026, 11, 1, 1, 0, 0, 250000)), iso("2026-11-01 01:00:00.000"), iso("2026-11-01 01:00:00.500")
    ('2026-11-01T01:00:00.25Z', '2026-11-01T01:00:00Z', '2026-11-01T01:00:00.5Z')
    """
    if isinstance(value, datetime):
        value = value.isoformat()
    if isinstance(value, str):
        parts = re.fullmatch(r"(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d+))?Z?", value)
        if parts:
            fraction = (parts[3] or "").rstrip("0")
            return f"{parts[1]}T{parts[2]}{'.' + fraction if fraction else ''}Z"
    return value


def normalized(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: iso(value) for key, value in row.items()} for row in rows]


def documented_ddl(engine: str, name: str) -> str:
    """The example DDL an adapter's header documents between `-- [name]` and `-- [/name]`."""
    text = (sql_root() / "sources" / engine / "cloudtrail.sql").read_text()
    block = re.search(rf"-- \[{name}\]\n(.*?)-- \[/{name}\]", text, re.S)
    assert block, f"{engine} adapter lost its documented {name} DDL"
    return "\n".join(line[3:] for line in block.group(1).splitlines())


class Spark:
    """A local Spark session, kept on the loopback interface."""

    def __init__(self) -> None:
        pytest.importorskip("pyspark", reason="pip install pyspark (in the dev extra) to run the Spark tests")
        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
            pytest.skip("Spark needs a Java runtime (17 or newer): apt-get install openjdk-17-jre-headless")
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        from pyspark.sql import SparkSession

        self.session = (
            SparkSession.builder.master("local[2]")
            .appName("ducktrail-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
            .getOrCreate()
        )
        self.session.sparkContext.setLogLevel("ERROR")

    def use_files(self, pattern: str) -> None:
        ddl = documented_ddl("spark", "cloudtrail_files")
        ddl = re.sub(r"path '[^']*'", lambda _: f"path '{pattern}'", ddl)
        self.session.sql(ddl.strip().rstrip(";"))

    def alerts(self, sql: str) -> list[dict[str, Any]]:
        return normalized([row.asDict() for row in self.session.sql(sql).collect()])

    def stop(self) -> None:
        self.session.stop()


class ClickHouse:
    """An embedded ClickHouse (chDB) session."""

    def __init__(self) -> None:
        pytest.importorskip("chdb", reason="pip install chdb (in the dev extra) to run the ClickHouse tests")
        from chdb import session

        self.session = session.Session()

    def use_files(self, pattern: str) -> None:
        self.session.query("DROP VIEW IF EXISTS cloudtrail_files")
        # A test path, not user input: chDB's file() takes no bound parameters.
        self.session.query(f"CREATE VIEW cloudtrail_files AS SELECT json FROM file('{pattern}', 'JSONAsString')")

    def alerts(self, sql: str) -> list[dict[str, Any]]:
        text = self.session.query(sql, "JSONEachRow").data()
        return normalized([json.loads(line) for line in text.splitlines() if line.strip()])

    def stop(self) -> None:
        self.session.close()


def duckdb_alerts(script: str, files: list[str]) -> list[dict[str, Any]]:
    import duckdb

    con = duckdb.connect()
    con.execute("SET VARIABLE ducktrail_files = ?", [files])
    cursor = con.execute(script)
    columns = [d[0] for d in cursor.description]
    return normalized([dict(zip(columns, row, strict=True)) for row in cursor.fetchall()])


def case_file(case: Path) -> Path:
    (path,) = [p for p in case.iterdir() if p.name.startswith("events.")]
    return path
