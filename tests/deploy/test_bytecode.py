"""The project's own modules are compiled to bytecode by `make venv`, so that no process compiles them again.

`-e .` installs the package as source, and with PYTHONDONTWRITEBYTECODE set (CI and the development machine set it)
each ingest process, CLI call and Airflow task compiled every module it imported from source, and threw the result
away: 0.08 s an ingest process, up to 0.19 s a task importing the whole package. `make test` runs `make venv`
first, so here every module's cached bytecode must be current for its source as Python itself checks it.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TREES = ("include", "dags", "dev/cakupan_dev", "bench")


def _stale(source: Path) -> str | None:
    """Why Python would compile `source` again on import (None: its cached bytecode is current)."""
    cached = Path(importlib.util.cache_from_source(str(source)))
    if not cached.exists():
        return "no bytecode"
    head = cached.read_bytes()[:16]
    if head[:4] != importlib.util.MAGIC_NUMBER:
        return "bytecode of another Python"
    flags = int.from_bytes(head[4:8], "little")
    if flags & 1:       # hash-based (SOURCE_DATE_EPOCH set when it was made)
        return None if head[8:16] == importlib.util.source_hash(source.read_bytes()) else "source changed"
    st = source.stat()
    if (int.from_bytes(head[8:12], "little"), int.from_bytes(head[12:16], "little")) != (
            int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF):
        return "source changed"
    return None


def test_every_module_has_current_bytecode():
    sources = [p for tree in TREES for p in sorted((ROOT / tree).rglob("*.py")) if "/." not in str(p)]
    assert len(sources) > 150
    stale = {str(p.relative_to(ROOT)): why for p in sources if (why := _stale(p)) is not None}
    assert not stale, f"run `make venv` (it compiles them): {stale}"


def test_a_process_importing_the_loader_compiles_none_of_the_project(tmp_path):
    # Python's own loader, watched: every module it compiles from source in a fresh process, as an ingest imports
    probe = (
        "import importlib._bootstrap_external as b, sys\n"
        "compiled = []\n"
        "original = b.SourceLoader.source_to_code\n"
        "def watched(self, data, path, *a, **k):\n"
        "    compiled.append(path)\n"
        "    return original(self, data, path, *a, **k)\n"
        "b.SourceLoader.source_to_code = watched\n"
        "import cakupan.cli, cakupan.ingest.loader, cakupan.ingest.run, cakupan.orchestration\n"
        f"print('\\n'.join(p for p in compiled if p.startswith({str(ROOT)!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}, cwd=tmp_path)
    assert out.stdout.strip() == "", f"compiled from source: {out.stdout}"
    # and the watch sees a module whose bytecode is gone: this source, copied where none was compiled
    (tmp_path / "fresh_module.py").write_text("X = 1\n")
    out = subprocess.run([sys.executable, "-c", probe.replace("cakupan.orchestration", "cakupan.orchestration, "
                                                                "fresh_module").replace(repr(str(ROOT)),
                                                                                        repr(str(tmp_path)))],
                         capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(tmp_path)},
                         cwd=tmp_path)
    assert out.stdout.strip().endswith("fresh_module.py")
