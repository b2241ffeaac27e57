"""How long the ``itinera`` command takes to start, for commands that touch no database.

Each command runs in a fresh process, several times; the median wall time and the median CPU
time (user + system, less sensitive to other work on the machine) are printed::

    python bench/cli_start.py              # 7 runs of each command
    python bench/cli_start.py --runs 15
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

COMMANDS: tuple[tuple[str, ...], ...] = (("--help",), ("--version",), ("round", "--help"))


def itinera() -> list[str]:
    """The installed ``itinera`` script beside this Python, else the module run by Python."""
    found = shutil.which("itinera", path=os.path.dirname(sys.executable)) or shutil.which("itinera")
    if found:
        return [found]
    return [sys.executable, "-c", "from bot.cli import app; app()"]


def once(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``command`` (which must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each command (default 7)")
    args = parser.parse_args()
    base = itinera()
    once([*base, "--version"])  # warm the file cache and the bytecode
    print(f"{'command':<24} {'wall p50':>9} {'cpu p50':>9} {'wall min':>9}  ({args.runs} runs)")
    for arguments in COMMANDS:
        runs = [once([*base, *arguments]) for _ in range(args.runs)]
        walls = [wall for wall, _ in runs]
        cpus = [cpu for _, cpu in runs]
        name = "itinera " + " ".join(arguments)
        print(
            f"{name:<24} {statistics.median(walls):>8.3f}s {statistics.median(cpus):>8.3f}s "
            f"{min(walls):>8.3f}s"
        )
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
