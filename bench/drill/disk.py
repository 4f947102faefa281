"""A small disk that can be filled: a tmpfs mounted for the scenario, filled to the last byte
by one file, freed by deleting it, unmounted afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FILLER = "filler.bin"
CHUNK = 1 << 20


def unavailable() -> str | None:
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    if shutil.which("mount") is None or shutil.which("umount") is None:
        return "mount and umount are not installed"
    return None


@contextmanager
def small_disk(where: Path, megabytes: int) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    _run("mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=0700", "tmpfs", str(where))
    try:
        yield where
    finally:
        if _run("umount", str(where), check=False) != 0:
            _run("umount", "-l", str(where), check=False)


def fill(disk: Path) -> int:
    """Write one file until the disk refuses even one more byte; returns the bytes written."""
    written = 0
    size = CHUNK
    block = b"\0" * CHUNK
    fd = os.open(disk / FILLER, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while True:
            try:
                written += os.write(fd, block[:size])
            except OSError:
                if size == 1:
                    return written
                size //= 2
    finally:
        os.close(fd)


def free(disk: Path) -> None:
    (disk / FILLER).unlink(missing_ok=True)


def _run(*command: str, check: bool = True) -> int:
    done = subprocess.run(list(command), capture_output=True, text=True, timeout=60)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return done.returncode
