"""Transpiling: golden SQL per dialect, each re-parsed in its own dialect, and the semantic traps
between engines, each pinned as input SQL paired with the expected SQL per dialect."""

from __future__ import annotations

import logging
import os
import re

import pytest
import sqlglot

from ducktrail.errors import RulePackError, UsageError
from ducktrail.transpile.assemble import ready_to_run, translate_rule
from ducktrail.transpile.targets import TARGETS, target
from ducktrail.transpile.transpile import transpile
from tests.support import REPO, RULE_ID, pack

GOLDEN = REPO / "tests" / "golden"
UPDATE = os.environ.get("DUCKTRAIL_UPDATE_GOLDEN") == "1"
# The header names the sqlglot release that wrote the file; a new release that writes the same
# SQL must not fail the comparison, one that writes other SQL must.
SQLGLOT_RELEASE = re.compile(r"(written by sqlglot )[^ ]+( from )")


def without_release(sql):
    r"""The golden text with the sqlglot release in its header masked.

    >>> without_release("-- for trino; written by sqlglot 30.31.0 from v1.sql.\nSELECT 1")
    '-- for trino; written by sqlglot * from v1.sql.\nSELECT 1'
    """
    return SQLGLOT_RELEASE.sub(r"\1*\2", sql, count=1)


def rule_sql(sql, dialect):
    """One statement of rule SQL (DuckDB) as ducktrail writes it for `dialect`."""
    return translate_rule(sql, target(dialect)).sql(dialect=target(dialect).dialect)


@pytest.mark.parametrize("dialect", sorted(TARGETS))
def test_transpiled_rule_matches_its_golden_file(dialect):
    rule = pack().find(RULE_ID)
    golden = GOLDEN / RULE_ID / f"{dialect}.sql"
    produced = transpile(rule, dialect)
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(produced)
    assert golden.exists(), f"no golden file {golden}: run `just golden`"
    expected = golden.read_text()
    assert without_release(produced) == without_release(expected), (
        f"{golden} differs: check the change, then `just golden`"
    )


@pytest.mark.parametrize("dialect", sorted(TARGETS))
def test_golden_file_parses_in_its_own_dialect(dialect, caplog):
    text = (GOLDEN / RULE_ID / f"{dialect}.sql").read_text()
    with caplog.at_level(logging.ERROR, logger="sqlglot"):  # DuckDB's CREATE TYPE parses as a command
        statements = [s for s in sqlglot.parse(text, read=TARGETS[dialect].dialect) if s is not None]
    queries = [s for s in statements if isinstance(s, sqlglot.exp.Query)]
    assert len(queries) == 1, f"{dialect}: expected one query, got {len(queries)}"
    assert "cloudtrail_events" in {t.name for t in queries[0].find_all(sqlglot.exp.Table)}


# Trap: regexp_extract gives '' on no match in DuckDB, Spark and ClickHouse, NULL in Snowflake,
# BigQuery and Trino. The rule wraps it in NULLIF(..., ''), which must survive everywhere.
@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("duckdb", "SELECT NULLIF(REGEXP_EXTRACT(arn, ':([0-9]{12}):', 1), '') FROM t"),
        ("spark", "SELECT NULLIF(REGEXP_EXTRACT(arn, ':([0-9]{12}):'), '') FROM t"),
        ("clickhouse", "SELECT nullIf(REGEXP_EXTRACT(arn, ':([0-9]{12}):', 1), '') FROM t"),
        ("snowflake", "SELECT NULLIF(REGEXP_SUBSTR(arn, ':([0-9]{12}):', 1, 1, 'c', 1), '') FROM t"),
        ("bigquery", "SELECT NULLIF(REGEXP_EXTRACT(arn, ':([0-9]{12}):'), '') FROM t"),
        ("trino", "SELECT NULLIF(REGEXP_EXTRACT(arn, ':([0-9]{12}):', 1), '') FROM t"),
    ],
)
def test_no_match_is_null_everywhere(dialect, expected):
    assert rule_sql("SELECT NULLIF(regexp_extract(arn, ':([0-9]{12}):', 1), '') FROM t", dialect) == expected


# The same trap without the rule's NULLIF: the engines that give NULL give '' again.
@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("duckdb", "SELECT REGEXP_EXTRACT(arn, ':(role)/', 1) = '' FROM t"),
        ("spark", "SELECT REGEXP_EXTRACT(arn, ':(role)/') = '' FROM t"),
        (
            "snowflake",
            "SELECT COLLATE(CASE WHEN arn IS NULL THEN NULL ELSE COALESCE(REGEXP_SUBSTR(arn, ':(role)/', 1, 1, 'c',"
            " 1), '') END, '') = '' FROM t",
        ),
        (
            "bigquery",
            "SELECT CASE WHEN arn IS NULL THEN NULL ELSE COALESCE(REGEXP_EXTRACT(arn, ':(role)/'), '') END = '' FROM t",
        ),
        (
            "trino",
            "SELECT CASE WHEN arn IS NULL THEN NULL ELSE COALESCE(REGEXP_EXTRACT(arn, ':(role)/', 1), '')"
            " END = '' FROM t",
        ),
        (
            "athena",
            "SELECT CASE WHEN arn IS NULL THEN NULL ELSE COALESCE(REGEXP_EXTRACT(arn, ':(role)/', 1), '')"
            " END = '' FROM t",
        ),
    ],
)
def test_no_match_is_an_empty_string_everywhere_without_nullif(dialect, expected):
    assert rule_sql("SELECT regexp_extract(arn, ':(role)/', 1) = '' FROM t", dialect) == expected


# Trap: list aggregation. NULLs kept by Trino's ARRAY_AGG, NULL for no rows, BigQuery's ban on
# sorting an aggregate, ClickHouse's missing ARRAY_SORT.
@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("duckdb", "SELECT LIST_SORT(LIST_DISTINCT(ARRAY_AGG(ip))) FROM t"),
        ("spark", "SELECT ARRAY_SORT(ARRAY_DISTINCT(COLLECT_LIST(ip))) FROM t"),
        ("databricks", "SELECT ARRAY_SORT(ARRAY_DISTINCT(COLLECT_LIST(ip))) FROM t"),
        ("clickhouse", "SELECT arraySort(arrayDistinct(ARRAY_AGG(ip))) FROM t"),
        ("snowflake", "SELECT ARRAY_SORT(ARRAY_DISTINCT(ARRAY_COMPACT(ARRAY_AGG(ip)))) FROM t"),
        ("bigquery", "SELECT ARRAY_AGG(DISTINCT ip IGNORE NULLS ORDER BY ip) FROM t"),
        (
            "trino",
            "SELECT COALESCE(ARRAY_SORT(ARRAY_DISTINCT(ARRAY_AGG(ip) FILTER(WHERE NOT ip IS NULL))), ARRAY[]) FROM t",
        ),
        (
            "athena",
            "SELECT COALESCE(ARRAY_SORT(ARRAY_DISTINCT(ARRAY_AGG(ip) FILTER(WHERE NOT ip IS NULL))), ARRAY[]) FROM t",
        ),
    ],
)
def test_sorted_distinct_values_without_nulls(dialect, expected):
    assert rule_sql("SELECT list_sort(list_distinct(list(ip))) FROM t", dialect) == expected


# BigQuery also refuses an aggregate inside UNNEST: the lists are concatenated in the grouped
# query and each sorted in a query around it.
@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        (
            "spark",
            "SELECT ARRAY_SORT(ARRAY_DISTINCT(FILTER(FLATTEN(COLLECT_LIST(arns)), ducktrail_element -> NOT"
            " ducktrail_element IS NULL))) AS arns FROM t",
        ),
        (
            "databricks",
            "SELECT ARRAY_SORT(ARRAY_DISTINCT(FILTER(FLATTEN(COLLECT_LIST(arns)), ducktrail_element -> NOT"
            " ducktrail_element IS NULL))) AS arns FROM t",
        ),
        ("clickhouse", "SELECT arraySort(arrayDistinct(FLATTEN(ARRAY_AGG(arns)))) AS arns FROM t"),
        (
            "snowflake",
            "SELECT ARRAY_SORT(ARRAY_DISTINCT(ARRAY_COMPACT(ARRAY_FLATTEN(ARRAY_AGG(arns))))) AS arns FROM t",
        ),
        (
            "bigquery",
            "SELECT ARRAY(SELECT DISTINCT v FROM UNNEST(arns) AS v WHERE NOT v IS NULL ORDER BY v) AS arns"
            " FROM (SELECT ARRAY_CONCAT_AGG(arns) AS arns FROM t) AS ducktrail_grouped",
        ),
        (
            "trino",
            "SELECT COALESCE(ARRAY_SORT(ARRAY_DISTINCT(FILTER(FLATTEN(ARRAY_AGG(arns) FILTER(WHERE NOT arns IS NULL)),"
            " ducktrail_element -> NOT ducktrail_element IS NULL))), ARRAY[]) AS arns FROM t",
        ),
    ],
)
def test_sorted_distinct_values_of_list_columns(dialect, expected):
    assert rule_sql("SELECT list_sort(list_distinct(flatten(list(arns)))) AS arns FROM t", dialect) == expected


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT list_sort(list_distinct(flatten(list(arns)))) FROM t",
        "SELECT len(list_sort(list_distinct(flatten(list(arns))))) AS n FROM t",
        "SELECT k, list_sort(list_distinct(flatten(list(arns)))) AS arns FROM t GROUP BY k ORDER BY arns",
    ],
)
def test_bigquery_refuses_list_columns_it_cannot_sort_around(sql):
    with pytest.raises(sqlglot.errors.UnsupportedError, match="BigQuery"):
        rule_sql(sql, "bigquery")


# Trap: LIKE is case-sensitive in the upstream rule; Snowflake follows a column's collation,
# which may be case-insensitive, so the comparison is pinned to the binary collation there.
@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("snowflake", "SELECT * FROM t WHERE COLLATE(event_name, '') LIKE 'Invoke%'"),
        ("clickhouse", "SELECT * FROM t WHERE event_name LIKE 'Invoke%'"),
        ("spark", "SELECT * FROM t WHERE event_name LIKE 'Invoke%'"),
        ("bigquery", "SELECT * FROM t WHERE event_name LIKE 'Invoke%'"),
        ("trino", "SELECT * FROM t WHERE event_name LIKE 'Invoke%'"),
    ],
)
def test_like_stays_case_sensitive(dialect, expected):
    assert rule_sql("SELECT * FROM t WHERE event_name LIKE 'Invoke%'", dialect) == expected


# Trap: JSON field extraction has a different name, and path syntax, on every engine.
@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("duckdb", "SELECT rp ->> '$.functionName' FROM t"),
        ("spark", "SELECT GET_JSON_OBJECT(rp, '$.functionName') FROM t"),
        ("clickhouse", "SELECT JSONExtractString(rp, 'functionName') FROM t"),
        ("snowflake", "SELECT JSON_EXTRACT_PATH_TEXT(rp, 'functionName') FROM t"),
        ("bigquery", "SELECT JSON_EXTRACT_SCALAR(rp, '$.functionName') FROM t"),
        ("trino", "SELECT JSON_EXTRACT_SCALAR(rp, '$.functionName') FROM t"),
    ],
)
def test_json_field_extraction(dialect, expected):
    assert rule_sql("SELECT json_extract_string(rp, '$.functionName') FROM t", dialect) == expected


# Trap: empty strings versus NULL. Every adapter turns '', '-' and 'none' into NULL before a
# rule sees them; the execution tests prove it on DuckDB, Spark and ClickHouse, this checks
# each column of every adapter, the engines we cannot run here included.
STRING_COLUMNS = (
    "event_source",
    "event_name",
    "error_code",
    "error_message",
    "user_identity_arn",
    "user_identity_invoked_by",
    "source_ip_address",
    "event_id",
)


@pytest.mark.parametrize("engine", ["spark", "clickhouse", "snowflake", "bigquery", "trino"])
def test_every_adapter_drops_empty_and_placeholder_values(engine, caplog):
    from ducktrail.sqlfiles import sql_root

    dialect = {"trino": "trino"}.get(engine, engine)
    tree = sqlglot.parse_one((sql_root() / "sources" / engine / "cloudtrail.sql").read_text(), read=dialect)
    aliases = {}
    for alias in tree.find_all(sqlglot.exp.Alias):
        aliases.setdefault(alias.alias, alias.this)
    for column in STRING_COLUMNS:
        literals = {lit.this for lit in aliases[column].find_all(sqlglot.exp.Literal) if lit.is_string}
        assert {"", "-", "none"} <= literals, f"{engine}: {column} keeps empty or placeholder values"


# Trap: DuckDB's regexp_matches finds the pattern anywhere; Snowflake's REGEXP_LIKE must match
# the whole string, so sqlglot's plain translation would never match 'InvokeFunction'.
@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("duckdb", "SELECT * FROM t WHERE REGEXP_MATCHES(event_name, '^Invoke')"),
        ("snowflake", "SELECT * FROM t WHERE REGEXP_INSTR(event_name, '^Invoke') > 0"),
        ("bigquery", "SELECT * FROM t WHERE REGEXP_CONTAINS(event_name, '^Invoke')"),
        ("trino", "SELECT * FROM t WHERE REGEXP_LIKE(event_name, '^Invoke')"),
        ("spark", "SELECT * FROM t WHERE event_name RLIKE '^Invoke'"),
        ("clickhouse", "SELECT * FROM t WHERE match(event_name, '^Invoke')"),
    ],
)
def test_regex_match_finds_the_pattern_anywhere_everywhere(dialect, expected):
    assert rule_sql("SELECT * FROM t WHERE regexp_matches(event_name, '^Invoke')", dialect) == expected


# Trap: regexp_full_match has no translation in sqlglot, which would copy the name unchanged.
@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("duckdb", "SELECT * FROM t WHERE REGEXP_FULL_MATCH(event_name, 'Invoke.*') AND REGEXP_FULL_MATCH(a, b)"),
        (
            "snowflake",
            "SELECT * FROM t WHERE REGEXP_INSTR(event_name, '^(Invoke.*)$') > 0"
            " AND REGEXP_INSTR(a, ('^(' || b || ')$')) > 0",
        ),
        (
            "bigquery",
            "SELECT * FROM t WHERE REGEXP_CONTAINS(event_name, '^(Invoke.*)$')"
            " AND REGEXP_CONTAINS(a, ('^(' || b || ')$'))",
        ),
        (
            "trino",
            "SELECT * FROM t WHERE REGEXP_LIKE(event_name, '^(Invoke.*)$') AND REGEXP_LIKE(a, ('^(' || b || ')$'))",
        ),
        ("spark", "SELECT * FROM t WHERE event_name RLIKE '^(Invoke.*)$' AND a RLIKE ('^(' || b || ')$')"),
        ("clickhouse", "SELECT * FROM t WHERE match(event_name, '^(Invoke.*)$') AND match(a, ('^(' || b || ')$'))"),
    ],
)
def test_a_full_regex_match_is_an_anchored_match_everywhere(dialect, expected):
    sql = "SELECT * FROM t WHERE regexp_full_match(event_name, 'Invoke.*') AND regexp_full_match(a, b)"
    assert rule_sql(sql, dialect) == expected


# Trap: Snowflake compares by a column's collation, which may ignore case; every comparison of
# a string is pinned to the binary one, not only LIKE.
def test_snowflake_pins_every_string_comparison_to_the_binary_collation():
    sql = "SELECT * FROM t WHERE event_name <> 'Invoke' AND event_source IN ('a', 'b')"
    assert rule_sql(sql, "snowflake") == (
        "SELECT * FROM t WHERE COLLATE(event_name, '') <> 'Invoke' AND COLLATE(event_source, '') IN ('a', 'b')"
    )


# Only NULLIF(..., '') makes both engines' no-match NULL; NULLIF with another value does not.
def test_nullif_of_another_value_keeps_the_no_match_rewrite():
    assert rule_sql("SELECT NULLIF(regexp_extract(arn, ':(role)/', 1), 'x') FROM t", "trino") == (
        "SELECT NULLIF(CASE WHEN arn IS NULL THEN NULL ELSE COALESCE(REGEXP_EXTRACT(arn, ':(role)/', 1), '') END, 'x')"
        " FROM t"
    )


# BigQuery: the grouped query moves inside; the outer query keeps the order, limit and offset.
def test_bigquery_keeps_limit_and_offset_on_the_outer_query():
    sql = (
        "SELECT k, list_sort(list_distinct(flatten(list(arns)))) AS arns FROM t GROUP BY k ORDER BY k LIMIT 5 OFFSET 2"
    )
    assert rule_sql(sql, "bigquery") == (
        "SELECT k, ARRAY(SELECT DISTINCT v FROM UNNEST(arns) AS v WHERE NOT v IS NULL ORDER BY v) AS arns"
        " FROM (SELECT k, ARRAY_CONCAT_AGG(arns) AS arns FROM t GROUP BY k) AS ducktrail_grouped"
        " ORDER BY k NULLS LAST LIMIT 5 OFFSET 2"
    )


@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        ("SELECT list_reduce(xs, lambda a, b: a + b) FROM t", "does not know DuckDB's function list_reduce()"),
        ("SELECT * FROM t WHERE event_name GLOB 'Invoke*'", "copies GLOB unchanged"),
        ("SELECT * FROM t WHERE event_name SIMILAR TO 'Invoke%'", "copies SIMILAR TO unchanged"),
        ("SELECT * FROM t WHERE regexp_matches(event_name, '^invoke', 'i')", "with flags has no exact Snowflake form"),
    ],
)
def test_what_sqlglot_would_copy_unchanged_is_refused(sql, refusal):
    with pytest.raises(sqlglot.errors.UnsupportedError, match=re.escape(refusal)):
        rule_sql(sql, "snowflake")
    assert rule_sql(sql, "duckdb")


def test_untranslatable_sql_fails_with_sqlglots_unsupported_error():
    with pytest.raises(sqlglot.errors.UnsupportedError):
        ready_to_run("SELECT list_sort(xs) FROM cloudtrail_events", target("bigquery"))


def test_transpile_reports_untranslatable_rules_as_rule_pack_errors(tmp_path):
    import shutil

    from ducktrail.pack.rules import load_rule
    from ducktrail.sqlfiles import rules_dir

    folder = tmp_path / RULE_ID
    shutil.copytree(rules_dir() / RULE_ID, folder)
    newest = pack().find(RULE_ID).version
    (folder / f"v{newest + 1}.sql").write_text(
        "SELECT list_sort(resource_arns) AS arns FROM cloudtrail_events ORDER BY arns"
    )
    metadata = folder / "rule.toml"
    metadata.write_text(metadata.read_text().replace(f"version = {newest}\n", f"version = {newest + 1}\n", 1))
    with pytest.raises(RulePackError, match="sqlglot cannot write this rule for bigquery"):
        transpile(load_rule(folder), "bigquery")


def test_unknown_dialect_and_source_are_usage_errors():
    rule = pack().find(RULE_ID)
    with pytest.raises(UsageError, match="unknown dialect 'oracle'"):
        transpile(rule, "oracle")
    with pytest.raises(UsageError, match="no source 'ecs' for snowflake"):
        transpile(rule, "snowflake", source="ecs")


def test_banner_names_rule_version_and_hash():
    rule = pack().find(RULE_ID)
    first_line = transpile(rule, "trino").splitlines()[0]
    assert first_line.startswith(f"-- ducktrail rule {RULE_ID} version {rule.version} (sha256:")
    assert "for trino, source cloudtrail" in first_line


def test_only_the_sqlglot_release_in_the_header_is_ignored():
    header = "-- rule, for duckdb, source cloudtrail; written by sqlglot {} from v1.sql.\n"
    assert without_release(header.format("30.30.0") + "SELECT 1") == without_release(
        header.format("31.0.0") + "SELECT 1"
    )
    assert without_release(header.format("30.30.0") + "SELECT 1") != without_release(
        header.format("30.30.0") + "SELECT 2"
    )
