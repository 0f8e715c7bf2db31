"""The month a title block or a file name names ("REGISTER JUNI 2025", "register_2025-06.xlsx"), and, when it
names more than one, the words that disagree (what the clerk is told to mend)."""

from __future__ import annotations

import datetime as dt
import re

from cakupan.ingest.parsing import MONTH_NUMBERS, cell_text

__all__ = ["find_period_in_text", "months_named"]

_FULL_MONTHS = {k: v for k, v in MONTH_NUMBERS.items() if len(k) > 4 or k in ("mei", "juni", "juli")}
_MONTH_ALT = "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True))
_FULL_DATE_RE = re.compile(
    r"(?<![0-9])[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}(?![0-9])"
    r"|(?<![0-9])[0-9]{4}([-/.])[0-9]{1,2}\1[0-9]{1,2}(?![0-9])"
    r"|(?<![0-9])[0-9]{4}_[0-9]{2}_[0-9]{2}(?![0-9])"
    rf"|(?<![0-9])[0-9]{{1,2}}[\s\-/.]*(?<![a-z])(?:{_MONTH_ALT})(?![a-z])\.?[\s\-/.,]*[0-9]{{4}}(?![0-9])",
    re.ASCII,
)
_PERIOD_NAME_RE = re.compile(
    rf"(?<![a-z])({_MONTH_ALT})(?![a-z])\.?[\s\-_.,/:]*((?:19|20)[0-9]{{2}})(?![0-9])", re.ASCII
)
_PERIOD_YM_RE = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})[-_./]?(0[1-9]|1[0-2])(?![0-9])", re.ASCII)
_PERIOD_MY_RE = re.compile(r"(?<![0-9])(0[1-9]|1[0-2])[-_/.]((?:19|20)[0-9]{2})(?![0-9])", re.ASCII)
_WORD_RE = re.compile(r"[a-z]+", re.ASCII)


def find_period_in_text(text: object) -> dt.date | None:
    """Find the one month-year named in a title block or file name, else None (none, or ambiguous).

    Full dates ("dicetak 02/05/2025", "register_2025-05-02.xlsx", "13 Maret 2025") are dates, not periods, and
    are ignored. A second, different month name without a year ("JANUARI - MARET 2025") makes it ambiguous.
    """
    mentions = _month_mentions(text)
    found = {(y, m) for _, y, m in mentions if y is not None}
    if len(found) != 1:
        return None
    year, month = found.pop()
    if any(m != month for _, y, m in mentions):
        return None
    return dt.date(year, month, 1)


def months_named(text: object) -> list[str]:
    """The words of a title or file name that name a month, as written ("mei", "2025-06"), when they name more
    than one month (why `find_period_in_text` found none: the clerk is told which words disagree); else []."""
    mentions = _month_mentions(text)
    dated = {(y, m) for _, y, m in mentions if y is not None}
    bare = {m for _, y, m in mentions if y is None} - {m for _, m in dated}     # a month named without its year
    if len(dated) + len(bare) < 2:
        return []
    return list(dict.fromkeys(w for w, _, _ in mentions))


def _month_mentions(text: object) -> list[tuple[str, int | None, int]]:
    """Each month a text names, in order: (the words as written, year or None, month). A full date is a date, not
    a month; a month's full name without a year ("Mei") counts, an abbreviation alone ("sep") does not."""
    s = cell_text(text)
    if s is None:
        return []
    shown = s if len(s.lower()) == len(s) else s.lower()      # the words as written (spans of the lowered text)
    s = _FULL_DATE_RE.sub(lambda m: " " * len(m[0]), s.lower())     # same length: spans stay those of the text
    found: list[tuple[int, str, int | None, int]] = []
    taken: list[tuple[int, int]] = []
    for rx, order in ((_PERIOD_NAME_RE, "ny"), (_PERIOD_YM_RE, "ym"), (_PERIOD_MY_RE, "my")):
        for m in rx.finditer(s):
            a, b = (m[1], m[2]) if order[0] != "y" else (m[2], m[1])      # (month, year)
            month = MONTH_NUMBERS[a] if order == "ny" else int(a)
            found.append((m.start(), shown[m.start():m.end()], int(b), month))
            taken.append(m.span())
    for m in _WORD_RE.finditer(s):
        w = m[0]
        if w in _FULL_MONTHS and w != "may" and not any(x <= m.start() < y for x, y in taken):
            found.append((m.start(), shown[m.start():m.end()], None, _FULL_MONTHS[w]))
    return [(w, y, mo) for _, w, y, mo in sorted(found, key=lambda f: f[0])]
