"""Small file helpers shared by ingest, publish and the report."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import yaml

# libyaml's parser when PyYAML was built with it (the wheels are): the same safe constructor, ~10x faster. The 514
# regency files are read on every build (configuration and the narrative extractor): 0.5 s with the pure-Python one.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str):
    """`yaml.safe_load`, with libyaml's parser when available (raises yaml.YAMLError as safe_load does)."""
    return yaml.load(text, Loader=_SAFE_LOADER)


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fsync_file(path: Path) -> None:
    """Flush a file and its folder's entry to disk, so a rename or a new file survives a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
