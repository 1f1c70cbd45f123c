"""ducktrail's benchmark: cold scan against the decompression floor and a Python loop, ingest,
repeat scans of the database, start-up, time growth and peak memory, measured in one run.

    python benchmarks/run.py [--sizes 500000,5000000] [--seed 20261128] [--repeat 5]
    python benchmarks/run.py --data PATH [--data PATH ...]     # trees you already have

Data is generated under benchmarks/data/ (see generate.py; the same seed and size give the same
files) and reused by later runs; --data times existing CloudTrail trees instead, such as data
generated independently of generate.py. Every command is timed as a whole process, best of --repeat
runs (ingest once: a second run has nothing new to load); peak memory is the highest maximum RSS
of its runs, measured by measure.py. The zcat floor, DuckDB's bare readers, the cold scan and
the Python loop run in alternating rounds, so that drift in the machine's speed hits them alike.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import DEFAULT_SEED, generate  # noqa: E402
from reader_floor import ONE_FIELD, rule_read_type  # noqa: E402

from ducktrail.engine.duckdb_scan import reading_for  # noqa: E402
from ducktrail.ingest import DEFAULT_MEMORY_LIMIT  # noqa: E402
from ducktrail.inputs.discover import discover  # noqa: E402

CORES = os.cpu_count() or 1
BIN = Path(sys.executable).parent
DUCKTRAIL = [str(BIN / "ducktrail")] if (BIN / "ducktrail").exists() else [sys.executable, "-m", "ducktrail"]


# (best wall seconds, highest peak RSS in MB, stdout of the last run)
Run = tuple[float, float, bytes]


def combined(earlier: Run | None, later: Run) -> Run:
    """Runs of one command taken together: the best time, the highest peak memory, the latest output.

    >>> combined((2.0, 50.0, b"a"), (1.5, 40.0, b"b"))
    (1.5, 50.0, b'b')
    """
    if earlier is None:
        return later
    return min(earlier[0], later[0]), max(earlier[1], later[1]), later[2]


def timed(command: list[str], *, stdout=subprocess.DEVNULL, repeat: int = 1) -> Run:
    """(best wall seconds, highest peak RSS in MB over the runs, stdout of the last run) of a
    command, each run measured by measure.py."""
    runs: Run | None = None
    for _ in range(repeat):
        with tempfile.TemporaryFile() as out, tempfile.TemporaryDirectory() as work:
            report = Path(work) / "figures.json"
            measured = [sys.executable, str(HERE / "measure.py"), str(report), *command]
            process = subprocess.run(
                measured, stdout=out if stdout is None else stdout, stderr=subprocess.PIPE, check=False
            )
            figures = json.loads(report.read_text()) if report.exists() else {"code": process.returncode}
            if process.returncode != 0 or figures["code"] != 0:
                error = process.stderr.decode(errors="replace")[-2000:]
                raise SystemExit(f"{' '.join(command)} failed ({figures['code']}): {error}")
            out.seek(0)
            run = (figures["seconds"], figures["rss_mb"], out.read() if stdout is None else b"")
        runs = combined(runs, run)
    assert runs is not None, "repeat must be at least 1"
    return runs


def zcat_floor(files: list[str]) -> float:
    """Decompressing every file to /dev/null with one zcat per core: the floor for any reader
    (-f: a plain .json file in a --data tree is copied as it is)."""
    chunks = [files[i::CORES] for i in range(CORES)]
    start = time.perf_counter()
    workers = [subprocess.Popen(["zcat", "-f", *chunk], stdout=subprocess.DEVNULL) for chunk in chunks if chunk]
    for worker in workers:
        if worker.wait() != 0:
            raise SystemExit("zcat failed")
    return time.perf_counter() - start


def side_by_side(zcat_files: list[str], commands: dict[str, list[str]], repeat: int) -> dict[str, tuple]:
    """The zcat floor and each command, interleaved round by round so that drift in the machine's
    speed hits them alike: each command's best time of `repeat` rounds, its highest peak RSS."""
    best: dict[str, tuple] = {"zcat": (float("inf"), 0.0, b"")}
    for _ in range(repeat):
        best["zcat"] = min(best["zcat"], (zcat_floor(zcat_files), 0.0, b""), key=lambda run: run[0])
        for name, command in commands.items():
            best[name] = combined(best.get(name), timed(command, stdout=None))
    return best


def data_for(events: int, seed: int) -> Path:
    """The generated tree of this size and seed, made anew when generate.py has changed since."""
    folder = HERE / "data" / f"seed{seed}-{events}"
    marker = folder / ".complete"
    made_by = hashlib.sha256((HERE / "generate.py").read_bytes()).hexdigest()
    if not marker.exists() or marker.read_text().strip() != made_by:
        shutil.rmtree(folder, ignore_errors=True)
        print(f"generating {events:,} events (seed {seed}) in {folder} ...", file=sys.stderr)
        generate(str(folder), events, seed)
        marker.write_text(made_by + "\n")
    return folder


def same_alerts(looped: bytes, scanned: bytes) -> bool:
    """Whether the loop's alerts are the scan's, every column the loop prints compared (the scan
    adds the rule's metadata)."""
    loop_alerts, scan_alerts = json.loads(looped), json.loads(scanned)
    columns = {key for alert in loop_alerts for key in alert}
    return loop_alerts == [{key: value for key, value in alert.items() if key in columns} for alert in scan_alerts]


def bench_tree(folder: Path, repeat: int, python_loop_max: int, settings: list[str]) -> dict:
    # The files the scan reads (not digests, not other folders beside CloudTrail/), for zcat and
    # the bare readers alike.
    found = discover([str(folder)], keep_going=True)
    files = list(found.files)
    if found.unreadable:
        raise SystemExit(str(found.unreadable[0]))
    if not files:
        raise SystemExit(f"no CloudTrail files under {folder}")
    size = sum(os.path.getsize(f) for f in files)
    result: dict = {"data": str(folder), "files": len(files), "stored_mb": round(size / 1e6, 1)}
    result["all_gzipped"] = all(f.lower().endswith(".gz") for f in files)
    scan = [*DUCKTRAIL, "scan", str(folder), "-f", "json", "-q", *settings]
    reader = [sys.executable, str(HERE / "reader_floor.py")]
    json_format = reading_for(files).format  # decided here, so that its look at each file is not timed
    one_field = [*reader, ONE_FIELD, json_format, *files]
    rule_fields = [*reader, rule_read_type(files[0]), json_format, *files]
    # An untimed read first: it counts the events, and every command then finds the files cached.
    result["events"] = int(timed(one_field, stdout=None)[2])
    commands = {"scan": scan, "duckdb_floor": one_field, "duckdb_fields": rule_fields}
    if result["events"] <= python_loop_max:
        # The files the scan reads, named: the loop need not find them the way ducktrail does.
        commands["python"] = [sys.executable, str(HERE / "python_loop.py"), *files]
    runs = side_by_side(files, commands, repeat)
    result["zcat_s"] = runs["zcat"][0]
    result["duckdb_floor_s"] = runs["duckdb_floor"][0]
    result["duckdb_fields_s"] = runs["duckdb_fields"][0]
    result["scan_s"], result["scan_rss_mb"], scanned = runs["scan"]
    if "python" in runs:
        result["python_s"], result["python_rss_mb"], looped = runs["python"]
        result["python_agrees"] = same_alerts(looped, scanned)
    with tempfile.TemporaryDirectory() as work:
        db = str(Path(work) / "trail.duckdb")
        ingest = [*DUCKTRAIL, "ingest", str(folder), "--db", db, "-q", *settings]
        result["ingest_s"], result["ingest_rss_mb"], _ = timed(ingest)
        result["ingest_again_s"], _, _ = timed(ingest)
        db_scan = [*DUCKTRAIL, "scan", "--db", db, "-f", "json", "-q", *settings]
        result["db_scan_s"], result["db_scan_rss_mb"], from_db = timed(db_scan, stdout=None, repeat=repeat)
        result["db_agrees"] = json.loads(from_db) == json.loads(scanned)
        result["db_mb"] = round(os.path.getsize(db) / 1e6, 1)
    result["alerts"] = len(json.loads(scanned))
    return result


def startup(repeat: int) -> dict:
    fixtures = str(HERE.parent / "fixtures" / "AWSLogs")
    return {
        "help_s": timed([*DUCKTRAIL, "--help"], repeat=max(repeat, 5))[0],
        "fixture_scan_s": timed([*DUCKTRAIL, "scan", fixtures, "-q"], repeat=max(repeat, 5))[0],
    }


def duckdb_settings(threads: int) -> dict:
    import duckdb

    with duckdb.connect(config={"threads": threads}) as con:
        values = dict(
            con.execute(
                "SELECT name, value FROM duckdb_settings() WHERE name IN ('threads', 'memory_limit')"
            ).fetchall()
        )
    return {"duckdb": duckdb.__version__, **values, "ingest_memory_limit": DEFAULT_MEMORY_LIMIT}


def report(results: list[dict], start: dict, settings: dict) -> None:
    print(
        f"machine: {platform.machine()}, {CORES} cores, Python {platform.python_version()}, DuckDB {settings['duckdb']}"
        f" (threads={settings['threads']}, memory_limit={settings['memory_limit']};"
        f" ingest: memory_limit={settings['ingest_memory_limit']})"
    )
    print(
        f"start-up: `ducktrail --help` {start['help_s']:.2f} s,"
        f" scan of the bundled fixtures {start['fixture_scan_s']:.2f} s (target < 0.5 s each)"
    )
    for r in results:
        ev = r["events"]
        stored = f"{r['stored_mb']} MB {'gzipped' if r['all_gzipped'] else 'on disk, not all gzipped'}"
        print(f"\n{ev:,} events in {r['files']} files ({stored}, {r['data']}); {r['alerts']} alerts")
        rows = [
            ("parallel zcat (floor)", r["zcat_s"], None),
            ("DuckDB read_json, one field (floor)", r["duckdb_floor_s"], None),
            ("DuckDB read_json, the rule's fields", r["duckdb_fields_s"], None),
            ("ducktrail scan (cold)", r["scan_s"], r["scan_rss_mb"]),
        ]
        if "python_s" in r:
            rows.append(("Python json loop", r["python_s"], r["python_rss_mb"]))
        rows += [
            ("ducktrail ingest", r["ingest_s"], r["ingest_rss_mb"]),
            ("ducktrail ingest (again, nothing new)", r["ingest_again_s"], None),
            ("ducktrail scan --db (repeat)", r["db_scan_s"], r["db_scan_rss_mb"]),
        ]
        for name, seconds, rss in rows:
            memory = f"{rss:7.0f} MB" if rss else " " * 10
            print(f"  {name:40s} {seconds:8.2f} s {ev / seconds:14,.0f} events/s {memory}")
        print(
            f"  scan / zcat floor: {r['scan_s'] / r['zcat_s']:.2f}x (target <= 1.3x);"
            f" DuckDB's reader alone: {r['duckdb_floor_s'] / r['zcat_s']:.2f}x with one field,"
            f" {r['duckdb_fields_s'] / r['zcat_s']:.2f}x with the rule's fields"
        )
        if "python_s" in r:
            speedup = r["python_s"] / r["scan_s"]
            print(f"  Python loop / scan: {speedup:.1f}x faster (target >= 5x); same alerts: {r['python_agrees']}")
        repeat_speedup = r["scan_s"] / r["db_scan_s"]
        print(
            f"  cold scan / scan --db: {repeat_speedup:.1f}x (target >= 20x at 5M events);"
            f" same alerts: {r['db_agrees']}; database {r['db_mb']} MB"
        )
    line = growth_line(results)
    if line:
        print("\n" + line)


def growth_line(results: list[dict]) -> str | None:
    """Time growth from the smallest tree to the largest, and the largest one's peak memory;
    None unless the trees differ in size (`--data` may give two of the same size).

    >>> growth_line([{"events": 10, "scan_s": 1.0}, {"events": 100, "scan_s": 8.0, "scan_rss_mb": 300}])
    'time growth 10 -> 100 events: 0.80 of linear (target <= 1.0); peak scan RSS at 100: 300 MB (target < 1024 MB)'
    >>> growth_line([{"events": 10, "scan_s": 1.0}, {"events": 10, "scan_s": 1.2}])
    """
    small = min(results, key=lambda r: r["events"], default=None)
    large = max(results, key=lambda r: r["events"], default=None)
    if small is None or large is None or large["events"] <= small["events"]:
        return None
    growth = (large["scan_s"] / small["scan_s"]) / (large["events"] / small["events"])
    return (
        f"time growth {small['events']:,} -> {large['events']:,} events: {growth:.2f} of linear (target <= 1.0);"
        f" peak scan RSS at {large['events']:,}: {large['scan_rss_mb']:.0f} MB (target < 1024 MB)"
    )


def compile_ducktrail() -> None:
    """Write ducktrail's bytecode, as installing a wheel does: an editable install run with
    PYTHONDONTWRITEBYTECODE=1 would otherwise compile every module anew on each run (~15 ms)."""
    import compileall

    import ducktrail

    compileall.compile_dir(str(Path(ducktrail.__file__).parent), quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument(
        "--sizes", default="500000,5000000", help="events per generated tree, comma-separated (%(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="the generator's seed (%(default)s; see generate.py)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs of each timed command, best reported (%(default)s)")
    parser.add_argument(
        "--data", action="append", type=Path, metavar="PATH", help="time this CloudTrail tree instead (repeatable)"
    )
    parser.add_argument(
        "--python-loop-max", type=int, default=500_000, help="skip the slow loop above this size (%(default)s)"
    )
    parser.add_argument(
        "--threads", type=int, default=CORES, help="DuckDB threads for scan and ingest (%(default)s: the cores)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures to this file")
    args = parser.parse_args()
    settings = ["--threads", str(args.threads)]
    compile_ducktrail()
    trees = args.data or [data_for(int(n), args.seed) for n in args.sizes.split(",")]
    results = [bench_tree(tree, args.repeat, args.python_loop_max, settings) for tree in trees]
    start = startup(args.repeat)
    duck = duckdb_settings(args.threads)
    report(results, start, duck)
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "startup": start, "settings": duck}, indent=2))


if __name__ == "__main__":
    main()
