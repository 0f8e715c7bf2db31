"""Where the PostgreSQL warehouse is: connection settings from the environment, a DSN or an Airflow connection,
the variables dbt's profile reads, and a connection."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from cakupan.core.messages import Msg
from cakupan.core.settings import Settings, SettingsError

DEFAULT_CONN_ID = "cakupan_postgres"


class PgError(RuntimeError):
    """A PostgreSQL step failed; the message says which and why."""


@dataclass(frozen=True)
class PgParams:
    """Where the PostgreSQL warehouse is; built by `pg_params()` from the environment or an Airflow connection."""

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "cakupan"
    password: str = dataclasses.field(default="", repr=False)
    dbname: str = "cakupan"
    sslmode: str | None = None
    source: str = "defaults"

    def connect_kwargs(self) -> dict:
        kw = {"host": self.host, "port": self.port, "user": self.user, "dbname": self.dbname}
        if self.password:
            kw["password"] = self.password
        if self.sslmode:
            kw["sslmode"] = self.sslmode
        return kw

    def sqlalchemy_url(self) -> str:
        """SQLAlchemy URL (psycopg2 driver) for GX's SQL datasource."""
        from sqlalchemy.engine import URL

        url = URL.create("postgresql+psycopg2", username=self.user, password=self.password or None,
                         host=self.host, port=self.port, database=self.dbname,
                         query={"sslmode": self.sslmode} if self.sslmode else {})
        return url.render_as_string(hide_password=False)


def _from_uri(uri: str, source: str) -> PgParams:
    u = urlparse(uri)
    if u.scheme not in ("postgres", "postgresql", "postgresql+psycopg2"):
        raise SettingsError(Msg("error.pg.not_uri", source=source, scheme=repr(u.scheme)))
    q = dict(p.split("=", 1) for p in u.query.split("&") if "=" in p)
    return PgParams(host=u.hostname or "127.0.0.1", port=u.port or 5432, user=unquote(u.username or "cakupan"),
                    password=unquote(u.password or ""), dbname=unquote(u.path.lstrip("/")) or "cakupan",
                    sslmode=q.get("sslmode"), source=source)


def _from_dsn(dsn: str, source: str) -> PgParams:
    if "://" in dsn:
        return _from_uri(dsn, source)
    from psycopg2.extensions import parse_dsn

    d = parse_dsn(dsn)
    return PgParams(host=d.get("host", "127.0.0.1"), port=int(d.get("port", 5432)), user=d.get("user", "cakupan"),
                    password=d.get("password", ""), dbname=d.get("dbname", "cakupan"), sslmode=d.get("sslmode"),
                    source=source)


def _from_airflow_conn(conn_id: str) -> PgParams | None:
    """An Airflow connection: AIRFLOW_CONN_<ID> (URI or JSON) without importing Airflow, else Airflow's lookup."""
    raw = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if raw:
        raw = raw.strip()
        if raw.startswith("{"):
            d = json.loads(raw)
            extra = d.get("extra") or {}
            extra = json.loads(extra) if isinstance(extra, str) else extra
            return PgParams(host=d.get("host") or "127.0.0.1", port=int(d.get("port") or 5432),
                            user=d.get("login") or "cakupan", password=d.get("password") or "",
                            dbname=d.get("schema") or "cakupan", sslmode=extra.get("sslmode"),
                            source=f"AIRFLOW_CONN_{conn_id.upper()}")
        return _from_uri(raw, f"AIRFLOW_CONN_{conn_id.upper()}")
    if not (os.environ.get("AIRFLOW_HOME") or os.environ.get("AIRFLOW__CORE__DAGS_FOLDER")):
        return None  # not running under Airflow: do not import it
    try:
        try:
            from airflow.sdk import BaseHook
        except ImportError:  # Airflow 2
            from airflow.hooks.base import BaseHook
        c = BaseHook.get_connection(conn_id)
    except Exception:  # noqa: BLE001 - no such connection, or no Airflow context: fall back to the defaults
        return None
    extra = c.extra_dejson if hasattr(c, "extra_dejson") else {}
    return PgParams(host=c.host or "127.0.0.1", port=int(c.port or 5432), user=c.login or "cakupan",
                    password=c.password or "", dbname=c.schema or "cakupan", sslmode=extra.get("sslmode"),
                    source=f"Airflow connection {conn_id}")


def pg_params(settings: Settings | None = None) -> PgParams:
    """Connection settings, first found wins: CAKUPAN_PG_DSN (settings.pg_dsn), CAKUPAN_PG_HOST/PORT/USER/PASSWORD/DB
    (+ CAKUPAN_PG_SSLMODE), the Airflow connection CAKUPAN_PG_CONN_ID (default `cakupan_postgres`), defaults."""
    env = os.environ
    dsn = (settings.pg_dsn if settings is not None else None) or env.get("CAKUPAN_PG_DSN")
    if dsn:
        return _from_dsn(dsn, "CAKUPAN_PG_DSN")
    keys = ("CAKUPAN_PG_HOST", "CAKUPAN_PG_PORT", "CAKUPAN_PG_USER", "CAKUPAN_PG_PASSWORD", "CAKUPAN_PG_DB")
    if any(env.get(k) for k in keys):
        try:
            port = int(env.get("CAKUPAN_PG_PORT") or 5432)
        except ValueError:
            raise SettingsError(Msg("error.pg.port", value=repr(env.get("CAKUPAN_PG_PORT")))) from None
        return PgParams(host=env.get("CAKUPAN_PG_HOST") or "127.0.0.1", port=port,
                        user=env.get("CAKUPAN_PG_USER") or "cakupan", password=env.get("CAKUPAN_PG_PASSWORD") or "",
                        dbname=env.get("CAKUPAN_PG_DB") or "cakupan", sslmode=env.get("CAKUPAN_PG_SSLMODE") or None,
                        source="CAKUPAN_PG_* variables")
    conn = _from_airflow_conn(env.get("CAKUPAN_PG_CONN_ID", DEFAULT_CONN_ID))
    return conn or PgParams()


def pg_env(settings: Settings) -> dict[str, str]:
    """The variables profiles.yml reads for the postgres target (whatever the settings came from)."""
    p = pg_params(settings)
    env = {"CAKUPAN_PG_HOST": p.host, "CAKUPAN_PG_PORT": str(p.port), "CAKUPAN_PG_USER": p.user,
           "CAKUPAN_PG_PASSWORD": p.password, "CAKUPAN_PG_DB": p.dbname}
    if p.sslmode:
        env["CAKUPAN_PG_SSLMODE"] = p.sslmode
    return env


def connect(settings: Settings | None = None, **kw):
    """Open a psycopg2 connection to the warehouse database (the pipeline role); a failure is a PgError of one
    line saying what is wrong and what to check (the password, the server, the database)."""
    import psycopg2

    p = pg_params(settings)
    kw.setdefault("connect_timeout", 15)
    try:
        return psycopg2.connect(**p.connect_kwargs(), application_name=kw.pop("application_name", "cakupan"), **kw)
    except psycopg2.OperationalError as exc:
        raise PgError(connect_error(p, exc)) from None


def connect_error(p: PgParams, exc: Exception) -> Msg:
    """One line: where, as whom, what went wrong, what to check."""
    detail = " ".join(str(exc).split())
    low = detail.lower()
    if "password authentication failed" in low or "no password supplied" in low:
        why = Msg("error.pg.password", user=p.user)
    elif f'database "{p.dbname.lower()}" does not exist' in low:
        why = Msg("error.pg.no_database", db=p.dbname)
    elif "role" in low and "does not exist" in low:
        why = Msg("error.pg.no_role", user=p.user)
    elif any(w in low for w in ("connection refused", "could not translate host name", "timeout expired",
                                "no route to host", "network is unreachable", "could not connect")):
        why = Msg("error.pg.unreachable")
    else:
        why = Msg("error.pg.refused")
    return Msg("error.pg.connect", host=p.host, port=p.port, db=p.dbname, user=p.user, source=p.source, why=why,
               detail=detail[:300])


def q(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


def qt(schema: str, table: str) -> str:
    """Quote a schema-qualified table name."""
    return f"{q(schema)}.{q(table)}"
