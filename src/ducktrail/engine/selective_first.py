"""A row filter whose tests of the event's source and name run before its other tests.

DuckDB orders the tests of a WHERE by their cost, not by how many rows they keep: a rule's
`error_code IS NULL` (true of almost every event) runs before its `event_source = '...'` (true
of a few in a hundred), and every test of the view's columns goes through the adapter's
placeholder CASE. A split read (engine/split_read.py) tests every event, so there this costs:
55 of the 80 ms its filter took over 250,000 events. Tests of the source and name against
constants, which is how rules pick the API calls they are about, are made the condition of a
CASE whose result is the other tests: DuckDB evaluates a CASE's result only for the rows its
condition keeps. The rows kept are the same: `CASE WHEN a THEN b ELSE false END` is true
exactly where `a AND b` is.

Trees are DuckDB's serialized parse trees (json_serialize_sql).
"""

from __future__ import annotations

import copy
from typing import Any

# The columns rules name their API calls by.
CALL_COLUMNS = frozenset({"event_source", "event_name"})
# Serialized by the running DuckDB, so that the CASE built has its format.
CASE_TEMPLATE = "CASE WHEN true THEN true ELSE false END"
# DuckDB's names for LIKE and the prefix tests, as they appear in a serialized tree.
MATCHING_FUNCTIONS = frozenset({"~~", "starts_with", "prefix", "like_escape"})


def selective_first(predicate: dict[str, Any], case_template: dict[str, Any]) -> dict[str, Any]:
    """The predicate with its tests of event_source and event_name against constants first.

    `case_template` is the serialized `CASE WHEN true THEN true ELSE false END` of the running
    DuckDB. An OR of rules' filters has each of them ordered.

    >>> def column(name): return {"class": "COLUMN_REF", "column_names": [name]}
    >>> def constant(text): return {"class": "CONSTANT", "literal": {"kind": "STRING", "text": text}}
    >>> source = {"class": "COMPARISON", "type": "COMPARE_EQUAL", "left": column("event_source"),
    ...           "right": constant("lambda.amazonaws.com")}
    >>> no_error = {"class": "OPERATOR", "type": "OPERATOR_IS_NULL", "children": [column("error_code")]}
    >>> template = {"class": "CASE", "case_checks": [{"when_expr": None, "then_expr": None}], "else_expr": "false"}
    >>> ordered = selective_first({"class": "CONJUNCTION", "type": "CONJUNCTION_AND",
    ...                            "children": [no_error, source]}, template)
    >>> ordered["case_checks"] == [{"when_expr": source, "then_expr": no_error}], ordered["else_expr"]
    (True, 'false')
    """
    if predicate.get("class") != "CONJUNCTION":
        return predicate
    if predicate.get("type") == "CONJUNCTION_OR":
        ordered = dict(predicate)
        ordered["children"] = [selective_first(child, case_template) for child in predicate["children"]]
        return ordered
    first = [child for child in predicate["children"] if _tests_the_call(child)]
    rest = [child for child in predicate["children"] if not _tests_the_call(child)]
    if not first or not rest:
        return predicate
    case = copy.deepcopy(case_template)
    case["case_checks"] = [{"when_expr": _all(first, predicate), "then_expr": _all(rest, predicate)}]
    return case


def _all(tests: list[dict[str, Any]], conjunction: dict[str, Any]) -> dict[str, Any]:
    if len(tests) == 1:
        return tests[0]
    return {**conjunction, "children": tests}


def _tests_the_call(test: dict[str, Any]) -> bool:
    """Whether the test compares event_source or event_name with constants only."""
    kind = test.get("class")
    if kind == "COMPARISON" and test.get("type") == "COMPARE_EQUAL":
        operands = [test.get("left"), test.get("right")]
    elif kind == "OPERATOR" and test.get("type") == "COMPARE_IN":
        operands = list(test.get("children", []))
    elif kind == "FUNCTION" and str(test.get("function_name", "")).lower() in MATCHING_FUNCTIONS:
        # DuckDB 2 wraps each argument ({"name", "expression"}); earlier versions list them bare.
        arguments = test.get("arguments", test.get("children", []))
        operands = [argument.get("expression", argument) for argument in arguments if isinstance(argument, dict)]
    else:
        return False
    columns = [operand for operand in operands if isinstance(operand, dict) and operand.get("class") == "COLUMN_REF"]
    constants = [operand for operand in operands if isinstance(operand, dict) and operand.get("class") == "CONSTANT"]
    return (
        len(columns) == 1
        and len(columns) + len(constants) == len(operands)
        and str(columns[0].get("column_names", [""])[-1]).lower() in CALL_COLUMNS
    )
