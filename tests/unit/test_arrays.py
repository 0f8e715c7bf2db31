"""Arrow helpers (`cakupan.ingest.arrays`) against what pyarrow computes itself."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from cakupan.ingest.arrays import ascii_bytes, max_bytes, may_hold, replace_byte
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


_TEXT = st.text(alphabet=st.sampled_from([";", ",", "\x1f", "=", '"', "a", "é", " ", "\n"]), max_size=12)


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(st.one_of(st.none(), _TEXT), max_size=30), cut=st.tuples(st.integers(0, 30), st.integers(0, 30)),
       large=st.booleans(), old=st.sampled_from([";", ","]))
def test_replace_byte_gives_what_pyarrow_replace_substring_gives(texts, cut, large, old):
    """A big CSV's part has its delimiter made UNIT byte for byte (`_unquote`): the texts pyarrow's own kernel gives,
    nulls kept, of a whole column, a slice of it (its offset), a chunked one and one of large strings."""
    arr = pa.array(texts, pa.large_string() if large else pa.string())
    lo, hi = min(cut), max(cut)
    for a in (arr, arr[lo:hi], pa.chunked_array([arr[:lo], arr[lo:]], arr.type)):
        got = replace_byte(a, old, "\x1f")
        assert got.type == a.type
        assert got.to_pylist() == pc.replace_substring(a, old, "\x1f").to_pylist()
        assert a.to_pylist() == (texts[lo:hi] if a is not arr and not isinstance(a, pa.ChunkedArray) else texts)


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(st.one_of(st.none(), _TEXT), max_size=30), cut=st.tuples(st.integers(0, 30), st.integers(0, 30)))
def test_may_hold_is_false_only_when_no_text_holds_it(texts, cut):
    """The formula-cell rewrite is skipped when `may_hold` says no text holds `="`: never when one does, and always
    when no text holds a "=" at all."""
    arr = pa.array(texts, pa.string())
    lo, hi = min(cut), max(cut)
    for a in (arr, arr[lo:hi], pa.chunked_array([arr[:lo], arr[lo:]], pa.string())):
        if any('="' in t for t in a.to_pylist() if t is not None):
            assert may_hold(a, b'="')
    # (texts side by side may make it across their edge: '=' then '"'; with no '=' in any, no)
    if not any("=" in t for t in texts if t is not None):
        assert not may_hold(arr, b'="')


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.one_of(st.none(), _TEXT), max_size=30),
       needle=st.text(alphabet=st.sampled_from(["=", '"', "a", "é", ";"]), min_size=1, max_size=4))
def test_may_hold_finds_any_needle_in_the_bytes_of_the_texts(texts, needle):
    """`may_hold` with a needle of one to several bytes (one a character of two): True exactly when the texts'
    bytes, written side by side, hold it (a column with no null slot: its bytes are its texts, nothing else)."""
    arr = pa.array([t for t in texts if t is not None], pa.string())
    written = "".join(arr.to_pylist()).encode("utf-8")
    assert may_hold(arr, needle.encode("utf-8")) == (needle.encode("utf-8") in written)


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(st.one_of(st.none(), _TEXT), max_size=30), cut=st.tuples(st.integers(0, 30), st.integers(0, 30)))
def test_ascii_bytes_is_true_only_when_every_text_is_ascii(texts, cut):
    """A part's note scan takes the ASCII pattern only when `ascii_bytes` says so: never when a text holds a
    character beyond ASCII (of a whole column, a slice of it or a chunked one), and always for a column all ASCII."""
    arr = pa.array(texts, pa.string())
    lo, hi = min(cut), max(cut)
    for a in (arr, arr[lo:hi], pa.chunked_array([arr[:lo], arr[lo:]], pa.string())):
        if not all(t.isascii() for t in a.to_pylist() if t is not None):
            assert not ascii_bytes(a)
    assert ascii_bytes(arr) == all(t.isascii() for t in texts if t is not None)
