"""DuckDB's regexp_full_match matches the whole string; sqlglot has no other engine's form of it
and would copy the name unchanged, which no target has. It becomes DuckDB's regexp_matches (a
match anywhere, which partial_regex_match and sqlglot translate) of the pattern anchored at both
ends. A capturing group rather than `(?:...)`, which Snowflake's regular expressions lack: the
groups do not change whether the string matches.
"""

from __future__ import annotations

from sqlglot import exp


def full_regex_match(tree: exp.Expression, dialect: str) -> exp.Expression:
    """
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT * FROM t WHERE regexp_full_match(event_name, 'Invoke|Get')", read="duckdb")
    >>> full_regex_match(tree, "trino").sql("trino")
    "SELECT * FROM t WHERE REGEXP_LIKE(event_name, '^(Invoke|Get)$')"
    >>> full_regex_match(tree, "duckdb") is tree
    True
    """
    if dialect == "duckdb":
        return tree

    def replace(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.RegexpFullMatch):
            return node
        pattern = node.expression
        if isinstance(pattern, exp.Literal) and pattern.is_string:
            anchored: exp.Expression = exp.Literal.string(f"^({pattern.this})$")
        else:
            anchored = exp.Paren(
                this=exp.DPipe(
                    this=exp.DPipe(this=exp.Literal.string("^("), expression=pattern.copy()),
                    expression=exp.Literal.string(")$"),
                )
            )
        return exp.RegexpLike(this=node.this.copy(), expression=anchored)

    return tree.transform(replace)
