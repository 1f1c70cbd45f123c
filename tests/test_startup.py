"""Start-up is part of every command's time: heavy modules load only where they are used."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

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


def test_the_launcher_loads_duckdb_early_only_for_a_scan():
    for command, early in ((["scan", "AWSLogs"], True), (["transpile", "x"], False), (["scan", "--help"], False)):
        code = (
            "import types\n"
            "sys.modules['ducktrail.cli'] = types.SimpleNamespace(main=lambda: None)  # the CLI itself not run\n"
            f"sys.argv = ['ducktrail', *{command!r}]\n"
            "from ducktrail import launch\n"
            "launch.main()"
        )
        assert loaded_after(code)["_duckdb"] is early, command


def test_the_command_scans_as_the_library_does_with_duckdb_started_early(tmp_path):
    # `python -m ducktrail` goes through the launcher, which connects before the CLI loads.
    database = tmp_path / "trail.duckdb"
    for args in (
        ["scan", "fixtures/AWSLogs"],
        ["ingest", "fixtures/AWSLogs", "--db", str(database)],
        ["scan", "--db", str(database)],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "ducktrail", *args, "-q", *(["-f", "json"] if args[0] == "scan" else [])],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        if args[0] == "scan":
            assert len(json.loads(done.stdout)) == 3, done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "ducktrail", "scan", "fixtures/AWSLogs", "--memory-limit", "lots"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert (bad.returncode, "DuckDB rejected --memory-limit 'lots'" in bad.stderr) == (2, True), bad.stderr


def test_an_engine_started_early_is_taken_only_with_the_same_settings():
    from ducktrail.engine import warm

    warm.preconnect()
    warm.start(threads=1)
    assert warm.take(threads=2) is None  # made for other settings: closed, not handed out
    warm.start(threads=1, memory_limit="lots")
    assert warm.take(threads=1, memory_limit="lots") is None  # refused settings: the caller meets the error
    warm.start(threads=1, memory_limit="1GB")
    engine = warm.take(threads=1, memory_limit="1GB")
    try:
        assert engine.con.execute("SELECT current_setting('threads'), current_setting('memory_limit')").fetchone() == (
            1,
            "953.6 MiB",
        )
        assert engine.con.execute("SELECT current_setting('autoload_known_extensions')").fetchone() == (False,)
    finally:
        engine.close()
    warm.start(threads=1)
    warm.discard()
    assert warm.take(threads=1) is None


def test_ctrl_c_is_left_alone_where_sigint_is_ignored():
    code = (
        "import os, signal\n"
        "from ducktrail.engine.interrupts import interrupts_deferred\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "with interrupts_deferred():\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "print('ignored')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "ignored"), done.stderr


def test_a_database_that_is_not_a_regular_file_is_refused_at_once(tmp_path):
    fifo = tmp_path / "fifo.duckdb"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "ducktrail", "scan", "--db", str(fifo)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 3, done.stderr
    assert f"{fifo}: not a regular file, as a database is one" in done.stderr


@pytest.mark.parametrize(
    "command",
    [["scan", "fixtures/AWSLogs"], ["transpile", "aws-lambda-function-invoked-cross-account", "-d", "spark"], ["list"]],
    ids=["scan", "transpile", "list"],
)
def test_a_command_with_its_output_closed_refuses_to_lose_the_output(command):
    done = subprocess.run(
        [sys.executable, "-m", "ducktrail", *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        timeout=60,
        preexec_fn=lambda: os.close(1),
    )
    assert done.returncode == 2, done.stderr
    assert "standard output is closed" in done.stderr
