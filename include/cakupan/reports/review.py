"""Human review of extracted facts: config/report_facts.yml accepts, corrects or rejects them by id.

A fact whose confidence is at least ``auto_accept_confidence`` is accepted unless a decision says otherwise;
below it the fact stays "proposed" (not used downstream) until someone accepts or corrects it. Every decision
keeps who decided, when and why, so an auditor can see where a figure came from.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from cakupan.core.files import load_yaml
from cakupan.core.messages import Msg
from cakupan.reports.facts import Fact, legacy_fact_id

ACCEPTED = "accepted"
REJECTED = "rejected"
PROPOSED = "proposed"

DECISIONS = ("accept", "correct", "reject")
_DECISION_KEYS = {"fact_id", "decision", "value", "effective_month", "by", "at", "why"}
_TOP_KEYS = {"auto_accept_confidence", "decisions"}
AUTO_REVIEWER = "auto"


class ReviewFileError(ValueError):
    """The review file is missing, unreadable or has a bad key; the message names the file and the key."""


@dataclass(frozen=True)
class Decision:
    """One reviewer's decision about one fact."""

    fact_id: str
    decision: str  # accept | correct | reject
    by: str
    at: date | datetime
    why: str
    value: int | Decimal | str | None = None
    effective_month: date | None = None


@dataclass(frozen=True)
class ReviewConfig:
    """The auto-accept threshold and the decisions, by fact id."""

    auto_accept_confidence: float | None  # None: nothing is accepted without a decision
    decisions: dict[str, Decision] = field(default_factory=dict)
    source: str = ""


@dataclass(frozen=True)
class ReviewedFact:
    """A fact with its review status, the value to use (corrected or as extracted) and the decision's trail."""

    fact: Fact
    status: str  # accepted | rejected | proposed
    value: int | Decimal | str
    effective_month: date | None
    decision: str | None  # accept | correct | reject | auto | None
    reviewed_by: str | None
    reviewed_at: date | datetime | None
    review_why: str | None

    @property
    def fact_id(self) -> str:
        return self.fact.fact_id

    @property
    def used(self) -> bool:
        """Return True if downstream steps may use this fact."""
        return self.status == ACCEPTED


# --- reading the file ----------------------------------------------------------------------------------------
def _where(path: Path, index: int | None, key: str) -> str:
    return f"{path}: " + (f"decisions[{index}].{key}" if index is not None else key)


def _month(raw: object, path: Path, index: int) -> date:
    where = _where(path, index, "effective_month")
    if isinstance(raw, datetime):
        return raw.date().replace(day=1)
    if isinstance(raw, date):
        return raw.replace(day=1)
    text = str(raw).strip()
    for fmt in ("%Y-%m", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date().replace(day=1)
        except ValueError:
            continue
    raise ReviewFileError(Msg("error.review.month", where=where, value=repr(raw)))


def _when(raw: object, path: Path, index: int) -> date | datetime:
    where = _where(path, index, "at")
    if isinstance(raw, (date, datetime)):
        return raw
    try:
        text = str(raw).strip()
        return datetime.fromisoformat(text) if "T" in text or " " in text else date.fromisoformat(text)
    except ValueError:
        raise ReviewFileError(Msg("error.review.date", where=where, value=repr(raw))) from None


def _value(raw: object, path: Path, index: int) -> int | Decimal | str:
    where = _where(path, index, "value")
    if isinstance(raw, bool):
        raise ReviewFileError(Msg("error.review.value", where=where, value=repr(raw)))
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return Decimal(str(raw))
    if isinstance(raw, str) and raw.strip():
        try:
            return Decimal(raw.strip())
        except InvalidOperation:
            return raw.strip()  # a text value (branch name); numeric facts check this in apply
    raise ReviewFileError(Msg("error.review.value", where=where, value=repr(raw)))


def _decision(item: object, path: Path, index: int) -> Decision:
    if not isinstance(item, dict):
        raise ReviewFileError(Msg("error.review.decision_mapping", path=path, index=index))
    unknown = set(item) - _DECISION_KEYS
    if unknown:
        raise ReviewFileError(Msg("error.review.unknown_key", where=_where(path, index, min(unknown)),
                                  keys=", ".join(sorted(_DECISION_KEYS))))
    for key in ("fact_id", "decision", "by", "at", "why"):
        if item.get(key) in (None, ""):
            raise ReviewFileError(Msg("error.review.missing", where=_where(path, index, key)))
    kind = str(item["decision"]).strip().lower()
    if kind not in DECISIONS:
        raise ReviewFileError(Msg("error.review.decision", where=_where(path, index, "decision"),
                                  value=repr(item["decision"]), decisions=", ".join(DECISIONS)))
    value = _value(item["value"], path, index) if item.get("value") is not None else None
    month = _month(item["effective_month"], path, index) if item.get("effective_month") is not None else None
    if kind == "correct" and value is None and month is None:
        raise ReviewFileError(Msg("error.review.correction", where=_where(path, index, "value")))
    if kind != "correct" and (value is not None or month is not None):
        key = "value" if value is not None else "effective_month"
        raise ReviewFileError(Msg("error.review.only_correct", where=_where(path, index, key)))
    return Decision(
        str(item["fact_id"]).strip(),
        kind,
        str(item["by"]).strip(),
        _when(item["at"], path, index),
        str(item["why"]).strip(),
        value,
        month,
    )


def load_review(path: Path) -> ReviewConfig:
    """Read and check a review file (config/report_facts.yml); raise ReviewFileError naming file and key."""
    path = Path(path)
    if not path.exists():
        raise ReviewFileError(Msg("error.review.no_file", path=path))
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ReviewFileError(Msg("error.config.not_yaml", path=path, error=exc)) from exc
    if not isinstance(data, dict):
        raise ReviewFileError(Msg("error.review.top", path=path))
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ReviewFileError(Msg("error.review.unknown_key", where=f"{path}: {min(unknown)}",
                                  keys=", ".join(sorted(_TOP_KEYS))))
    if "auto_accept_confidence" not in data:
        raise ReviewFileError(Msg("error.review.no_threshold", path=path))
    threshold = data["auto_accept_confidence"]
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise ReviewFileError(Msg("error.review.threshold", path=path, value=repr(threshold)))
    items = data.get("decisions")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise ReviewFileError(Msg("error.review.decisions_list", path=path))
    decisions: dict[str, Decision] = {}
    for i, item in enumerate(items):
        d = _decision(item, path, i)
        if d.fact_id in decisions:
            raise ReviewFileError(Msg("error.review.twice", where=_where(path, i, "fact_id"), fact=repr(d.fact_id)))
        decisions[d.fact_id] = d
    return ReviewConfig(float(threshold), decisions, str(path))


# --- applying it ---------------------------------------------------------------------------------------------
def _corrected_value(fact: Fact, d: Decision, source: str) -> int | Decimal | str:
    if d.value is None:
        return fact.value
    numeric = fact.unit != "text"
    if numeric and isinstance(d.value, str):
        raise ReviewFileError(Msg("error.review.not_number", source=source, value=repr(d.value), fact=d.fact_id,
                                  kind=fact.fact_kind))
    if not numeric:
        return str(d.value)
    if fact.unit == "workers":
        if Decimal(d.value) != Decimal(d.value).to_integral_value():
            raise ReviewFileError(Msg("error.review.not_whole", source=source, value=d.value, fact=d.fact_id))
        return int(d.value)
    return Decimal(d.value)


def review_facts(facts: list[Fact], config: ReviewConfig) -> list[ReviewedFact]:
    """Give each fact its status from the decisions and the auto-accept threshold.

    A decision is found by the fact's id, else by its older id (file stem and rank) when exactly one fact has it:
    decisions written before ids named the report's path still apply, and never to two facts."""
    out: list[ReviewedFact] = []
    legacy = Counter(legacy_fact_id(f) for f in facts)
    for f in facts:
        d = config.decisions.get(f.fact_id)
        if d is None and legacy[old := legacy_fact_id(f)] == 1:
            d = config.decisions.get(old)
        if d is not None:
            status = REJECTED if d.decision == "reject" else ACCEPTED
            value = _corrected_value(f, d, config.source) if d.decision == "correct" else f.value
            month = d.effective_month if d.effective_month is not None else f.effective_month
            out.append(ReviewedFact(f, status, value, month, d.decision, d.by, d.at, d.why))
        elif config.auto_accept_confidence is not None and f.confidence >= config.auto_accept_confidence:
            why = (
                f"confidence {f.confidence:.2f} >= auto_accept_confidence {config.auto_accept_confidence:.2f}"
            )
            out.append(
                ReviewedFact(f, ACCEPTED, f.value, f.effective_month, "auto", AUTO_REVIEWER, None, why)
            )
        else:
            out.append(ReviewedFact(f, PROPOSED, f.value, f.effective_month, None, None, None, None))
    return out


def apply_review(facts: list[Fact], review_path: Path) -> list[ReviewedFact]:
    """Apply the review file to the facts: accepted, rejected or proposed, with corrections and their trail."""
    return review_facts(facts, load_review(review_path))

