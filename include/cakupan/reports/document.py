"""Read a narrative report (TXT or HTML) and tell its article text from page furniture.

Offsets: for TXT every offset is a character offset into the decoded original file text. For HTML the page is
first reduced to its visible body text (``html_to_text``) and offsets point into that extracted text, which
``load_document`` returns as ``Document.text`` so the sentence can always be cut out again.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from cakupan.reports.lexicon import DATE_DMY, DATE_ISO, DATE_TEXT

TEXT_SUFFIXES = {".txt", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}

# Block kinds
BODY = "body"  # an article paragraph: the only place facts come from
TITLE = "title"  # a headline before the article body (regency and event hints, never numbers)
DATELINE = "dateline"  # "Parepare · 28 Apr 2025 10:09 WITA ·" before the body
HEADING = "heading"  # a short unpunctuated line inside the article (sub-heading)
FURNITURE = "furniture"  # menus, related-article lists, badges, footers, share buttons


@dataclass(frozen=True)
class Block:
    """One line of the document with its kind and offsets into ``Document.text``."""

    start: int
    end: int
    kind: str
    reason: str = ""


@dataclass(frozen=True)
class Document:
    """A report's text (original TXT, or the extracted HTML body text) and its classified lines."""

    source_file: str
    stem: str
    fmt: str
    text: str
    blocks: list[Block] = field(default_factory=list)

    def of_kind(self, *kinds: str) -> list[Block]:
        """Return the blocks of the given kinds, in order."""
        return [b for b in self.blocks if b.kind in kinds]


# --- text-level furniture ------------------------------------------------------------------------------------
_FURNITURE_LINE = re.compile(
    r"^(?:menu|mode gelap|mode terang|tutup|perbesar|badge-check|penulis|editor|redaktur|reporter|"
    r"bagikan|bagikan ke\b.*|share\b.*|tweet|komentar|beranda|home|login|masuk|daftar|cari|search|"
    r"trending\b.*|terpopuler\b.*|populer\b.*|terkini|sorry\.? no data so far\.?|no data so far\.?|"
    r"artikel ini telah dibaca\b.*|telah dibaca \d.*|dibaca \d.*|copyright\b.*|©.*|\(c\)\s*\d{4}.*|"
    r"hak cipta\b.*|all rights? reserved.*|tags?\s*:.*|topik\s*:.*|(?:editor|penulis|reporter|redaktur|"
    r"pewarta|sumber|foto|video|caption)\s*:.*|(?:ikuti|follow)\b.*|facebook|twitter|whatsapp|telegram|"
    r"linkedin|instagram|x|email|salin tautan|copy link|kembali ke atas|back to top|iklan|advertisement|"
    r"scroll to continue.*|redaksi|pedoman media siber|tentang kami|kontak|disclaimer|kebijakan privasi|"
    r"indeks berita|indeks|loading\.*)\s*$",
    re.IGNORECASE,
)
_RELATED_INLINE = re.compile(
    r"^(?:baca juga|baca lainnya|baca lagi|lihat juga|simak juga|berita terkait|artikel terkait)\s*[:\-–—]\s*\S",
    re.IGNORECASE,
)
_RELATED_HEADING = re.compile(
    r"^(?:baca juga|baca lainnya|baca lagi|lihat juga|simak juga|berita terkait|artikel terkait|"
    r"berita lainnya|berita terbaru|berita terkini|rekomendasi|pilihan redaksi|terpopuler|populer|"
    r"trending(?:\s+di\s+\w+)?|paling banyak dibaca|most popular|related posts?)\s*:?\s*$",
    re.IGNORECASE,
)
_CAPTION = re.compile(r"(?:\bperbesar\s*$|^\s*\(?(?:foto|ilustrasi|dok\.?)\s*[:/])", re.IGNORECASE)
_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}\s*(?:WITA|WIB|WIT)?\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"""[.!?]["'”’)\]]*\s*$|["”’]\s*$""")
_WORDS = re.compile(r"\w+")

TICKER_CHARS = 150  # an unpunctuated line longer than this before the body is a run of headlines
PARAGRAPH_WORDS = 15  # an unpunctuated line with at least this many words is still a paragraph


def _is_datetime_line(line: str) -> bool:
    """Return True for a line that is only a place, a date and a time ("7 Maret 2026 - 19:06 WITA")."""
    spans = [m.span() for rx in (DATE_TEXT, DATE_DMY, DATE_ISO) for m in rx.finditer(line)]
    if not spans:
        return False
    rest = line
    for s, e in sorted(spans, reverse=True):
        rest = rest[:s] + " " + rest[e:]
    rest = _TIME.sub(" ", rest)
    rest = re.sub(
        r"\b(?:WITA|WIB|WIT|pukul|jam|diperbarui|dipublikasikan|terbit|update[d]?)\b",
        " ",
        rest,
        flags=re.IGNORECASE,
    )
    return len(_WORDS.findall(rest)) <= 3


WRAP_MIN = 45  # a hard-wrapped line is at least this long; the last line of a paragraph may be shorter
_LIST_ITEM = re.compile(r"^\s*(?:[-•*▪►]|\d+[.)]\s|baca juga|baca lainnya|berita terkait)", re.IGNORECASE)


def _line_spans(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) of every non-blank line, stripped."""
    spans, pos = [], 0
    for raw in text.split("\n"):
        start = pos
        pos += len(raw) + 1
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            spans.append((start + lead, start + lead + len(stripped)))
    return spans


def _is_hard_wrapped(text: str, lines: list[tuple[int, int]]) -> bool:
    """Return True for a text reflowed into short lines: several long lines run on into a line starting lowercase."""
    runs_on = 0
    for (s, e), (s2, _) in itertools.pairwise(lines):
        adjacent = "\n\n" not in text[e:s2] and text[e:s2].count("\n") == 1
        if adjacent and e - s >= WRAP_MIN and text[s2].islower() and not _SENTENCE_END.search(text[s:e]):
            runs_on += 1
    return runs_on >= 2


def logical_lines(text: str) -> list[tuple[int, int]]:
    """Return the spans of the text's paragraphs: its lines, or in a hard-wrapped text (a press release reflowed
    to ~70 characters) the runs of wrapped lines joined back into one paragraph, offsets still into ``text``."""
    lines = _line_spans(text)
    if not _is_hard_wrapped(text, lines):
        return lines
    out: list[tuple[int, int]] = []
    for s, e in lines:
        if out:
            ps, pe = out[-1]
            gap = text[pe:s]
            if (gap.count("\n") == 1 and pe - _last_line_start(text, pe) >= WRAP_MIN
                    and not _LIST_ITEM.match(text[s:e]) and not _FURNITURE_LINE.match(text[ps:pe])):
                out[-1] = (ps, e)
                continue
        out.append((s, e))
    return out


def _last_line_start(text: str, end: int) -> int:
    return text.rfind("\n", 0, end) + 1


def classify_lines(text: str) -> list[Block]:
    """Split text into paragraphs (``logical_lines``) and label each as body, title, dateline, heading or furniture."""
    blocks: list[Block] = []
    body_started = False
    in_related = False
    for s, e in logical_lines(text):
        stripped = re.sub(r"\s*\n\s*", " ", text[s:e])
        words = len(_WORDS.findall(stripped))
        punctuated = bool(_SENTENCE_END.search(stripped))
        paragraph = (punctuated and words >= 4) or words >= PARAGRAPH_WORDS

        def add(kind: str, reason: str = "", s: int = s, e: int = e) -> None:
            blocks.append(Block(s, e, kind, reason))

        if _RELATED_HEADING.match(stripped):
            in_related = True
            add(FURNITURE, "related-articles heading")
        elif _FURNITURE_LINE.match(stripped):
            add(FURNITURE, "page furniture")
        elif _RELATED_INLINE.match(stripped):
            add(FURNITURE, "related-article link")
        elif _CAPTION.search(stripped):
            add(FURNITURE, "image caption control")
        elif _is_datetime_line(stripped):
            if body_started or in_related:
                add(FURNITURE, "timestamp of another article")
            else:
                add(DATELINE, "dateline")
        elif in_related:
            if paragraph and punctuated and words >= PARAGRAPH_WORDS:
                in_related = False
                body_started = True
                add(BODY)
            else:
                add(FURNITURE, "related-article headline")
        elif paragraph and (body_started or punctuated):
            body_started = True
            add(BODY)
        elif not body_started:
            if len(stripped) > TICKER_CHARS:
                add(FURNITURE, "run of headlines")
            else:
                add(TITLE, "headline")
        else:
            add(HEADING, "short line inside the article")
    return blocks


# --- sentences -----------------------------------------------------------------------------------------------
_ABBREV = {
    "pj",
    "drs",
    "dra",
    "dr",
    "ir",
    "h",
    "hj",
    "st",
    "sh",
    "se",
    "s",
    "m",
    "si",
    "mm",
    "msi",
    "mpd",
    "spd",
    "kab",
    "prov",
    "kec",
    "kel",
    "jl",
    "jln",
    "no",
    "nomor",
    "bpk",
    "ibu",
    "sdr",
    "dll",
    "dsb",
    "tsb",
    "a",
    "b",
    "prof",
    "kh",
    "ust",
    "mr",
    "mrs",
    "dkk",
    "vs",
    "tgl",
    "telp",
    "hlm",
    "ttd",
    "an",
    "plt",
    "plh",
    "kapt",
}
_SPLIT = re.compile(r"""(?<=[.!?])["'”’)\]]*\s+(?=["'“‘(\[]*[A-Z0-9])""")


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split text[start:end] into sentence spans (absolute offsets), keeping abbreviations such as "Pj." whole."""
    spans: list[tuple[int, int]] = []
    cur = start
    for m in _SPLIT.finditer(text, start, end):
        before = text[cur : m.start()]
        last = re.search(r"([\w.]+)[.!?]$", before.rstrip("\"'”’)]"))
        word = last.group(1).lower().replace(".", "") if last else ""
        if word in _ABBREV or (last and len(last.group(1)) <= 2 and last.group(1)[:1].isupper()):
            continue
        spans.append((cur, m.start()))
        cur = m.end()
    if cur < end:
        spans.append((cur, end))
    return [(s, e) for s, e in spans if text[s:e].strip()]


# --- HTML ----------------------------------------------------------------------------------------------------
_SKIP_TAGS = {
    "script",
    "style",
    "noscript",
    "nav",
    "footer",
    "aside",
    "form",
    "button",
    "svg",
    "iframe",
    "template",
    "select",
    "head",
    "menu",
    "dialog",
    "object",
    "embed",
    "canvas",
    "marquee",
}
_VOID_TAGS = {
    "br",
    "img",
    "meta",
    "link",
    "input",
    "hr",
    "area",
    "base",
    "col",
    "embed",
    "source",
    "track",
    "wbr",
}
_BLOCK_TAGS = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "tr",
    "table",
    "blockquote",
    "figure",
    "figcaption",
    "header",
    "dd",
    "dt",
    "dl",
    "pre",
    "address",
    "td",
    "th",
}
_FURNITURE_ATTR = re.compile(
    r"menu|navbar|navigation|breadcrumb|related|terkait|bacajuga|baca-juga|baca_juga|readmore|read-more|"
    r"share|sharing|social|sosmed|footer|sidebar|widget|comment|komentar|advert|banner|popular|populer|"
    r"trending|newsletter|subscribe|copyright|author|byline|badge|cookie|modal|popup|recommend|"
    r"rekomendasi|tags|taglist|pagination|viewcount|dibaca|ticker|breaking|marquee|running-?text",
    re.IGNORECASE,
)
_FURNITURE_TOKEN = re.compile(r"(?:^|[\s_-])(?:nav|ads?|tag|iklan|sr-only)(?:$|[\s_-])", re.IGNORECASE)


def _is_furniture_element(tag: str, attrs: dict[str, str | None], ancestors: list[str]) -> bool:
    if tag in _SKIP_TAGS:
        return True
    if tag == "header" and not ({"article", "main"} & set(ancestors)):
        return True  # the site header; an <article>'s own <header> holds its title and date and is kept
    if attrs.get("hidden") is not None or (attrs.get("aria-hidden") or "").lower() == "true":
        return True
    if (attrs.get("role") or "").lower() in {"navigation", "banner", "contentinfo", "complementary", "menu"}:
        return True
    marks = " ".join(v or "" for k, v in attrs.items() if k in ("class", "id"))
    return bool(_FURNITURE_ATTR.search(marks) or _FURNITURE_TOKEN.search(marks))


class _TextExtractor(HTMLParser):
    """Collect the visible text of an HTML page, one line per block element, minus furniture elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.lines: list[str] = []
        self.buf: list[str] = []

    def _skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def _flush(self) -> None:
        line = re.sub(r"\s+", " ", "".join(self.buf)).strip()
        if line:
            self.lines.append(line)
        self.buf = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        if tag in _BLOCK_TAGS or tag == "br":
            self._flush()
        if tag in _VOID_TAGS:
            return
        skip = _is_furniture_element(tag, dict(attrs), [t for t, _ in self.stack])
        self.stack.append((tag, skip))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag.lower() in _BLOCK_TAGS or tag.lower() == "br":
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        tag = tag.lower()
        if tag in _VOID_TAGS:
            return
        if any(t == tag for t, _ in self.stack):
            while self.stack:
                t, _ = self.stack.pop()
                if t == tag:
                    break
        if tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skipping():
            self.buf.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def html_to_text(html: str) -> str:
    """Return the visible article text of an HTML page: one line per block, furniture elements dropped."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return "\n".join(parser.lines) + ("\n" if parser.lines else "")


# --- loading -------------------------------------------------------------------------------------------------
def decode(data: bytes) -> str:
    """Decode file bytes as UTF-8 (BOM kept as a character, so offsets stay true), else Windows-1252."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def looks_like_html(text: str) -> bool:
    """Return True if text is an HTML page rather than plain text."""
    head = text.lstrip("\ufeff \t\r\n")[:500].lower()
    return head.startswith(("<!doctype html", "<html")) or bool(re.search(r"<(?:body|article|div|p)\b", head))


def detect_format(path: Path, text: str) -> str:
    """Return "txt", "html" or the (unsupported) suffix of a report file."""
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in TEXT_SUFFIXES:
        return "html" if looks_like_html(text) else "txt"
    return suffix.lstrip(".") or "unknown"


def document_from_text(text: str, source_file: str, fmt: str = "txt") -> Document:
    """Build a classified document from already-decoded text ("txt") or HTML source ("html")."""
    body = html_to_text(text) if fmt == "html" else text
    return Document(source_file, Path(source_file).stem, fmt, body, classify_lines(body))


def load_document(path: Path) -> Document:
    """Read a TXT or HTML report into a classified document (raises ValueError for other formats)."""
    path = Path(path)
    text = decode(path.read_bytes())
    fmt = detect_format(path, text)
    if fmt not in ("txt", "html"):
        raise ValueError(f"{path.name}: '.{fmt}' reports are not read (send TXT or HTML)")
    return document_from_text(text, path.name, fmt)
