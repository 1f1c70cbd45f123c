"""The rule pack itself: metadata validated, SQL shaped as a rule, released versions frozen."""

from __future__ import annotations

import re
import shutil

import pytest

from ducktrail.errors import RulePackError, RulePackErrors
from ducktrail.pack.loader import load_pack
from ducktrail.pack.lock import changed_releases, drafts, locked_with_drafts, read_lock
from ducktrail.pack.rules import load_rule
from ducktrail.pack.sql_shape import pack_shape_problems, shape_problems
from ducktrail.sqlfiles import rules_dir
from tests.support import RULE_ID, newest_sql, newest_version

# The version the bundled rule is at, and the next one, which tests write as a draft.
NEWEST = newest_version()
DRAFT = NEWEST + 1

PACK = load_pack()


def test_every_rule_version_is_released_and_unchanged():
    # Editing a released vN.sql fails here: put the change in a new version and `just lock` it.
    assert changed_releases(PACK.rules, PACK.lock) == []
    assert drafts(PACK.rules, PACK.lock) == [], "run `just lock` to release new versions"


def test_every_rule_version_is_one_select_over_cloudtrail_events():
    assert pack_shape_problems(PACK.rules, lambda rule, version: False) == []


def test_a_rule_reading_files_directly_is_refused():
    assert shape_problems("SELECT * FROM read_json('x.json.gz')")
    assert shape_problems("SELECT * FROM cloudtrail_events JOIN other_table USING (event_id) ORDER BY ALL") == [
        "reads other_table instead of cloudtrail_events"
    ]


@pytest.mark.parametrize(
    "sql",
    [
        # Inside its own body a CTE's name is not the CTE: DuckDB reads the file of that name.
        'WITH "s.csv" AS (SELECT * FROM "s.csv") SELECT * FROM (FROM cloudtrail_events LIMIT 1), "s.csv" ORDER BY ALL',
        # Nor beside the subquery that defines it.
        'SELECT * FROM (WITH "s.csv" AS (SELECT 1) SELECT 1) AS x, "s.csv", cloudtrail_events ORDER BY ALL',
    ],
    ids=["in_its_own_body", "beside_its_subquery"],
)
def test_a_table_named_like_a_cte_out_of_its_scope_is_refused(sql):
    assert shape_problems(sql) == ['reads "s.csv" instead of cloudtrail_events']


def test_a_qualified_name_is_a_table_even_where_a_cte_has_its_name():
    sql = "WITH x AS (FROM cloudtrail_events) SELECT * FROM main.x ORDER BY ALL"
    assert shape_problems(sql) == ["reads main.x instead of cloudtrail_events"]


def test_ctes_named_in_their_scope_are_accepted():
    sql = "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3), e AS (FROM cloudtrail_events)"
    assert shape_problems(sql + " SELECT * FROM r, e JOIN e AS f USING (event_id) ORDER BY ALL") == []


@pytest.mark.parametrize(
    ("sql", "ordered"),
    [
        ("SELECT event_name FROM cloudtrail_events ORDER BY event_name", True),
        (
            "(SELECT event_name FROM cloudtrail_events UNION SELECT event_source FROM cloudtrail_events ORDER BY 1)",
            True,
        ),
        ("SELECT event_name FROM cloudtrail_events", False),
        # An ORDER BY after the parentheses orders the whole query; parentheses may nest.
        ("(SELECT event_name FROM cloudtrail_events) ORDER BY event_name", True),
        ("((SELECT event_name FROM cloudtrail_events ORDER BY event_name))", True),
        # Only the outermost order is the order of the alerts.
        ("SELECT * FROM (SELECT event_name FROM cloudtrail_events ORDER BY event_name)", False),
        ("WITH x AS (FROM cloudtrail_events ORDER BY event_time) SELECT event_name FROM x", False),
        ("SELECT event_name FROM cloudtrail_events UNION SELECT event_source FROM cloudtrail_events", False),
        ("SELECT event_name FROM cloudtrail_events LIMIT 10", False),
        ("SELECT event_name FROM cloudtrail_events ORDER BY event_name LIMIT 10", True),
        # A constant orders nothing; a column number is a column.
        ("SELECT event_name FROM cloudtrail_events ORDER BY NULL", False),
        ("SELECT event_name FROM cloudtrail_events ORDER BY 'event_name'", False),
        ("SELECT event_name FROM cloudtrail_events ORDER BY 1", True),
    ],
)
def test_a_rule_must_order_its_alerts(sql, ordered):
    unordered = "lists its alerts in no set order: end it with an ORDER BY of the columns that tell alerts apart"
    assert (unordered not in shape_problems(sql)) is ordered


def test_port_keeps_the_upstream_identity_and_scoring():
    rule = PACK.find(RULE_ID)
    assert rule.upstream is not None
    assert (rule.upstream.source, rule.upstream.rule_id, rule.upstream.version) == (
        "elastic/detection-rules",
        "49002bbe-7aea-4146-91eb-b2b683bf5ed5",
        1,
    )
    assert (rule.severity, rule.risk_score) == ("medium", 47)
    assert (rule.tactic.id, [t.id for t in rule.techniques]) == ("TA0002", ["T1648"])
    assert PACK.find(rule.upstream.rule_id) is rule


UPSTREAM_ID = "49002bbe-7aea-4146-91eb-b2b683bf5ed5"


def test_metadata_is_frozen():
    rule = PACK.find(RULE_ID)
    with pytest.raises(AttributeError):
        rule.severity = "low"  # type: ignore[misc]


@pytest.fixture
def rule_copy(tmp_path):
    target = tmp_path / RULE_ID
    shutil.copytree(rules_dir() / RULE_ID, target)
    return target


def rewrite(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_loader_collects_every_metadata_problem_with_its_line(rule_copy):
    metadata = rule_copy / "rule.toml"
    rewrite(metadata, "risk_score = 47", "risk_score = 470")
    rewrite(metadata, 'id = "T1648"', 'id = "1648"')
    rewrite(metadata, 'severity = "medium"\n', "")
    with pytest.raises(RulePackErrors) as caught:
        load_rule(rule_copy)
    messages = [str(p) for p in caught.value.problems]
    lines = metadata.read_text().splitlines()
    risk_line = lines.index("risk_score = 470") + 1
    assert f"{metadata}:{risk_line}: risk_score: expected a whole number from 0 to 100, got 470" in messages
    assert any("techniques[0].id: expected an id like" in m for m in messages), messages
    assert any(m.endswith("severity: missing") for m in messages), messages


def test_loader_fails_fast_by_default_and_collects_across_rules_on_request(tmp_path):
    for name in ("rule-a", "rule-b"):
        shutil.copytree(rules_dir() / RULE_ID, tmp_path / name)
    with pytest.raises(RulePackErrors) as fast:
        load_pack(tmp_path)
    assert len(fast.value.problems) == 1  # only the first folder's id mismatch
    with pytest.raises(RulePackErrors) as collected:
        load_pack(tmp_path, collect=True)
    assert [p.path for p in collected.value.problems] == [str(tmp_path / n / "rule.toml") for n in ("rule-a", "rule-b")]


@pytest.mark.parametrize(
    ("upstream", "named_in", "message"),
    [
        (RULE_ID, "a-rule", f"upstream.rule_id {RULE_ID} is {RULE_ID}'s id: a name selects one rule"),
        # Folders load in sorted order: a-rule claims the upstream id first.
        (UPSTREAM_ID, RULE_ID, f"upstream.rule_id {UPSTREAM_ID} is also a-rule's: a name selects one rule"),
    ],
    ids=["another_rules_id", "another_rules_upstream_id"],
)
def test_a_name_that_would_select_two_rules_is_refused(tmp_path, upstream, named_in, message):
    shutil.copytree(rules_dir() / RULE_ID, tmp_path / RULE_ID)
    impostor = tmp_path / "a-rule"
    shutil.copytree(rules_dir() / RULE_ID, impostor)
    rewrite(impostor / "rule.toml", f'id = "{RULE_ID}"', 'id = "a-rule"')
    rewrite(impostor / "rule.toml", f'rule_id = "{UPSTREAM_ID}"', f'rule_id = "{upstream}"')
    with pytest.raises(RulePackErrors) as caught:
        load_pack(tmp_path)
    assert [str(problem) for problem in caught.value.problems] == [f"{tmp_path / named_in / 'rule.toml'}: {message}"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('id = "T1648"', 'id = "T1648\\n"', "techniques[0].id: holds a control character (U+000A)"),
        (
            'name = "AWS Lambda Function Invoked Cross-Account"',
            'name = "Lambda\\u001b[2J"',
            "name: holds a control character (U+001B)",
        ),
        (
            'name = "AWS Lambda Function Invoked Cross-Account"',
            'name = "two\\nlines"',
            "name: holds a control character (U+000A)",
        ),
    ],
    ids=["id_with_a_trailing_newline", "escape_sequence_in_a_name", "line_break_in_a_name"],
)
def test_texts_that_would_break_a_listing_or_a_terminal_are_refused(rule_copy, old, new, message):
    rewrite(rule_copy / "rule.toml", old, new)
    with pytest.raises(RulePackErrors, match=re.escape(message)):
        load_rule(rule_copy)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("risk_score = 47", "risk_score = true", "risk_score: expected int, got bool"),
        (f"version = {NEWEST}\n", "version = true\n", "version: expected"),
        (
            'name = "AWS Lambda Function Invoked Cross-Account"',
            'name = "Lambda\u009b2J"',
            "name: holds a control character (U+009B)",
        ),
        (f'id = "{RULE_ID}"', 'id = "a--b"', "id: expected"),
        (f'id = "{RULE_ID}"', 'id = "-a"', "id: expected"),
    ],
    ids=["bool_as_risk_score", "bool_as_version", "c1_control_character", "double_hyphen_id", "leading_hyphen_id"],
)
def test_values_of_the_wrong_kind_are_metadata_problems(rule_copy, old, new, message):
    rewrite(rule_copy / "rule.toml", old, new)
    with pytest.raises(RulePackErrors, match=re.escape(message)):
        load_rule(rule_copy)


def test_a_released_version_whose_sql_file_is_gone_is_reported(rule_copy):
    (rule_copy / f"v{NEWEST}.sql").unlink()
    rewrite(rule_copy / "rule.toml", f"version = {NEWEST}\n", f"version = {NEWEST - 1}\n")
    rule = load_rule(rule_copy)
    problems = changed_releases([rule], {RULE_ID: {str(n): "sha256:x" for n in range(1, NEWEST + 1)}})
    assert f"released version {NEWEST} of {RULE_ID} is missing" in [problem.message for problem in problems]


@pytest.mark.parametrize(
    "text",
    ['{"rule": "sha256:x"}', '["a"]', '{"rule": {"1": 5}}'],
    ids=["hash_for_versions", "a_list", "a_number_for_a_hash"],
)
def test_a_lock_file_of_another_shape_is_a_pack_error(tmp_path, text):
    path = tmp_path / "rules.lock.json"
    path.write_text(text)
    with pytest.raises(RulePackError, match="lock file must map rule id"):
        read_lock(path)


def test_version_must_name_the_newest_sql_file(rule_copy):
    (rule_copy / f"v{DRAFT + 1}.sql").write_text("SELECT * FROM cloudtrail_events")
    with pytest.raises(RulePackErrors) as caught:
        load_rule(rule_copy)
    text = str(caught.value)
    found = [*range(1, NEWEST + 1), DRAFT + 1]
    assert f"versions must run 1..N without gaps, found {found}" in text
    assert f"version is {NEWEST} but the newest SQL file is v{DRAFT + 1}.sql" in text


def test_a_stray_huge_version_number_is_a_gap_not_an_allocation(rule_copy):
    huge = 10**20  # the check once built a list up to the highest number
    (rule_copy / f"v{huge}.sql").write_text("SELECT * FROM cloudtrail_events ORDER BY ALL")
    with pytest.raises(RulePackErrors, match="versions must run 1..N without gaps"):
        load_rule(rule_copy)


def test_unknown_keys_and_bad_toml_are_reported(rule_copy):
    metadata = rule_copy / "rule.toml"
    rewrite(metadata, "risk_score = 47", "risk_score = 47\nrisk_scroe = 5\npath = 'elsewhere'\nversions = [1]")
    with pytest.raises(RulePackErrors) as caught:
        load_rule(rule_copy)
    for key in ("risk_scroe", "path", "versions"):
        assert f"unknown key '{key}'" in str(caught.value), caught.value
    metadata.write_text("id = ")
    with pytest.raises(RulePackErrors, match=r"rule.toml:1: invalid TOML"):
        load_rule(rule_copy)


def test_locking_adds_drafts_and_refuses_to_relock_a_changed_release(rule_copy):
    lock = read_lock(rules_dir() / "rules.lock.json")
    (rule_copy / f"v{DRAFT}.sql").write_text(newest_sql() + "-- tuned\n")
    rewrite(rule_copy / "rule.toml", f"version = {NEWEST}\n", f"version = {DRAFT}\n")
    rule = load_rule(rule_copy)
    assert drafts([rule], lock) == [(rule, DRAFT)]
    updated = locked_with_drafts([rule], lock)
    assert set(updated[RULE_ID]) == {str(n) for n in range(1, DRAFT + 1)}
    assert all(updated[RULE_ID][str(n)] == lock[RULE_ID][str(n)] for n in range(1, DRAFT))
    rewrite(rule_copy / "v1.sql", "count(*)", "count(DISTINCT event_id)")
    changed = load_rule(rule_copy)
    with pytest.raises(RulePackError, match="released SQL changed"):
        locked_with_drafts([changed], lock)


def test_problems_inside_tables_carry_the_line_in_that_table(rule_copy):
    metadata = rule_copy / "rule.toml"
    rewrite(metadata, 'id = "TA0002"', 'id = "TA2"')
    rewrite(metadata, "version = 1\nname = ", 'version = "1"\nname = ')  # upstream's version
    rewrite(metadata, 'reference = "https://attack.mitre.org/techniques/T1648/"', 'reference = "http://x"')
    lines = metadata.read_text().splitlines()
    with pytest.raises(RulePackErrors) as caught:
        load_rule(rule_copy)
    messages = [str(p) for p in caught.value.problems]
    for key, text in [
        ("tactic.id", 'id = "TA2"'),
        ("upstream.version", 'version = "1"'),
        ("techniques[0].reference", 'reference = "http://x"'),
    ]:
        line = lines.index(text) + 1
        assert any(m.startswith(f"{metadata}:{line}: {key}: ") for m in messages), (key, line, messages)


def test_techniques_given_as_strings_are_a_metadata_problem_not_a_crash(rule_copy):
    metadata = rule_copy / "rule.toml"
    text = metadata.read_text()
    start = text.index("[[techniques]]")
    end = text.index("[upstream]")
    metadata.write_text(text[:start] + text[end:])
    rewrite(metadata, "tags = [", 'techniques = ["T1648"]\ntags = [')
    with pytest.raises(RulePackErrors, match=r"techniques: entry 1 must be a table \(\[\[techniques\]\]\), got str"):
        load_rule(rule_copy)


@pytest.mark.parametrize(
    ("table", "line"),
    [
        ("[tactic]\n", "[tactic]\nurl = 1\n"),
        ("[[techniques]]\n", "[[techniques]]\nextra = 1\n"),
        ("[upstream]\n", "[upstream]\nnme = 1\n"),
    ],
)
def test_unknown_keys_inside_tables_are_reported(rule_copy, table, line):
    rewrite(rule_copy / "rule.toml", table, line)
    unknown = line.splitlines()[1].split(" ")[0]
    with pytest.raises(RulePackErrors, match=rf"\.{unknown}: unknown key '{unknown}'"):
        load_rule(rule_copy)


def test_rule_files_that_are_not_utf8_text_or_not_files_are_named(rule_copy):
    (rule_copy / "rule.toml").write_bytes((rule_copy / "rule.toml").read_bytes() + b"\xff")
    with pytest.raises(RulePackErrors, match=r"rule.toml: not UTF-8 text \(byte 0xff"):
        load_rule(rule_copy)
    shutil.copy(rules_dir() / RULE_ID / "rule.toml", rule_copy / "rule.toml")
    rewrite(rule_copy / "rule.toml", f"version = {NEWEST}\n", f"version = {DRAFT}\n")
    draft = rule_copy / f"v{DRAFT}.sql"
    draft.write_bytes(b"SELECT '\xff' FROM cloudtrail_events")
    with pytest.raises(RulePackErrors, match=rf"v{DRAFT}.sql: not UTF-8 text"):
        load_rule(rule_copy)
    draft.unlink()
    draft.mkdir()
    with pytest.raises(RulePackErrors, match=rf"v{DRAFT}.sql: cannot read rule SQL"):
        load_rule(rule_copy)
