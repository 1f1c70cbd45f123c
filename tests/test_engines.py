"""Execution proof: the transpiled rule, run by Spark, ClickHouse and DuckDB itself over the
same fixtures, raises exactly the alerts ducktrail's DuckDB scan raises."""

from __future__ import annotations

import json
import re

import pytest

from ducktrail.engine.duckdb_module import duckdb
from ducktrail.sqlfiles import sql_root
from ducktrail.transpile.assemble import translate_rule
from ducktrail.transpile.targets import target
from ducktrail.transpile.transpile import transpile
from tests.engines import ClickHouse, Spark, case_file, documented_ddl, duckdb_alerts
from tests.support import FIXTURES, RULE_ID, invoke, pack

CASES = sorted(p for p in (FIXTURES / "cases").iterdir() if p.is_dir())
RULE = pack().find(RULE_ID)
SAMPLE_EXPECTED = json.loads((FIXTURES / "AWSLogs.expected.json").read_text())["alerts"]
SAMPLE_CLOUDTRAIL_FILES = sorted(str(p) for p in (FIXTURES / "AWSLogs").rglob("*.json*") if "CloudTrail" in p.parts)


def expected(case):
    return json.loads((case / "expected.json").read_text())["alerts"]


@pytest.fixture(scope="module")
def spark():
    engine = Spark()
    yield engine
    engine.stop()


@pytest.fixture(scope="module")
def clickhouse():
    engine = ClickHouse()
    yield engine
    engine.stop()


def sample_tree_path(documented: str) -> str:
    """A path an adapter's header documents, with the sample tree in place of the bucket, and
    taking its plain .json file too (S3 delivers .json.gz only)."""
    return str(FIXTURES / "AWSLogs") + documented.split("AWSLogs", 1)[1].replace(".json.gz", ".json*")


SPARK_PATH = sample_tree_path(re.search(r"path '([^']*)'", documented_ddl("spark", "cloudtrail_files"))[1])
CLICKHOUSE_PATH = sample_tree_path(re.search(r"s3\('([^']*)'", documented_ddl("clickhouse", "cloudtrail_files"))[1])


def test_the_duckdb_adapters_documented_path_takes_every_sample_file_organization_trails_too():
    header = (sql_root() / "sources" / "duckdb" / "cloudtrail.sql").read_text()
    path = sample_tree_path(re.search(r"SET VARIABLE ducktrail_files = '([^']*)'", header)[1])
    with duckdb.connect() as con:
        (found,) = con.execute("SELECT list(file ORDER BY file) FROM glob(?)", [path]).fetchone()
    assert found == SAMPLE_CLOUDTRAIL_FILES
    assert any("/o-exampleorg1/" in file for file in found)


@pytest.mark.parametrize("dialect", ["spark", "databricks"])
def test_spark_raises_the_sample_tree_alerts(spark, dialect):
    spark.use_files(SPARK_PATH)
    assert spark.alerts(transpile(RULE, dialect)) == SAMPLE_EXPECTED


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_spark_raises_each_case_alerts(spark, case):
    path = case_file(case)
    if path.suffix == ".ndjson":
        pytest.skip('the Spark adapter reads {"Records": [...]} files, not NDJSON')
    spark.use_files(str(path))
    assert spark.alerts(transpile(RULE, "spark")) == expected(case)


def test_clickhouse_raises_the_sample_tree_alerts(clickhouse):
    clickhouse.use_files(CLICKHOUSE_PATH)
    assert clickhouse.alerts(transpile(RULE, "clickhouse")) == SAMPLE_EXPECTED


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_clickhouse_raises_each_case_alerts(clickhouse, case):
    clickhouse.use_files(str(case_file(case)))
    assert clickhouse.alerts(transpile(RULE, "clickhouse")) == expected(case)


def test_duckdb_runs_its_own_transpiled_output_round_trip():
    assert duckdb_alerts(transpile(RULE, "duckdb"), SAMPLE_CLOUDTRAIL_FILES) == SAMPLE_EXPECTED


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_duckdb_round_trip_raises_each_case_alerts(case):
    assert duckdb_alerts(transpile(RULE, "duckdb"), [str(case_file(case))]) == expected(case)


def test_clickhouse_fails_on_a_file_it_cannot_parse_rather_than_lose_its_events(clickhouse, tmp_path):
    # 1e309 is valid JSON that ClickHouse's parser refuses; its JSON functions would then read
    # every field of the file as empty, and the alert would be lost without a word.
    text = json.dumps({"Records": [invoke(), {"eventVersion": "1.09", "additionalEventData": {"n": "BIG"}}]})
    path = tmp_path / "t.json"
    path.write_text(text.replace('"BIG"', "1e309"))
    clickhouse.use_files(str(path))
    with pytest.raises(RuntimeError, match="not JSON ClickHouse can parse"):
        clickhouse.alerts(transpile(RULE, "clickhouse"))


LISTS = "SELECT list_sort(list_distinct(flatten(list(arns)))) AS arns FROM t"
LIST_ROWS = [["b", None, "a"], None, ["a", None], []]


def test_duckdb_drops_null_elements_of_list_columns_as_the_other_engines_are_written_to():
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT unnest(?::VARCHAR[][]) AS arns", [LIST_ROWS])
    assert con.execute(LISTS).fetchall() == [(["a", "b"],)]


def test_spark_drops_null_elements_of_list_columns_as_duckdb_does(spark):
    spark.session.createDataFrame([(arns,) for arns in LIST_ROWS], "arns array<string>").createOrReplaceTempView("t")
    sql = translate_rule(LISTS, target("spark")).sql(dialect="spark")
    assert spark.alerts(sql) == [{"arns": ["a", "b"]}], sql


def test_clickhouse_drops_null_elements_of_list_columns_as_duckdb_does(clickhouse):
    rows = ", ".join(
        "([" + ", ".join("NULL" if a is None else f"'{a}'" for a in arns or []) + "])" for arns in LIST_ROWS
    )
    clickhouse.session.query("DROP TABLE IF EXISTS t")
    clickhouse.session.query(
        f"CREATE TABLE t (arns Array(Nullable(String))) ENGINE = Memory AS SELECT * FROM VALUES({rows})"
    )
    sql = translate_rule(LISTS, target("clickhouse")).sql(dialect="clickhouse")
    assert clickhouse.alerts(sql) == [{"arns": ["a", "b"]}], sql
