"""Kemendagri areas (vendored idn-area-data 4.0.1, ODbL) and name → code resolution."""

from __future__ import annotations

import csv
import re
from functools import cache

from cakupan.core.settings import REFERENCE_DIR

_PREFIXES = r"^(kabupaten|kab\.?|kota|kotamadya|kodya|provinsi|prov\.?)\s+"


def _read(name: str) -> list[dict[str, str]]:
    with open(REFERENCE_DIR / f"{name}.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@cache
def provinces() -> dict[str, str]:
    """Return province code → name."""
    return {r["code"]: r["name"] for r in _read("provinces")}


@cache
def regencies() -> dict[str, tuple[str, str]]:
    """Return regency code ("73.72") → (province code, name)."""
    return {r["code"]: (r["province_code"], r["name"]) for r in _read("regencies")}


@cache
def districts() -> dict[str, tuple[str, str]]:
    """Return district code → (regency code, name)."""
    return {r["code"]: (r["regency_code"], r["name"]) for r in _read("districts")}


@cache
def villages_by_district() -> dict[str, list[tuple[str, str]]]:
    """Return district code → [(village code, name)]."""
    out: dict[str, list[tuple[str, str]]] = {}
    for r in _read("villages"):
        out.setdefault(r["district_code"], []).append((r["code"], r["name"]))
    return out


def nik_prefixes() -> frozenset[str]:
    """Return the 4-digit NIK prefixes of every regency ("7372")."""
    return frozenset(code.replace(".", "") for code in regencies())


def fold_name(text: str) -> str:
    """Fold a region name for matching: case, punctuation and the Kab./Kota prefix removed."""
    s = re.sub(r"\s+", " ", str(text).strip().lower())
    s = re.sub(_PREFIXES, "", s)
    return re.sub(r"[^a-z0-9]", "", s)


@cache
def _names_index() -> dict[str, set[str]]:
    idx: dict[str, set[str]] = {}
    for code, (_, name) in regencies().items():
        idx.setdefault(fold_name(name), set()).add(code)
    return idx


def resolve_regency(text: object, aliases: dict[str, str] | None = None) -> str | None:
    """Resolve a regency name, alias or code ("Kab. Sidrap", "7314", "73.14") to its Kemendagri code, or None.

    `aliases` maps folded alias → code (from config/regencies/*.yml). A name shared by a Kabupaten and a Kota
    (e.g. "Bekasi") resolves only when the text says which, or an alias does.
    """
    if text is None:
        return None
    raw = str(text).strip()
    if not raw:
        return None
    digits = re.sub(r"[.\s]", "", raw)
    if re.fullmatch(r"\d{4}(\.0)?", digits) or re.fullmatch(r"\d{4}", digits.split(".")[0] if "." in raw else digits):
        d = digits[:4]
        code = f"{d[:2]}.{d[2:]}"
        if code in regencies():
            return code
    if re.fullmatch(r"\d{2}\.\d{2}", raw) and raw in regencies():
        return raw
    folded = fold_name(raw)
    if aliases and folded in aliases:
        return aliases[folded]
    lowered = raw.lower()
    candidates = _names_index().get(folded, set())
    if len(candidates) == 1:
        return next(iter(candidates))
    if len(candidates) > 1:
        want_kota = lowered.startswith("kota")
        want_kab = lowered.startswith("kab")
        for code in candidates:
            name = regencies()[code][1].lower()
            if (want_kota and name.startswith("kota")) or (want_kab and name.startswith("kabupaten")):
                return code
    return None


def regency_name(code: str) -> str:
    """Return the official name of a regency code."""
    return regencies()[code][1]
