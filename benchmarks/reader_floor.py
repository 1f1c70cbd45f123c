"""DuckDB's bare reader over CloudTrail files, read as `ducktrail scan` reads them: one
single-threaded query per core over a share of the files (engine/split_read.py), with the
read_json options the scan would use for these files (by line for one-line S3 deliveries and
NDJSON, the general way for pretty-printed files: engine.duckdb_scan.reading_for, decided by the
caller so that its look at each file is not timed). It takes one field of every event
(ONE_FIELD: the floor for any DuckDB-based reader) or the fields the bundled rules read
(rule_read_type(): what the scan's read costs before its view, read hook, filter and CLI), and
prints how many events it read.

    python benchmarks/reader_floor.py VALUE_TYPE FORMAT FILE...    # FORMAT: reading_for(files).format
"""

from __future__ import annotations

import os
import sys
import threading

from ducktrail.engine import read_fields
from ducktrail.engine.duckdb_module import duckdb
from ducktrail.engine.duckdb_scan import BY_LINE, GENERAL, DuckDBEngine, JsonReading, RuleQuery
from ducktrail.engine.literal_paths import literals
from ducktrail.engine.split_read import balanced
from ducktrail.pack.loader import load_pack

# A top-level eventName too: in NDJSON exports each line is an event, as in the adapter.
ONE_FIELD = "STRUCT(Records STRUCT(eventName VARCHAR)[], eventName VARCHAR)"
# Each {"Records": [...]} value gives its records, any other value (an NDJSON line) one event.
QUERY = (
    "SELECT count(*) FROM (SELECT unnest(CASE WHEN value.Records IS NULL THEN [NULL] ELSE value.Records END)"
    " FROM read_json($files, columns = {'value': $type}, records = false, format = $format,"
    " maximum_object_size = $size))"
)
READINGS = {reading.format: reading for reading in (BY_LINE, GENERAL)}


def rule_read_type(sample: str) -> str:
    """The read type a scan of the bundled rules uses (engine/read_fields.py), found by running
    them over one file."""
    pack = load_pack()
    rules = [RuleQuery(rule.id, rule.sql(rule.version).sql) for rule in pack.rules]
    with DuckDBEngine() as engine:
        engine.use_files([sample])
        engine.run(rules, None, None, per_file_counts=False)
        value_type = engine.con.execute(f"SELECT NULL::{read_fields.VALUE_TYPE}").description[0][1]
        return read_fields.read_type(value_type, engine.read_fields) or read_fields.VALUE_TYPE


def read(files: list[str], value_type: str, reading: JsonReading) -> int:
    con = duckdb.connect(config={"threads": 1})
    shares = [share for share in balanced(files, os.cpu_count() or 1) if share]
    counts = [0] * len(shares)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        params = {"files": literals(shares[index]), "type": value_type}
        params |= {"format": reading.format, "size": reading.maximum_object_size}
        try:
            counts[index] = con.cursor().execute(QUERY, params).fetchone()[0]
        except duckdb.Error as exc:
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(index,)) for index in range(len(shares))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise SystemExit(f"reader_floor: {errors[0]}")
    return sum(counts)


def main() -> None:
    value_type, json_format, *files = sys.argv[1:]
    print(read(files, value_type, READINGS[json_format]))


if __name__ == "__main__":
    main()
