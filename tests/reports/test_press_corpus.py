"""The press-release evaluation corpus (tests/fixtures/press) is complete and its labels follow the schema.

The corpus is hand-written Indonesian regional news with hand-made labels (README.md there); these tests check
the labels as data, never against the extractor: every text has a label file and every label file a text, each
label parses and uses only the schema's fields and values, every regency code exists in the Kemendagri
reference and lies in the labelled province, every `not_facts` phrase occurs in its text, dates written with a
weekday name fall on that weekday, and the corpus keeps its promised size and spread.
"""

from __future__ import annotations

import csv
import html
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PRESS = REPO / "tests" / "fixtures" / "press"
AREA = REPO / "include" / "cakupan" / "reference" / "idn-area-data"

KINDS = {"mou_signed", "extension", "audience", "budget_hearing", "percent_only", "no_facts", "two_regencies",
         "html_page", "other"}
FACT_KINDS = {"count", "participation_rate", "budget", "branch"}
ROLES = {"previous", "total", "part", "target", "stated"}
FACT_KEYS = {"regency_code", "fact_kind", "role", "segment", "value", "effective_month"}
FACT_OPTIONAL = {"event_date", "scope"}
TOP_KEYS = {"province", "kind_of_text", "published", "facts"}
TOP_OPTIONAL = {"not_facts"}
NAME = re.compile(r"^(\d{3})_([a-z0-9-]+)_([a-z0-9-]+)\.(txt|html|yml)$")
WEEKDAYS = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
          "November", "Desember"]
# "Kamis (25/7)", "Selasa (14/1/2025)", "Rabu (10/12/2025)"
NUMERIC_DATE = re.compile(rf"\b({'|'.join(WEEKDAYS)})\s*\((\d{{1,2}})/(\d{{1,2}})(?:/(\d{{4}}))?\)")
# "Rabu, 5 Februari 2025", "Kamis 6 Februari 2025"
WORDED_DATE = re.compile(rf"\b({'|'.join(WEEKDAYS)}),?\s+(\d{{1,2}})\s+({'|'.join(MONTHS)})\s+(\d{{4}})\b")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _reference() -> tuple[dict[str, str], dict[str, str]]:
    with (AREA / "provinces.csv").open(encoding="utf-8") as fh:
        provinces = {row["name"]: row["code"] for row in csv.DictReader(fh)}
    with (AREA / "regencies.csv").open(encoding="utf-8") as fh:
        regencies = {row["code"]: row["province_code"] for row in csv.DictReader(fh)}
    return provinces, regencies


def _segments() -> set[str]:
    sectors = yaml.safe_load((REPO / "config" / "sectors.yml").read_text(encoding="utf-8"))["sectors"]
    return {"pekerja_rentan", "all_segments"} | {s["code"] for s in sectors}


def _texts() -> list[Path]:
    return sorted(p for p in PRESS.iterdir() if p.suffix in {".txt", ".html"})


def _labels(text: Path) -> dict:
    return yaml.safe_load(text.with_suffix(".yml").read_text(encoding="utf-8"))


def _plain(text: Path) -> str:
    """The text with whitespace collapsed (hard-wrapped lines join) and, for HTML, entities decoded."""
    raw = text.read_text(encoding="utf-8")
    if text.suffix == ".html":
        raw = html.unescape(raw)
    return " ".join(raw.split())


TEXTS = _texts()


def test_every_text_has_labels_and_every_label_a_text():
    stems_text = {p.stem for p in TEXTS}
    stems_yml = {p.stem for p in PRESS.glob("*.yml")}
    assert stems_text == stems_yml, (sorted(stems_text - stems_yml), sorted(stems_yml - stems_text))
    numbers = [NAME.match(p.name).group(1) for p in TEXTS]
    assert len(numbers) == len(set(numbers)), "two texts share a number"
    assert all(int(n) >= 200 for n in numbers)


def test_corpus_size_and_spread():
    provinces = {_labels(p)["province"] for p in TEXTS}
    kinds = {_labels(p)["kind_of_text"] for p in TEXTS}
    assert len(TEXTS) >= 60
    assert len(provinces) >= 25, sorted(provinces)
    assert sum(p.suffix == ".html" for p in TEXTS) >= 12
    assert kinds == KINDS, sorted(KINDS - kinds)


@pytest.mark.parametrize("text", TEXTS, ids=lambda p: p.name)
def test_labels_follow_the_schema(text):
    provinces, regencies = _reference()
    segments = _segments()
    labels = _labels(text)
    plain = _plain(text)

    assert NAME.match(text.name), "file name must be NNN_<province-slug>_<topic>.txt|html"
    assert TOP_KEYS <= set(labels) <= TOP_KEYS | TOP_OPTIONAL, set(labels) ^ TOP_KEYS
    assert labels["province"] in provinces, labels["province"]
    assert NAME.match(text.name).group(2) == _slug(labels["province"])
    assert labels["kind_of_text"] in KINDS
    assert labels["kind_of_text"] != "html_page" or text.suffix == ".html"
    published = labels["published"]
    assert published is None or isinstance(published, date)
    facts = labels["facts"]
    assert isinstance(facts, list)
    assert (labels["kind_of_text"] == "no_facts") <= (facts == [])

    keys = []
    for fact in facts:
        assert FACT_KEYS <= set(fact) <= FACT_KEYS | FACT_OPTIONAL, fact
        code, kind, role, segment, value, month = (fact[k] for k in
                                                   ("regency_code", "fact_kind", "role", "segment", "value",
                                                    "effective_month"))
        assert isinstance(code, str) and code in regencies, code
        assert regencies[code] == provinces[labels["province"]], f"{code} is not in {labels['province']}"
        assert kind in FACT_KINDS and role in ROLES
        if kind == "branch":
            assert role == "stated" and segment is None
            assert isinstance(value, str) and value.startswith("Kantor Cabang ")
            assert value.removeprefix("Kantor Cabang ").lower() in plain.lower()
        else:
            assert segment in segments, segment
            assert isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
        if kind == "count":
            assert isinstance(value, int)
        if kind == "participation_rate":
            assert 0 < value <= 100 and fact.get("scope") == "local", "national targets belong in not_facts"
            assert segment in {"all_segments", "pekerja_rentan"}
        else:
            assert "scope" not in fact
        if month is not None:
            assert isinstance(month, str) and re.fullmatch(r"20\d\d-(0[1-9]|1[0-2])", month), month
            assert kind == "count" and role in {"total", "target", "part"}, "only promises carry a start month"
        event = fact.get("event_date")
        if event is not None:
            assert isinstance(event, date)
            assert published is None or event <= published
        keys.append((code, kind, role, segment, Decimal(str(value)) if kind != "branch" else value, month))
    assert len(keys) == len(set(keys)), "a fact is listed twice"

    for item in labels.get("not_facts") or []:
        assert set(item) == {"text", "why"} and item["why"].strip()
        assert " ".join(item["text"].split()) in plain, item["text"]


@pytest.mark.parametrize("text", TEXTS, ids=lambda p: p.name)
def test_dates_with_a_weekday_fall_on_it(text):
    """A reader resolves "Kamis (25/7)" with the weekday and the dateline: the corpus never contradicts itself."""
    plain = _plain(text)
    published = _labels(text)["published"]
    for day_name, d, m, y in NUMERIC_DATE.findall(plain):
        if y:
            when = date(int(y), int(m), int(d))
        elif published is not None:
            when = date(published.year, int(m), int(d))
            if when > published:
                when = date(published.year - 1, int(m), int(d))
        else:
            continue
        assert WEEKDAYS[when.weekday()] == day_name, f"{day_name} ({d}/{m}) is a {WEEKDAYS[when.weekday()]}"
    for day_name, d, month, y in WORDED_DATE.findall(plain):
        when = date(int(y), MONTHS.index(month) + 1, int(d))
        assert WEEKDAYS[when.weekday()] == day_name, f"{day_name}, {d} {month} {y}"
