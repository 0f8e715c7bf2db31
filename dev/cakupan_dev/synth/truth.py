"""The ground truth: what was generated, written beside the deliveries as ground_truth.json."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from cakupan_dev.synth.spec import ym_str

GROUND_TRUTH_NAME = "ground_truth.json"


def finding(code: str, regency: str, ym: tuple[int, int]) -> dict:
    """A finding the pipeline must raise: code, regency and month (fct_audit_findings)."""
    return {"code": code, "regency_code": regency, "month": ym_str(ym)}


def record_delivery(truth: dict, path: Path, rel: str, source: str, regency_code: str, received: datetime, *,
                    period: str | None = None, fmt: str = "csv", rows_in: int = 0, reasons: list[str] | None = None,
                    supersedes: str | None = None, **more) -> None:
    """Date a written delivery (its modification time is when it was received) and list it in the ground truth."""
    ts = received.timestamp()
    os.utime(path, (ts, ts))
    reasons = reasons or []
    truth["files"].append({
        "path": rel, "source": source, "regency_code": regency_code, "period": period, "format": fmt,
        "rows_in": rows_in, "loaded": rows_in - len(reasons), "quarantined": len(reasons), "reasons": reasons,
        "supersedes": supersedes, "received_at": received.isoformat(), **more,
    })


def write_ground_truth(truth: dict, path: Path) -> Path:
    """Write the ground truth as UTF-8 JSON (stable key order, one entry per line for big lists)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(truth, f, ensure_ascii=False, indent=1)
        f.write("\n")
    return path


def load_ground_truth(path: Path) -> dict:
    """Read a ground truth written by `generate` (a directory means its ground_truth.json)."""
    path = Path(path)
    if path.is_dir():
        path = path / GROUND_TRUTH_NAME
    with open(path, encoding="utf-8") as f:
        return json.load(f)
