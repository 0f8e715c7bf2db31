"""Static checks of docker-compose.yml and docker/Dockerfile (no Docker engine needed).

The compose file cannot be started here, so it is checked by construction: services and profiles, the Airflow
version against requirements.lock, healthchecks, depends_on, bind mounts, Dockerfile COPY sources, interpolated
variables against .env.example, executors, published ports, and every Airflow CLI command it runs is asked for
its ``--help`` from the real Airflow installed in this virtualenv.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "docker" / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
LOCK_FILE = REPO / "requirements.lock"
ENV_EXAMPLE = REPO / ".env.example"
AIRFLOW_BIN = Path(sys.executable).with_name("airflow")

BASE_SERVICES = {
    "postgres",
    "warehouse",
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
}
CELERY_SERVICES = {"redis", "airflow-worker", "flower"}
ONE_SHOT_SERVICES = {"airflow-init"}
# Directories the stack creates on first start (airflow-init / Docker create them); everything else mounted
# from the working tree must already exist.
CREATABLE_HOST_DIRS = ("var",)
REQUIRED_HOST_DIRS = ("dags", "dbt_project", "include", "config")
# `airflow celery ...` exists only when apache-airflow-providers-celery is installed. The local venv follows
# requirements.lock, which does not include that provider (only the image needs it), so when it is missing the
# celery sub-commands are checked against this list from the provider's CLI instead.
CELERY_CLI_ALLOW_LIST = {("celery", "worker"), ("celery", "flower"), ("celery", "stop")}
DEPENDS_ON_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


# --- helpers -------------------------------------------------------------------------------------------------
_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolated_names(value: str) -> set[str]:
    """Variables Compose interpolates in one string (``$$`` is an escaped, literal ``$``)."""
    names = set()
    for m in _INTERPOLATION.finditer(value):
        if not m.group("escaped"):
            names.add(m.group("braced") or m.group("bare"))
    return names


def interpolate(value, env: dict[str, str] | None = None):
    """Resolve ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?err}``, ``$$`` like Compose."""
    if not isinstance(value, str):
        return value
    env = env or {}

    def sub(m: re.Match) -> str:
        if m.group("escaped"):
            return "$"
        name = m.group("braced") or m.group("bare")
        op, arg = m.group("op"), m.group("arg")
        val = env.get(name)
        if op in (":-", "-"):
            return arg if (val is None or (op == ":-" and val == "")) else val
        if op in (":?", "?"):
            if val is None or (op == ":?" and val == ""):
                raise KeyError(f"{name}: {arg}")
            return val
        if op in (":+", "+"):
            return arg if (val is not None and (op == "+" or val != "")) else ""
        return val or ""

    return _INTERPOLATION.sub(sub, value)


def all_strings(node):
    """Every string scalar of a parsed YAML document (where Compose interpolation applies)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from all_strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from all_strings(v)


def documented_env_names(env_example: Path) -> set[str]:
    """Names set (``NAME=...``) or shown commented out (``# NAME=...``) in an .env.example file."""
    pattern = re.compile(r"^\s*(?:#\s*)?(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
    return {m.group(1) for line in env_example.read_text().splitlines() if (m := pattern.match(line))}


def undocumented_variables(compose: dict, env_example: Path) -> set[str]:
    """Variables interpolated by the compose file that .env.example does not document."""
    used = set().union(*(interpolated_names(s) for s in all_strings(compose)))
    return used - documented_env_names(env_example)


def pinned_version(package: str, lock_text: str) -> str:
    m = re.search(rf"^{re.escape(package)}==(\S+)\s*$", lock_text, re.MULTILINE)
    assert m, f"{package} is not pinned in requirements.lock"
    return m.group(1)


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuation lines joined."""
    out, buf = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if buf and line.startswith("#"):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        if buf.strip():
            instr, _, args = buf.strip().partition(" ")
            out.append((instr.upper(), args.strip()))
        buf = ""
    return out


def copy_sources(args: str) -> list[str] | None:
    """Source paths of a COPY/ADD (None for ``--from=`` copies, which do not read the build context)."""
    tokens = shlex.split(args)
    flags = [t for t in tokens if t.startswith("--")]
    if any(f.startswith("--from") for f in flags):
        return None
    rest = [t for t in tokens if not t.startswith("--")]
    if rest and rest[0].startswith("["):
        rest = json.loads(args[args.index("[") :])
    return rest[:-1]


def dockerignore_patterns() -> list[str]:
    if not DOCKERIGNORE.exists():
        return []
    return [
        ln.strip() for ln in DOCKERIGNORE.read_text().splitlines() if ln.strip() and not ln.startswith("#")
    ]


def is_dockerignored(path: str, patterns: list[str]) -> bool:
    """Good-enough .dockerignore matching: a path is excluded if it or a parent matches the last rule."""
    parts = Path(path.rstrip("/")).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pat in patterns:
        negate = pat.startswith("!")
        pat = pat.lstrip("!").strip("/")
        alts = {pat, pat[3:]} if pat.startswith("**/") else {pat}
        hit = any(
            fnmatch.fnmatchcase(c, a) or (pat.startswith("**/") and fnmatch.fnmatchcase(Path(c).name, a))
            for c in candidates
            for a in alts
        )
        if hit:
            ignored = not negate
    return ignored


def command_words(cmd) -> list[str]:
    return shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]


def airflow_invocations_in_shell(script: str) -> list[list[str]]:
    """Every ``airflow ...`` invocation in a shell snippet, as argument lists (up to the line's end/;/&&/|)."""
    found = []
    for m in re.finditer(r"(?:^|(?<=[\s;&|(]))airflow[ \t]+([^\n;&|>]*)", script, re.MULTILINE):
        found.append(shlex.split(m.group(1).replace("\\", " ")))
    return found


def subcommand(args: list[str]) -> tuple[str, ...]:
    """The CLI sub-command part of an argument list: words up to the first option."""
    words = []
    for a in args:
        if not re.fullmatch(r"[a-z][a-z-]*", a):
            break
        words.append(a)
    return tuple(words)


def healthcheck_shell(service: dict) -> str:
    test = (service.get("healthcheck") or {}).get("test")
    if isinstance(test, str):
        return test
    if isinstance(test, list) and test and test[0] in ("CMD", "CMD-SHELL"):
        return test[1] if test[0] == "CMD-SHELL" else shlex.join(test[1:])
    return ""


def host_port_bindings(service: dict) -> list[tuple[str | None, str, str]]:
    """(host ip, host port, container port) of each published port (short syntax or long syntax)."""
    out = []
    for p in service.get("ports", []):
        if isinstance(p, dict):
            out.append((p.get("host_ip"), str(p.get("published", "")), str(p.get("target"))))
            continue
        parts = str(p).split(":")
        if len(parts) == 3:
            out.append((parts[0], parts[1], parts[2]))
        elif len(parts) == 2:
            out.append((None, parts[0], parts[1]))
        else:
            out.append((None, "", parts[0]))
    return out


def bind_mounts(service: dict) -> list[tuple[str, str]]:
    mounts = []
    for v in service.get("volumes", []):
        if isinstance(v, dict):
            if v.get("type") == "bind":
                mounts.append((v["source"], v["target"]))
            continue
        src, _, rest = str(v).partition(":")
        if src.startswith((".", "/", "~")):
            mounts.append((src, rest.split(":")[0]))
    return mounts


# --- fixtures ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def compose() -> dict:
    assert COMPOSE_FILE.exists(), "docker-compose.yml is missing"
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict]:
    return compose["services"]


@pytest.fixture(scope="module")
def airflow_services(services) -> dict[str, dict]:
    """Services running the Cakupan Airflow image (the ones built from docker/Dockerfile)."""
    return {name: s for name, s in services.items() if "build" in s}


@pytest.fixture(scope="module")
def lock_text() -> str:
    return LOCK_FILE.read_text()


@pytest.fixture(scope="module")
def airflow_version(lock_text) -> str:
    return pinned_version("apache-airflow", lock_text)


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    assert DOCKERFILE.exists(), "docker/Dockerfile is missing"
    return dockerfile_instructions(DOCKERFILE.read_text())


# --- services and profiles -----------------------------------------------------------------------------------
def test_compose_spec_has_no_version_key(compose):
    assert "version" not in compose, "the Compose specification dropped the top-level `version:` key"


def test_services_and_profiles(services):
    assert set(services) == BASE_SERVICES | CELERY_SERVICES
    default = {n for n, s in services.items() if not s.get("profiles")}
    celery = {n for n, s in services.items() if "celery" in (s.get("profiles") or [])}
    assert default == BASE_SERVICES
    assert celery == CELERY_SERVICES


def test_airflow_services_share_the_built_image(airflow_services):
    expected = BASE_SERVICES - {"postgres", "warehouse"} | {"airflow-worker", "flower"}
    assert set(airflow_services) == expected
    images = {s["image"] for s in airflow_services.values()}
    assert len(images) == 1, f"all Airflow services must run one image, got {images}"
    for name, s in airflow_services.items():
        assert s["build"] == {"context": ".", "dockerfile": "docker/Dockerfile"}, name


# --- versions ------------------------------------------------------------------------------------------------
def test_image_tag_matches_locked_airflow(airflow_services, airflow_version):
    for name, s in airflow_services.items():
        _, _, tag = s["image"].rpartition(":")
        assert tag == airflow_version, f"{name}: image tag {tag!r} != apache-airflow=={airflow_version}"


def test_dockerfile_from_matches_locked_airflow_and_python(dockerfile, airflow_version, lock_text):
    froms = [args for instr, args in dockerfile if instr == "FROM"]
    assert len(froms) == 1, froms
    m = re.fullmatch(
        r"apache/airflow:(?P<airflow>[^-\s]+)-python(?P<python>\d+\.\d+)(?:\s+AS\s+\S+)?",
        froms[0],
        re.IGNORECASE,
    )
    assert m, f"FROM must be the official apache/airflow:<version>-python<x.y> image, got {froms[0]!r}"
    assert m["airflow"] == airflow_version
    lock_python = re.search(r"--python-version[ =](\d+\.\d+)", lock_text)
    if lock_python:
        assert m["python"] == lock_python.group(1), "image Python differs from the lock's --python-version"


def test_dockerfile_sets_env_and_keeps_airflow(dockerfile):
    env = {}
    for instr, args in dockerfile:
        if instr == "ENV":
            for tok in shlex.split(args):
                k, _, v = tok.partition("=")
                env[k] = v
    assert env.get("AIRFLOW__CORE__LOAD_EXAMPLES") == "False"
    assert env.get("AIRFLOW__COSMOS__ENABLE_TELEMETRY") == "False"
    runs = " ".join(args for instr, args in dockerfile if instr == "RUN")
    assert "requirements.lock" in runs, "the image must install requirements.lock"
    # apache-airflow lines are filtered out of the lock (and used as constraints) so Airflow is not reinstalled.
    assert re.search(r"grep -vE? '\^apache-airflow", runs), (
        "apache-airflow pins must be filtered out of the lock"
    )
    assert "--upgrade" not in runs and " -U " not in runs
    assert re.search(r"pip install --no-deps (-e )?\.", runs), (
        "the cakupan package is installed with --no-deps"
    )
    assert "apache-airflow-providers-celery" in runs, (
        "CeleryExecutor (celery profile) needs the celery provider"
    )


# --- healthchecks and dependencies ---------------------------------------------------------------------------
def test_every_long_running_service_has_a_healthcheck(services):
    for name, s in services.items():
        if name in ONE_SHOT_SERVICES:
            assert "healthcheck" not in s, f"{name} is one-shot"
            continue
        hc = s.get("healthcheck")
        assert hc, f"{name} has no healthcheck"
        for key in ("test", "interval", "retries"):
            assert key in hc, f"{name}: healthcheck without {key}"
        test = hc["test"]
        assert isinstance(test, str) or test[0] in ("CMD", "CMD-SHELL"), (
            f"{name}: bad healthcheck test {test}"
        )
        assert not hc.get("disable"), name


def test_healthcheck_specifics(services):
    assert "pg_isready" in healthcheck_shell(services["postgres"])
    assert "pg_isready" in healthcheck_shell(services["warehouse"])
    assert "redis-cli ping" in healthcheck_shell(services["redis"])
    assert "http://localhost:8080/api/v2/version" in healthcheck_shell(services["airflow-apiserver"])
    assert "http://localhost:8974/health" in healthcheck_shell(services["airflow-scheduler"])
    assert "--job-type DagProcessorJob" in healthcheck_shell(services["airflow-dag-processor"])
    assert "--job-type TriggererJob" in healthcheck_shell(services["airflow-triggerer"])
    worker = healthcheck_shell(services["airflow-worker"])
    assert "celery --app airflow.providers.celery.executors.celery_executor.app inspect ping" in worker
    assert "celery@$${HOSTNAME}" in COMPOSE_FILE.read_text(), "HOSTNAME must be escaped as $$ for the shell"
    env = services["airflow-scheduler"]["environment"]
    assert str(env["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"]).lower() == "true"


def test_depends_on_uses_conditions_on_existing_services(services):
    for name, s in services.items():
        deps = s.get("depends_on", {})
        assert isinstance(deps, dict), f"{name}: depends_on must use the long syntax with conditions"
        for dep, spec in deps.items():
            assert dep in services, f"{name} depends on unknown service {dep}"
            assert dep != name
            assert spec.get("condition") in DEPENDS_ON_CONDITIONS, f"{name} -> {dep}: {spec}"
            if spec["condition"] == "service_healthy":
                assert services[dep].get("healthcheck"), (
                    f"{name} waits for {dep} to be healthy: no healthcheck"
                )
            if spec["condition"] == "service_completed_successfully":
                assert dep in ONE_SHOT_SERVICES, f"{name} waits for long-running {dep} to exit"
            # A service outside a profile cannot depend on one that only exists inside it.
            dep_profiles = set(services[dep].get("profiles") or [])
            if dep_profiles:
                assert dep_profiles & set(s.get("profiles") or []), f"{name} depends on profile-only {dep}"


def test_airflow_services_wait_for_postgres_and_init(airflow_services):
    for name, s in airflow_services.items():
        deps = s["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy", name
        if name not in ONE_SHOT_SERVICES:
            assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
    for name in ("airflow-worker", "flower"):
        assert airflow_services[name]["depends_on"]["redis"]["condition"] == "service_healthy"


# --- mounts and build context --------------------------------------------------------------------------------
def test_bind_mounted_host_paths_exist(services):
    for d in REQUIRED_HOST_DIRS:
        assert (REPO / d).is_dir(), f"{d}/ must exist in the repository"
    seen = set()
    for name, s in services.items():
        for src, _target in bind_mounts(s):
            assert not src.startswith(("/", "~")), f"{name}: absolute host path {src} is not portable"
            rel = Path(os.path.normpath(src))
            assert not str(rel).startswith(".."), f"{name}: {src} leaves the repository"
            seen.add(rel.parts[0])
            if rel.parts[0] in CREATABLE_HOST_DIRS:
                continue
            assert (REPO / rel).exists(), f"{name}: bind-mounted {src} does not exist"
    assert set(REQUIRED_HOST_DIRS) <= seen


def test_named_volumes_are_declared(compose, services):
    declared = set(compose.get("volumes") or {})
    named = {}
    for name, s in services.items():
        for v in s.get("volumes", []):
            if isinstance(v, dict):
                if v.get("type") == "volume" and v.get("source"):
                    named.setdefault(name, set()).add(v["source"])
                continue
            src = str(v).partition(":")[0]
            if not src.startswith((".", "/", "~")):
                named.setdefault(name, set()).add(src)
    for name, vols in named.items():
        assert vols <= declared, f"{name}: named volumes {vols - declared} are not declared"
    # The two databases keep their data in named volumes of their own.
    assert len(named.get("postgres", ())) == 1 and len(named.get("warehouse", ())) == 1
    assert named["postgres"].isdisjoint(named["warehouse"])


def test_mount_targets_match_cakupan_settings(compose):
    common = compose["x-airflow-common"]
    targets = {t: s for s, t in bind_mounts(common)}
    env = common["environment"]
    assert targets[env["CAKUPAN_HOME"]] == "./var"
    assert targets[env["CAKUPAN_CONFIG"]] == "./config"
    assert env["CAKUPAN_INBOX"].startswith(env["CAKUPAN_HOME"] + "/")
    assert targets["/opt/airflow/dags"] == "./dags"
    assert targets["/opt/airflow/logs"].startswith("./var/")
    # cakupan.core.settings finds dbt_project next to include/ (PROJECT_ROOT = include/..): keep them siblings.
    include = next(t for t, s in targets.items() if s == "./include")
    dbt = next(t for t, s in targets.items() if s == "./dbt_project")
    assert Path(include).parent == Path(dbt).parent
    # Files every container must share live on the ./var mount.
    for key in ("AIRFLOW_CONFIG", "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"):
        assert env[key].startswith(env["CAKUPAN_HOME"] + "/"), key


def test_dockerfile_copy_sources_exist_and_are_not_dockerignored(dockerfile):
    patterns = dockerignore_patterns()
    copies = [copy_sources(args) for instr, args in dockerfile if instr in ("COPY", "ADD")]
    sources = [s for srcs in copies if srcs for s in srcs]
    assert {"requirements.lock", "pyproject.toml"} <= set(sources)
    assert any(s.rstrip("/") == "include" for s in sources)
    for src in sources:
        assert (REPO / src).exists(), f"COPY source {src} does not exist"
        assert not is_dockerignored(src, patterns), f"COPY source {src} is excluded by .dockerignore"


def test_dockerignore_keeps_secrets_and_data_out():
    patterns = dockerignore_patterns()
    for path in (".env", ".venv", "var", ".git", "var/inbox/x.xlsx"):
        assert is_dockerignored(path, patterns), f"{path} should be excluded from the build context"


# --- environment ---------------------------------------------------------------------------------------------
def test_interpolation_helper_flags_undocumented(tmp_path):
    env_example = tmp_path / ".env.example"
    env_example.write_text("A=1\n# B=commented but documented\nexport C=3\n")
    doc = {"x": ["${A}", "$B and ${C:-x}", "$${ESCAPED}", "${D:?need D}", "$$E", "$F"]}
    assert undocumented_variables(doc, env_example) == {"D", "F"}
    assert interpolate("${A:-x}-${B-y}-$${Z}", {"B": ""}) == "x--${Z}"
    with pytest.raises(KeyError):
        interpolate("${K:?set K}")


def test_interpolated_variables_are_documented_in_env_example(compose):
    if not ENV_EXAMPLE.exists():
        pytest.skip(".env.example is not in the repository yet; cannot check the interpolated variable names")
    missing = undocumented_variables(compose, ENV_EXAMPLE)
    assert not missing, f"docker-compose.yml interpolates variables not documented in .env.example: {missing}"


def test_pseudonym_key_is_required_and_env_file_optional(compose):
    common = compose["x-airflow-common"]
    assert common["environment"]["CAKUPAN_PSEUDONYM_KEY"].startswith("${CAKUPAN_PSEUDONYM_KEY:?")
    assert common["env_file"] == [{"path": ".env", "required": False}]


def test_airflow_environment(airflow_services):
    for name, s in airflow_services.items():
        env = {k: interpolate(v, {"CAKUPAN_PSEUDONYM_KEY": "k"}) for k, v in s["environment"].items()}
        assert env["AIRFLOW__CORE__AUTH_MANAGER"] == (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        )
        assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "admin:admin"
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
        assert env["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "False"
        assert urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).hostname == "postgres"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
        assert urlsplit(env["CAKUPAN_PG_DSN"]).hostname == "warehouse"
        assert urlsplit(env["CAKUPAN_PG_DSN"]).port in (None, 5432), (
            "inside the network the warehouse is :5432"
        )
        assert env["CAKUPAN_TARGET"] == "duckdb"
        assert env["OPENLINEAGE__TRANSPORT"] == '{"type": "console"}'
        assert env["AIRFLOW__OPENLINEAGE__TRANSPORT"] == '{"type": "console"}'
        assert (env["CAKUPAN_HOME"], env["CAKUPAN_CONFIG"], env["CAKUPAN_INBOX"]) == (
            "/opt/cakupan/var",
            "/opt/cakupan/config",
            "/opt/cakupan/var/inbox",
        ), name


def test_every_component_gets_the_deployment_facts_of_the_native_recipe(services, airflow_services):
    """README "Running Airflow natively": the same environment in every component (the dag-processor imports
    cakupan.orchestration too), the execution API at the api-server's own port, the writer pool airflow-init
    creates and the DAGs use, the manifest airflow-init builds, and a parallelism for a small machine."""
    api_port = services["airflow-apiserver"]["ports"][0].rsplit(":", 1)[-1]
    init_cmd = json.dumps(services["airflow-init"].get("command", "")) + json.dumps(
        services["airflow-init"].get("entrypoint", ""))
    assert {"airflow-scheduler", "airflow-dag-processor", "airflow-triggerer", "airflow-apiserver"} <= set(
        airflow_services)
    for name, s in airflow_services.items():
        env = {k: interpolate(v, {"CAKUPAN_PSEUDONYM_KEY": "k"}) for k, v in s["environment"].items()}
        assert urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]).port == int(api_port), name
        assert env["CAKUPAN_WRITER_POOL"] == "cakupan_duckdb_writer", name
        assert f"pools set {env['CAKUPAN_WRITER_POOL']} 1" in init_cmd
        manifest = Path(env["CAKUPAN_DBT_MANIFEST"])
        assert manifest.parts[:4] == ("/", "opt", "cakupan", "dbt_project") and manifest.name == "manifest.json"
        assert "--target-path target" in init_cmd and "dbt parse" in init_cmd
        assert 1 <= int(env["AIRFLOW__CORE__PARALLELISM"]) < 32, name
        assert float(env["AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT"]) > 5, name
        assert int(env["CAKUPAN_BATCH_FILES"]) > 1 and float(env["CAKUPAN_BATCH_MB"]) > 0, name
        assert env["CAKUPAN_DBT_TASKS"] in ("model", "build"), name


def test_executor_local_by_default_celery_in_profile(airflow_services):
    for name, s in airflow_services.items():
        raw = s["environment"]["AIRFLOW__CORE__EXECUTOR"]
        if "celery" in (s.get("profiles") or []):
            assert raw == "CeleryExecutor", name
            assert s["environment"]["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
            assert s["environment"]["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
        else:
            assert raw == "${AIRFLOW__CORE__EXECUTOR:-LocalExecutor}", name
            assert interpolate(raw) == "LocalExecutor"
            assert interpolate(raw, {"AIRFLOW__CORE__EXECUTOR": "CeleryExecutor"}) == "CeleryExecutor"


def test_ports(services):
    warehouse = host_port_bindings(services["warehouse"])
    assert warehouse == [("127.0.0.1", "5433", "5432")]
    api = host_port_bindings(services["airflow-apiserver"])
    assert [(p, c) for _, p, c in api] == [("8080", "8080")]
    for name, s in services.items():
        for ip, _, _ in host_port_bindings(s):
            assert ip == "127.0.0.1", f"{name} publishes a port beyond the loopback interface"


# --- commands ------------------------------------------------------------------------------------------------
def airflow_invocations(services: dict[str, dict]) -> dict[str, list[list[str]]]:
    """service -> every Airflow CLI argument list it runs (command and healthcheck)."""
    out: dict[str, list[list[str]]] = {}
    for name, s in services.items():
        if "build" not in s:
            continue
        calls = []
        entrypoint = s.get("entrypoint")
        words = command_words(s.get("command", []))
        if entrypoint is None:
            calls.append(words)  # the image's /entrypoint runs `airflow <command>`
        else:
            ep = command_words(entrypoint)
            assert ep[0] in ("/bin/bash", "bash", "/bin/sh", "sh") and words[0] == "-c", (
                f"{name}: {ep} {words}"
            )
            calls.extend(airflow_invocations_in_shell(interpolate(words[1], {"CAKUPAN_PSEUDONYM_KEY": "k"})))
        calls.extend(airflow_invocations_in_shell(healthcheck_shell(s)))
        out[name] = calls
    return out


def _compose_services() -> dict[str, dict]:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"] if COMPOSE_FILE.exists() else {}


ALL_SUBCOMMANDS = sorted(
    {subcommand(call) for calls in airflow_invocations(_compose_services()).values() for call in calls}
)


# Every sub-command's `--help` from the installed CLI's own parser (what `airflow` builds and parses with, as
# airflow/__main__.py does), one process for all of them: a process per sub-command paid Airflow's imports each time.
_HELP_SCRIPT = """
import contextlib, io, json, sys
from airflow.cli import cli_parser
out, parser = {}, cli_parser.get_parser()
for sub in json.loads(sys.argv[1]):
    stdout, stderr, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            parser.parse_args([*sub, "--help"])
        except SystemExit as exc:
            code = exc.code or 0
    out[" ".join(sub)] = [code, stdout.getvalue(), stderr.getvalue()]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def airflow_help(tmp_path_factory) -> dict[tuple[str, ...], subprocess.CompletedProcess]:
    """`airflow <sub-command> --help` from the installed CLI's parser for every sub-command used."""
    assert AIRFLOW_BIN.exists(), f"no airflow script next to {sys.executable}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(AIRFLOW_HOME=str(tmp_path_factory.mktemp("airflow-home")), AIRFLOW__CORE__LOAD_EXAMPLES="False",
               COLUMNS="200")
    subs = [*ALL_SUBCOMMANDS, ("celery",)]
    proc = subprocess.run([sys.executable, "-c", _HELP_SCRIPT, json.dumps(subs)], check=False, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    return {sub: subprocess.CompletedProcess([str(AIRFLOW_BIN), *sub, "--help"], *got[" ".join(sub)])
            for sub in subs}


def test_expected_airflow_commands(services):
    calls = airflow_invocations(services)
    subs = {name: {subcommand(c) for c in cs} for name, cs in calls.items()}
    assert ("db", "migrate") in subs["airflow-init"]
    assert ("api-server",) in subs["airflow-apiserver"]
    assert ("scheduler",) in subs["airflow-scheduler"]
    assert ("dag-processor",) in subs["airflow-dag-processor"]
    assert ("triggerer",) in subs["airflow-triggerer"]
    assert ("celery", "worker") in subs["airflow-worker"]
    assert ("celery", "flower") in subs["flower"]
    for name, ss in subs.items():
        assert not any("webserver" in sub for sub in ss), f"{name}: `airflow webserver` is gone in Airflow 3"
        assert ("users", "create") not in ss, f"{name}: no `airflow users create` without the FAB provider"
    assert not re.search(r"\bwebserver\b", COMPOSE_FILE.read_text()), "Airflow 2's webserver must not appear"


def test_init_script_is_valid_shell_and_python(services):
    init = services["airflow-init"]
    assert init.get("user") == "0:0", "airflow-init runs as root to chown the bind-mounted folders"
    script = interpolate(command_words(init["command"])[1], {"AIRFLOW_UID": "1000"})
    bash = shutil.which("bash")
    if bash:
        result = subprocess.run(
            [bash, "-n", "-c", script], check=False, capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 0, result.stderr
    for body in re.findall(r"<<'PY'\n(.*?)\nPY\n", script, re.DOTALL):
        compile(body, "airflow-init heredoc", "exec")
    assert "mkdir -p" in script and "chown" in script


@pytest.mark.parametrize("sub", ALL_SUBCOMMANDS, ids=" ".join)
def test_airflow_command_exists_in_installed_cli(sub, airflow_help, services):
    if sub[0] == "celery" and airflow_help[("celery",)].returncode != 0:
        # apache-airflow-providers-celery is not in requirements.lock, so not in this venv; the image installs it.
        assert sub in CELERY_CLI_ALLOW_LIST, f"unknown celery sub-command {sub}"
        return
    result = airflow_help[sub]
    assert result.returncode == 0, (
        f"`airflow {' '.join(sub)} --help` failed:\n{result.stdout}\n{result.stderr}"
    )
    help_text = result.stdout
    # Options passed to the command must exist, and choice values must be among the documented choices.
    for calls in airflow_invocations(services).values():
        for call in calls:
            if subcommand(call) != sub:
                continue
            for i, arg in enumerate(call):
                if not arg.startswith("--"):
                    continue
                flag = arg.split("=")[0]
                assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", help_text), (
                    f"`airflow {' '.join(sub)}` has no option {flag}"
                )
                choices = re.search(rf"{re.escape(flag)} \{{([^}}]*)\}}", help_text)
                if choices and i + 1 < len(call):
                    assert call[i + 1] in choices.group(1).split(","), f"{flag} {call[i + 1]}: not a choice"


# --- docker compose itself (only where the plugin is available) ----------------------------------------------
def test_docker_compose_config_validates():
    docker = shutil.which("docker")
    if not docker:
        pytest.skip("the docker client is not installed")
    version = subprocess.run(
        [docker, "compose", "version"], check=False, capture_output=True, text=True, timeout=60
    )
    if version.returncode != 0:
        pytest.skip(
            f"the docker compose plugin is not available: {((version.stderr or version.stdout).strip().splitlines() or ['?'])[0]}"
        )
    env = {**os.environ, "CAKUPAN_PSEUDONYM_KEY": "test-only-key"}
    for extra in ([], ["--profile", "celery"]):
        result = subprocess.run(
            [docker, "compose", "-f", str(COMPOSE_FILE), *extra, "config", "--quiet"],
            check=False,
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
