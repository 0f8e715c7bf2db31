"""The repository's `.env`, read by the CLI before anything else (issue 24: the CLI reads what docker compose reads)."""

from __future__ import annotations

from pathlib import Path

ENV_PATHS = ("CAKUPAN_HOME", "CAKUPAN_INBOX", "CAKUPAN_CONFIG", "CAKUPAN_DBT_MANIFEST")


def read_env_file() -> Path | None:
    """Read the repository's `.env` (or the file CAKUPAN_ENV_FILE names) into the environment, under variables
    already set; a relative path in it (CAKUPAN_HOME=./var) is relative to the file's folder, the repository, not
    to the current directory. Returns the file read, if any."""
    import os

    from cakupan.core.settings import PROJECT_ROOT

    path = Path(os.environ.get("CAKUPAN_ENV_FILE") or PROJECT_ROOT / ".env")
    if not path.is_file():
        return None
    from dotenv import dotenv_values

    for key, value in dotenv_values(path).items():
        if key in os.environ or value is None:
            continue
        if key in ENV_PATHS and value and not Path(value).expanduser().is_absolute():
            value = str((path.parent / value).resolve())
        os.environ[key] = value
    return path
