"""Run one command; write its wall time, peak RSS and exit code as JSON to REPORT.

    python benchmarks/measure.py REPORT COMMAND...

Linux counts in a process's peak RSS the memory of the process it was forked from (the
high-water mark survives exec), so a command started straight from the benchmark, which holds
DuckDB and its figures, would show the benchmark's memory whenever its own peak is lower. This
small process starts the command instead, with the command's stdout and stderr as its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main() -> None:
    report, *command = sys.argv[1:]
    start = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    figures = {"seconds": seconds, "rss_mb": usage.ru_maxrss / 1024, "code": os.waitstatus_to_exitcode(status)}
    with open(report, "w", encoding="utf-8") as out:
        json.dump(figures, out)


if __name__ == "__main__":
    main()
