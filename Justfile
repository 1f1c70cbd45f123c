# ducktrail's commands. `just` lists them; every recipe uses .venv/bin first when it exists.
set shell := ["bash", "-euo", "pipefail", "-c"]

export PATH := justfile_directory() + "/.venv/bin:" + env_var("PATH")

sample_files := "(SELECT list(file ORDER BY file) FROM glob('fixtures/AWSLogs/**/*.*json*') WHERE file NOT SIMILAR TO '.*/CloudTrail-(Digest|Insight|NetworkActivity)/.*')"

# List the commands
default:
    @just --list --unsorted

# Create .venv with ducktrail (editable) and its dev tools
setup:
    python3 -m venv .venv
    .venv/bin/pip install -q -e '.[dev]'

# Run the linters and the test suite, as CI does (extra args go to pytest, e.g. `just test -k cli`)
test *args: lint
    python -m pytest {{ args }}

# Check style and formatting (ruff)
lint:
    ruff check src tests benchmarks
    ruff format --check src tests benchmarks

# Reformat the code (ruff)
fmt:
    ruff format src tests benchmarks
    ruff check --fix src tests benchmarks

# Search harder for property-test counterexamples than the deterministic CI profile does
explore *args:
    HYPOTHESIS_PROFILE=explore python -m pytest tests/test_arn_parsing_properties.py tests/test_source_ip_properties.py tests/test_metamorphic.py tests/test_parity_with_elastic.py tests/test_fuzz_inputs.py {{ args }}

# Scan the bundled sample S3 tree (extra args go to `ducktrail scan`, e.g. `just sample -f json`)
sample *args:
    ducktrail scan fixtures/AWSLogs {{ args }}

# Scan the bundled sample Elastic export (the sample tree's events as Elastic stores them)
sample-ecs *args:
    ducktrail scan fixtures/elastic-export --source ecs {{ args }}

# Scan CloudTrail files or folders
scan +args:
    ducktrail scan {{ args }}

# Run the rule SQL in the DuckDB shell over the sample tree, as an analyst would
sql-sample:
    duckdb -c "SET VARIABLE ducktrail_files = {{ sample_files }}" -c ".read sql/sources/duckdb/cloudtrail.sql" -c ".read sql/rules/aws-lambda-function-invoked-cross-account/v2.sql"

# Print a rule as SQL for another engine (e.g. `just transpile -d snowflake`)
transpile *args:
    ducktrail transpile aws-lambda-function-invoked-cross-account {{ args }}

# Rewrite the golden transpiled SQL in tests/golden/ after a deliberate change (review the diff)
golden:
    DUCKTRAIL_UPDATE_GOLDEN=1 python -m pytest -q tests/test_transpile.py
    git diff --stat tests/golden

# Benchmark cold scan, zcat floor, bare DuckDB readers, Python loop, ingest and --db at 500k and 5M events, or `--data PATH` trees (not a test)
bench *args:
    python benchmarks/run.py {{ args }}

# Release new rule versions: check their SQL and record their hashes in sql/rules/rules.lock.json
lock:
    ducktrail lock

# Verify that every rule version is released and unchanged
lock-check:
    ducktrail lock --check

# CI, locally: the README's test command
ci:
    bash .ci/run
