"""Semantic rewrites applied to a rule's syntax tree before sqlglot writes it for an engine.

sqlglot translates syntax; these keep meaning where engines differ in it. One rewrite per
module, each a function from a sqlglot expression to a sqlglot expression.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from ducktrail.transpile.rewrites.binary_collation import binary_collation
from ducktrail.transpile.rewrites.clickhouse_function_names import clickhouse_function_names
from ducktrail.transpile.rewrites.full_regex_match import full_regex_match
from ducktrail.transpile.rewrites.partial_regex_match import partial_regex_match
from ducktrail.transpile.rewrites.refuse_untranslatable import refuse_untranslatable
from ducktrail.transpile.rewrites.regex_no_match import regex_no_match
from ducktrail.transpile.rewrites.sorted_distinct_lists import sorted_distinct_lists

Rewrite = Callable[[exp.Expression, str], exp.Expression]

# The refusal comes first: later rewrites may write functions sqlglot does not model.
REWRITES: tuple[Rewrite, ...] = (
    refuse_untranslatable,
    sorted_distinct_lists,
    binary_collation,
    full_regex_match,
    partial_regex_match,
    regex_no_match,
    clickhouse_function_names,
)


def rewrite(tree: exp.Expression, dialect: str) -> exp.Expression:
    for step in REWRITES:
        tree = step(tree, dialect)
    return tree
