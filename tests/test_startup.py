"""Start-up is part of every command's time: heavy modules load only where they are used."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support import REPO

# `_duckdb` is DuckDB's compiled module; `duckdb` is the package's Python layer over it.
HEAVY = ("_duckdb", "duckdb", "sqlglot", "rich", "numpy", "pyspark", "chdb")


def loaded_after(code: str) -> dict[str, bool]:
    probe = f"import sys\n{code}\nimport json; print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_cli_module_imports_no_engine_and_no_translator():
    assert not any(loaded_after("import ducktrail.cli").values())


def test_a_json_scan_loads_only_duckdbs_compiled_module():
    code = (
        "from typer.testing import CliRunner\n"
        "from ducktrail.cli import app\n"
        "CliRunner().invoke(app, ['scan', 'fixtures/AWSLogs', '-f', 'json', '-q'])"
    )
    loaded = loaded_after(code)
    assert loaded["_duckdb"], loaded
    assert not any(loaded[name] for name in ("duckdb", "sqlglot", "rich", "numpy")), loaded


def test_the_engine_uses_what_the_duckdb_package_exports():
    # The engine loads `_duckdb` (engine/duckdb_module.py) only because the package re-exports
    # these very objects from it; if a DuckDB release stops doing so, this fails.
    import duckdb

    from ducktrail.engine import duckdb_module

    assert duckdb_module.duckdb.__name__ == "_duckdb"
    for name in duckdb_module.USED:
        assert getattr(duckdb_module.duckdb, name) is getattr(duckdb, name), name
