"""Big buffers given back to the system as soon as they are freed (glibc's malloc; elsewhere nothing changes).

glibc serves a buffer of 128 KiB or more with its own mapping, returned to the system when freed, but each time
such a buffer is freed it raises that threshold to the buffer's size (up to 32 MiB). A load frees many buffers of a
few MiB (a part's text, a chunk's masks and places, a file's bytes made UTF-8), so after the first ones the next
come from the heap, whose freed memory a process keeps: a 1M-row CSV held ~65 MB more at its peak, a UTF-16 one
~80 MB more (640 MB, over the 600 MB goal; bench/findings.md "Session 60"). A fixed threshold keeps the mappings.
Arrow allocates from its own pool, which this leaves as it is.
"""

from __future__ import annotations

import ctypes
import functools

M_MMAP_THRESHOLD = -3           # mallopt's parameter (malloc.h)
MMAP_THRESHOLD_BYTES = 4 << 20  # a buffer this big or bigger is its own mapping, whatever was freed before it


@functools.cache
def return_big_buffers() -> bool:
    """Fix malloc's mapping threshold at MMAP_THRESHOLD_BYTES for this process (once); False where the C library
    has no `mallopt` or refuses it (not glibc: its allocator is left as it is)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
