"""Arrow helpers (`cakupan.ingest.arrays`) against what pyarrow computes itself."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from cakupan.ingest.arrays import max_bytes
from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(st.one_of(st.none(), st.text(max_size=30)), max_size=40), cut=st.tuples(st.integers(0, 40),
                                                                                            st.integers(0, 40)))
def test_max_bytes_bounds_every_text_of_a_column_and_of_a_slice_of_it(texts, cut):
    """The validation skips the length rule when no text can be too long: `max_bytes` is never below the longest
    text in bytes (so in characters), of a whole column, a slice of it, a chunked one, or one whose null slots span
    bytes (Arrow allows it: a text replaced by null with its bytes kept)."""
    arr = pa.array(texts, pa.string())
    lo, hi = min(cut), max(cut)
    masked = pc.if_else(pa.array([i % 2 == 0 for i in range(len(texts))], pa.bool_()), arr, pa.scalar(None, pa.string()))
    for a in (arr, arr[lo:hi], pa.chunked_array([arr[:lo], arr[lo:]], pa.string()), masked):
        longest = max((len(t.encode()) for t in a.to_pylist() if t is not None), default=0)
        assert max_bytes(a) >= longest
        if a.null_count == 0:
            assert max_bytes(a) == longest
