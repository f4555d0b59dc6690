"""The hashed locks in requirements/ (``scripts/lock``) and the installs that use them.

``scripts/lock --check`` is what CI runs (through ``scripts/_setup.sh``): these
tests prove it passes on the tree, fails when pyproject.toml's dependencies or a
lock's ``.in`` file move without a re-lock, and ignores comments; that every
lock pins each declared requirement with hashes; that ``_setup.sh`` installs
from the lock, re-installs when the lock changes and refuses a stale one; and
that each Dockerfile installs from its lock.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parents[2]
LOCK_SCRIPT = ROOT / "scripts" / "lock"
# The environment the markers are read for: the README's Linux x86_64 on 3.11.
LINUX = {"sys_platform": "linux", "platform_machine": "x86_64", "python_version": "3.11"}


def lock_module() -> ModuleType:
    """``scripts/lock`` as a module (it has no ``.py`` suffix, so no plain import)."""
    loader = SourceFileLoader("scripts_lock", str(LOCK_SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module
    loader.exec_module(module)
    return module


def pins(lock: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) for the pins of ``lock`` that apply on LINUX."""
    found: dict[str, tuple[str, int]] = {}
    for entry in re.split(r"\n(?=\S)", lock.read_text()):
        if entry.startswith("#") or not entry.strip():
            continue
        requirement = Requirement(entry.split(" \\")[0].split("\n")[0])
        if requirement.marker is None or requirement.marker.evaluate(LINUX):
            [spec] = requirement.specifier
            found[canonicalize_name(requirement.name)] = (
                spec.version,
                entry.count("--hash=sha256:"),
            )
    return found


def copy_tree(dest: Path) -> Path:
    """The files the lock check and ``_setup.sh`` read, copied to ``dest``."""
    shutil.copytree(ROOT / "scripts", dest / "scripts")
    shutil.copytree(ROOT / "requirements", dest / "requirements")
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


def run_check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / "scripts" / "lock"), "--check"],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_every_lock_matches_pyproject() -> None:
    result = run_check(ROOT)
    assert result.returncode == 0, result.stderr


def test_a_moved_dependency_makes_its_locks_stale(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"fastapi>=0.115"', '"fastapi>=0.116"'))
    result = run_check(root)
    assert result.returncode == 1
    for name in ("default", "dev", "flower", "gpu"):
        assert f"requirements/{name}.txt does not match" in result.stderr
    assert "run scripts/lock" in result.stderr


def test_a_moved_dev_tool_makes_only_the_dev_lock_stale(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"pytest>=8"', '"pytest>=9"'))
    result = run_check(root)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "requirements/dev.txt does not match pyproject.toml's dependencies: run scripts/lock"
    ]


def test_a_moved_gpu_runtime_makes_only_the_gpu_lock_stale(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    gpu_in = root / "requirements" / "gpu.in"
    gpu_in.write_text(gpu_in.read_text().replace("onnxruntime-gpu==", "onnxruntime-gpu>="))
    result = run_check(root)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "requirements/gpu.txt does not match pyproject.toml's dependencies and "
        "requirements/gpu.in: run scripts/lock"
    ]


def test_comments_and_layout_do_not_make_a_lock_stale(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"fastapi>=0.115",', '# why\n    "fastapi>=0.115"  ,')
    )
    result = run_check(root)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("lock", lock_module().LOCKS, ids=lambda lock: lock.name)
def test_each_lock_pins_what_pyproject_asks_with_hashes(lock: Any) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in lock.extras:
        wanted += project["optional-dependencies"][extra]
    for name in lock.inputs:
        wanted += [line for line in (ROOT / name).read_text().splitlines() if line[:1].isalpha()]
    locked = pins(lock.path)
    for line in wanted:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        if name in lock.excludes:
            continue
        assert name in locked, f"{lock.path.name} lacks {name}"
        version, _hashes = locked[name]
        assert requirement.specifier.contains(version, prereleases=True), (name, version)
    for name in lock.excludes:
        assert canonicalize_name(name) not in locked, f"{lock.path.name} holds excluded {name}"
    assert all(hashes for _version, hashes in locked.values())


def fake_venv(root: Path) -> Path:
    """A ``.venv/bin/python`` that records each call instead of running pip."""
    calls = root / "calls.log"
    python = root / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    return calls


def setup(root: Path, extras: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(root / "scripts" / "_setup.sh"), extras],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON": sys.executable},
        timeout=60,
    )


@pytest.mark.parametrize("extras", ["", "dev"])
def test_setup_installs_from_the_lock_again_only_when_it_changes(
    tmp_path: Path, extras: str
) -> None:
    root = copy_tree(tmp_path)
    calls = fake_venv(root)
    lock = f"requirements/{extras or 'default'}.txt"
    install = [f"-m pip install --quiet --no-deps --require-hashes -r {lock}"]
    install.append("-m pip install --quiet --no-deps -e .")
    assert setup(root, extras).returncode == 0
    assert calls.read_text().splitlines() == install
    assert setup(root, extras).returncode == 0
    assert calls.read_text().splitlines() == install
    with (root / lock).open("a") as text:
        text.write("# a re-lock moved a hash\n")
    assert setup(root, extras).returncode == 0
    assert calls.read_text().splitlines() == install * 2


def test_setup_refuses_a_stale_lock(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    calls = fake_venv(root)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"pytest>=8"', '"pytest>=9"'))
    result = setup(root, "dev")
    assert result.returncode == 1
    assert "requirements/dev.txt does not match" in result.stderr
    assert not calls.exists()


@pytest.mark.parametrize(
    ("dockerfile", "lock"),
    [("gateway.Dockerfile", "flower"), ("worker-gpu.Dockerfile", "gpu")],
)
def test_dockerfiles_install_from_their_lock(dockerfile: str, lock: str) -> None:
    text = (ROOT / "docker" / dockerfile).read_text()
    installs = re.findall(r"pip install [^\n\\]*", text)
    assert installs == [
        f"pip install --no-cache-dir --no-deps --require-hashes -r requirements/{lock}.txt",
        "pip install --no-cache-dir --no-deps . ",
    ]
    assert f"COPY requirements/{lock}.txt ./requirements/" in text
