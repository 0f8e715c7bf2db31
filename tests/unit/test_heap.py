"""A load's big buffers are given back to the system once freed (`core.heap`), not kept in malloc's heap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

INCLUDE = Path(__file__).resolve().parents[2] / "include"

# What a load does: a big buffer freed (glibc then serves buffers up to its size from the heap), then parts' buffers
# made and freed while small ones made between them stay (a part's row numbers): the MiB still held after.
_LOAD_LIKE = f"""
import sys
import numpy as np
sys.path.insert(0, {str(INCLUDE)!r})
if sys.argv[1] == "fixed":
    from cakupan.core.heap import return_big_buffers
    assert return_big_buffers()
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096
whole = np.ones(20 << 20, np.uint8)
del whole
before = rss()
parts, kept = [], []
for _ in range(8):
    parts.append(np.ones(8 << 20, np.uint8))
    kept.append(np.ones(64 << 10, np.uint8))
del parts
print((rss() - before) >> 20)
"""


def _held_mib(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", _LOAD_LIKE, mode], capture_output=True, text=True, check=True)
    return int(out.stdout)


@pytest.mark.skipif(not Path("/proc/self/statm").exists() or sys.platform != "linux", reason="glibc and /proc")
def test_freed_part_buffers_leave_the_process():
    # malloc as glibc leaves it keeps the 64 MiB of freed parts; with the fixed threshold they are unmapped
    assert _held_mib("default") >= 48
    assert _held_mib("fixed") <= 8
