"""Arrow ↔ numpy helpers shared by the readers, the validation and the NIK rule (no pandas import anywhere)."""

from __future__ import annotations

import importlib.abc
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def np_bools(arr: pa.Array) -> np.ndarray:
    """A boolean Arrow array (null as False) as numpy, from its bitmap (pyarrow's own path imports pandas)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        arr = pc.fill_null(arr, False)
    bits = np.unpackbits(np.frombuffer(arr.buffers()[1], np.uint8), bitorder="little")
    return bits[arr.offset: arr.offset + len(arr)].astype(bool)


def pa_bools(mask: np.ndarray) -> pa.Array:
    """A numpy boolean mask as an Arrow boolean array (no pandas import)."""
    return pa.Array.from_buffers(pa.bool_(), len(mask), [None, pa.py_buffer(np.packbits(mask, bitorder="little"))])


def pa_ints(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """A numpy int32/int64 array as an Arrow array, null where `valid` is False."""
    values = np.ascontiguousarray(values)
    typ = pa.int64() if values.dtype == np.int64 else pa.int32()
    bitmap = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(typ, len(values), [bitmap, pa.py_buffer(values)])


def max_bytes(texts: pa.Array) -> int:
    """An upper bound of the longest text's length in bytes, from a string array's offsets (a null slot may count:
    Arrow lets it span bytes), with no compute call; 0 for an empty array."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if len(texts) == 0:
        return 0
    offsets = np.frombuffer(texts.buffers()[1], np.int32)[texts.offset: texts.offset + len(texts) + 1]
    return int(np.diff(offsets).max())


def replace_byte(texts: pa.Array, old: str, new: str) -> pa.Array:
    """`pc.replace_substring(texts, old, new)` for one ASCII character by another: the lengths stay, so only the
    bytes are copied, with it replaced (numpy), the offsets and validity kept (pyarrow's kernel searched: ~46 ms of
    a part's 13 MB of lines, this ~8; bench/findings.md "Session 47")."""
    if isinstance(texts, pa.ChunkedArray):
        return pa.chunked_array([replace_byte(c, old, new) for c in texts.chunks], texts.type)
    validity, offsets, data = texts.buffers()
    if data is None or len(old) != 1 or len(new) != 1 or not (old + new).isascii():
        return pc.replace_substring(texts, old, new)
    raw = np.frombuffer(data, np.uint8)
    out = raw.copy()
    out[raw == ord(old)] = ord(new)
    return pa.Array.from_buffers(texts.type, len(texts), [validity, offsets, pa.py_buffer(out)], texts.null_count,
                                 texts.offset)


def lower(arr: pa.Array) -> pa.Array:
    """`utf8_lower`, by `ascii_lower` when every text is ASCII (the same result): Arrow's first `utf8_lower` in a
    process builds its Unicode tables, 0.1 s on a big file's first part."""
    return pc.ascii_lower(arr) if pc.all(pc.string_is_ascii(arr)).as_py() is not False else pc.utf8_lower(arr)


def ascii_bytes(texts: pa.Array | pa.ChunkedArray) -> bool:
    """Whether every byte under the array is ASCII (a slice's bytes beyond it and a null slot's count too)."""
    chunks = texts.chunks if isinstance(texts, pa.ChunkedArray) else [texts]
    return all((buf := c.buffers()[2]) is None or len(buf) == 0 or int(np.frombuffer(buf, np.uint8).max()) < 0x80
               for c in chunks)


def may_hold(texts: pa.Array, needle: bytes) -> bool:
    """False when no text holds `needle` (one search of the bytes under the array; True may come from a slice's
    bytes beyond it, a null slot's, or two texts side by side). Where the first byte is, then the rest: 1.3 ms for a
    9 MB part of quoted cells, against 10.8 ms to copy the bytes and search them for `="` (findings "Session 53")."""
    chunks = texts.chunks if isinstance(texts, pa.ChunkedArray) else [texts]
    for c in chunks:
        if (buf := c.buffers()[2]) is None:
            continue
        raw = np.frombuffer(buf, np.uint8)
        at = np.flatnonzero(raw[:max(0, len(raw) - len(needle) + 1)] == needle[0])
        for k in range(1, len(needle)):
            at = at[raw[at + k] == needle[k]]
        if len(at):
            return True
    return False


def distinct(values: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """The distinct values in the order they first appear (a null among them when there is one) and, for each value,
    its index among them: what `pc.unique` and `pc.index_in(values, value_set=<them>, skip_nulls=False)` give,
    from one hash pass instead of two (~1 ms less a column of a 58,823-row part)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = pc.dictionary_encode(values, null_encoding="encode")
    return encoded.dictionary, encoded.indices


def as_arrow(values, arrow_type: pa.DataType) -> pa.Array:
    """A list or an Arrow array as an Arrow array of the given type."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.cast(arrow_type) if isinstance(values, pa.Array) else pa.array(values, arrow_type)


class _PandasNotNow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "pandas":
            raise ImportError("pandas is not imported for pyarrow's first conversion (arrays.arrow_without_pandas)")


def arrow_without_pandas() -> None:
    """pyarrow imports pandas (~45 MB, ~0.5 s) the first time it converts a Python value, only to ask whether the
    value is a pandas object; the ingest never gives it one. Unless pandas is imported already, that first
    conversion is made here with pandas out of reach, so pyarrow records it as absent and does not import it for
    `pa.array` / `pa.scalar`. Imported later (the quality gate does), pandas works as ever, and pyarrow imports it
    when asked for a pandas conversion (`to_pandas`, `Table.from_pandas`). Called as `cakupan.ingest` is imported;
    tests/ingest/test_stream_memory.py."""
    if "pandas" in sys.modules:
        return
    finder = _PandasNotNow()
    sys.meta_path.insert(0, finder)
    try:
        pa.scalar(None)
    finally:
        sys.meta_path.remove(finder)

