"""Rules to other engines: the rule's DuckDB SQL translated by sqlglot, behind a per-engine adapter."""
