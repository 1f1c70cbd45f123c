"""The README's promises that a new user meets first."""

from __future__ import annotations

import re

from tests.support import REPO

README = (REPO / "README.md").read_text()


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the quick start lost its sh block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_quick_start_is_two_commands_and_ci_runs_the_second():
    commands = quick_start_commands()
    assert len(commands) == 2
    assert "ducktrail scan fixtures/AWSLogs" in commands[0]
    ci = (REPO / ".ci" / "run").read_text()
    assert commands[1] in ci.splitlines()


def test_every_exit_code_of_the_cli_is_documented():
    from ducktrail.errors import ExitCode

    for code in ExitCode:
        assert re.search(rf"^\| {int(code)} \|", README, re.M), f"exit code {int(code)} missing from README"


def test_every_just_recipe_named_in_the_readme_exists():
    justfile = (REPO / "Justfile").read_text()
    recipes = set(re.findall(r"^([a-z][a-z0-9-]*)(?: [^:]*)?:", justfile, re.M))
    for name in re.findall(r"`just ([a-z][a-z0-9-]*)", README):
        assert name in recipes, f"README names `just {name}`, the Justfile has no such recipe"


def test_every_option_in_the_scanning_synopsis_is_one_the_cli_takes():
    from typer.testing import CliRunner

    from ducktrail.cli import app

    block = README.split("## Scanning", 1)[1].split("```", 2)[1]
    option = r"(?<![\w-])(--?[a-z][a-z-]*)"
    command, checked = None, 0
    for line in block.splitlines():
        synopsis = line.split("#")[0]
        if not line.startswith(" "):  # an indented line goes on with the command above
            command = next((w for w in synopsis.split() if w in ("scan", "ingest", "list", "show", "transpile")), None)
        if command is None:
            continue
        helped = set(re.findall(option, CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"}).stdout))
        for name in re.findall(option, synopsis):
            assert name in helped, f"README's `ducktrail {command}` synopsis names {name}; --help has no such option"
            checked += 1
    assert checked >= 15, "the synopsis lost its options"
