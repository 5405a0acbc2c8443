"""Peak resident memory of this process and all its descendants (the Spark JVM included), from /proc."""

from __future__ import annotations

import os
import threading
import time


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(root: int | None = None) -> int:
    """RSS of `root` (default: this process) plus every descendant, in bytes."""
    root = root or os.getpid()
    tree, total, todo = _children(), 0, [root]
    while todo:
        pid = todo.pop()
        total += _rss_bytes(pid)
        todo.extend(tree.get(pid, ()))
    return total


class PeakMemory:
    """Samples `tree_rss` every `interval` seconds while in use: `with PeakMemory() as m: ...; m.peak`."""

    def __init__(self, interval: float = 0.5):
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss())
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self.peak = tree_rss()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss())


def timed(fn, *args, **kwargs):
    """(result, seconds, peak RSS bytes) of a call."""
    with PeakMemory() as mem:
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        seconds = time.perf_counter() - t
    return out, seconds, mem.peak
