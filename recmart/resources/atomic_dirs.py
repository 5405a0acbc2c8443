"""Atomic replacement of a directory on a local file system.

Publishing a partition must never leave readers with a half-written or missing folder.
On Linux, renameat2(RENAME_EXCHANGE) swaps two directories in one step; elsewhere we fall
back to two renames and heal an interrupted swap on the next publish or read.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import sys
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2 if sys.platform.startswith("linux") else None


def _libc():
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name, use_errno=True) if name else None


_LIBC = _libc() if _RENAME_EXCHANGE else None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically; False when the platform cannot."""
    if _LIBC is None or not hasattr(_LIBC, "renameat2"):
        return False
    rc = _LIBC.renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc != 0:
        err = ctypes.get_errno()
        if err in (22, 38, 95):  # EINVAL/ENOSYS/EOPNOTSUPP: file system without exchange
            return False
        raise OSError(err, os.strerror(err), str(a))
    return True


def _aside(target: Path) -> Path:
    return target.with_name(target.name + ".replaced")


def heal(target: Path) -> None:
    """Finish a fallback swap that was interrupted between its two renames."""
    old = _aside(target)
    if old.exists():
        if target.exists():
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(old, target)


def replace_dir(staged: Path, target: Path) -> None:
    """Make `staged` the content of `target`; `staged` is consumed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    heal(target)
    if not target.exists():
        os.rename(staged, target)  # atomic: nothing to replace
        return
    if _exchange(staged, target):
        shutil.rmtree(staged)  # now holds the previous version
        return
    old = _aside(target)
    os.rename(target, old)
    os.rename(staged, target)
    shutil.rmtree(old)


def remove_dir(target: Path) -> None:
    """Remove a published folder; readers see it whole or not at all."""
    heal(target)
    if target.exists():
        doomed = target.with_name(target.name + ".removed")
        os.rename(target, doomed)
        shutil.rmtree(doomed)
