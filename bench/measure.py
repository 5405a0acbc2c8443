"""Run a command and measure it: wall time and the peak RSS of every process it starts.

Samples the process tree every 100 ms with psutil, so a JVM started by PySpark is counted
under its own name, and the peak of the whole tree (the sum at one instant) is reported.

A child caught between fork and exec (the JVM forks to run `chmod` or `ls` through Hadoop's
shell, under the name of the thread that forked) still runs its parent's command line and
shares its parent's pages copy-on-write: its RSS is the parent's memory again, so it is left
out of the sum. Its count is reported (`forks_skipped`).
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field

import psutil


@dataclass
class Measured:
    command: list[str]
    seconds: float
    returncode: int
    peak_tree_rss_mb: float
    peak_rss_mb_by_process: dict[str, float] = field(default_factory=dict)
    forks_skipped: int = 0


def measure(command: list[str], env: dict | None = None, cwd: str | None = None, log=None) -> Measured:
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=log or subprocess.DEVNULL,
                            stderr=subprocess.STDOUT if log else subprocess.DEVNULL)
    root = psutil.Process(proc.pid)
    peaks: dict[str, float] = {}
    tree_peak = 0.0
    forks = 0
    while proc.poll() is None:
        total = 0.0
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        cmdlines = {}
        for p in procs:
            try:
                cmdlines[p.pid] = p.cmdline()
            except psutil.Error:
                pass
        for p in procs:
            try:
                if p.ppid() in cmdlines and cmdlines.get(p.pid) == cmdlines[p.ppid()]:
                    forks += 1
                    continue
                rss = p.memory_info().rss / 2**20
                name = f"{p.pid}:{'java' if 'java' in p.name() else p.name()}"
            except psutil.Error:
                continue
            total += rss
            peaks[name] = max(peaks.get(name, 0.0), rss)
        tree_peak = max(tree_peak, total)
        time.sleep(0.1)
    proc.wait()
    return Measured(command, time.perf_counter() - start, proc.returncode, round(tree_peak, 1),
                    {k: round(v, 1) for k, v in sorted(peaks.items(), key=lambda kv: -kv[1])[:6]}, forks)


if __name__ == "__main__":
    print(measure(sys.argv[1:]))
