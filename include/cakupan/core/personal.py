"""Personal data in free text, found by its shape: what a published sentence, message or page must not carry.

Structured personal columns (NIK, name, birth date, KPJ) are marked `personal` in the source contracts and never
leave the raw zone. Free text is another matter: a press release may quote a NIK, a clerk may type a NIK or a phone
number into the wrong cell, an error message may echo one. What can be recognised by its shape is masked here:

- a NIK in any form: 15 to 17 digits (a NIK typed one digit short or long is still one), with single spaces, dots or
  hyphens between them ("7372 0145 0580 0123", "73.72.01.450580.0123"), or as Excel's scientific notation
  ("7.37201450580012E+15");
- an Indonesian mobile number (08…, 62 8…, +62 8…, 10 to 13 digits).

A run of digits next to a letter or another digit is part of something longer (a hex pseudonym, a hash, a bigger
number) and is left alone: pseudonyms are what the published file is made of.
"""

from __future__ import annotations

import re

_EDGE_BEFORE = r"(?<![0-9A-Za-z])"
_EDGE_AFTER = r"(?![0-9A-Za-z])"
_PATTERNS = (
    rf"{_EDGE_BEFORE}[0-9](?:[ .\-]?[0-9]){{14,16}}{_EDGE_AFTER}",                 # NIK, with separators
    rf"{_EDGE_BEFORE}[0-9][.,][0-9]{{5,15}}[eE]\+?1[4-6]{_EDGE_AFTER}",           # NIK through an Excel number
    rf"(?<![0-9A-Za-z+])(?:\+62|62|0)[ .\-]?8[0-9](?:[ .\-]?[0-9]){{7,10}}{_EDGE_AFTER}",   # mobile number
)
PERSONAL_IN_TEXT = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))
# dates side by side ("2025-03-01 2025-04-30") have the digits of a NIK with separators, and are not one
_DATE = r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{2}[-./][0-9]{2}[-./][0-9]{4})"
_DATES = re.compile(rf"{_DATE}(?: {_DATE})+")


def _personal(text: str):
    return (m for m in PERSONAL_IN_TEXT.finditer(text) if not _DATES.fullmatch(m.group(0)))


def mask_personal(text: str, replacement: str | None = None) -> str:
    """Return text with every NIK-like number and phone number masked: each digit as '*' (the text keeps its
    length, so offsets into it stay true), or the whole match as `replacement`."""
    out, last = [], 0
    for m in _personal(text):
        masked = re.sub(r"[0-9]", "*", m.group(0)) if replacement is None else replacement
        out += [text[last:m.start()], masked]
        last = m.end()
    return "".join(out) + text[last:] if out else text


def has_personal(text: str) -> bool:
    """Whether text holds a NIK-like number or a phone number."""
    return next(_personal(text), None) is not None
