"""Start-up is part of every command's time: heavy modules load only where they are used."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support import REPO

HEAVY = ("duckdb", "sqlglot", "rich", "numpy", "pyspark", "chdb")


def loaded_after(code: str) -> dict[str, bool]:
    probe = f"import sys\n{code}\nimport json; print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_cli_module_imports_no_engine_and_no_translator():
    assert not any(loaded_after("import ducktrail.cli").values())


def test_a_json_scan_never_imports_sqlglot_rich_or_numpy():
    code = (
        "from typer.testing import CliRunner\n"
        "from ducktrail.cli import app\n"
        "CliRunner().invoke(app, ['scan', 'fixtures/AWSLogs', '-f', 'json', '-q'])"
    )
    loaded = loaded_after(code)
    assert loaded["duckdb"] and not loaded["sqlglot"] and not loaded["rich"] and not loaded["numpy"], loaded
