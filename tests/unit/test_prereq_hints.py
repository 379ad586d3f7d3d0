"""The install hints bootstrap and test.sh print, per distribution family (scripts/prereq-hints.sh)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from devtools.template import REPO_ROOT

HINTS = REPO_ROOT / "scripts" / "prereq-hints.sh"
RELEASES = {
    "debian-12": 'ID=debian\nVERSION_ID="12"\n',
    "debian-13": 'ID=debian\nVERSION_ID="13"\n',
    "ubuntu-22.04": 'ID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"\n',
    "ubuntu-24.04": 'ID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\n',
    "fedora-41": 'ID=fedora\nVERSION_ID="41"\n',
}


def hint(what: str, system: str, tmp_path: Path) -> str:
    release = tmp_path / f"{system}.os-release"
    release.write_text(RELEASES[system])
    done = subprocess.run(
        ["bash", str(HINTS), what, "3.13", str(release)], capture_output=True, text=True, check=True, timeout=10
    )
    return done.stdout


@pytest.mark.parametrize("system", ["debian-12", "ubuntu-22.04", "ubuntu-24.04", "fedora-41"])
def test_python_hint_uses_uv_or_pyenv_where_apt_has_no_python_3_13(system: str, tmp_path: Path) -> None:
    text = hint("python", system, tmp_path)
    assert "uv python install 3.13" in text
    assert "pyenv install 3.13" in text
    plain_apt = [line for line in text.splitlines() if "apt-get install python3.13" in line and "ppa:" not in line]
    assert plain_apt == []  # never offered from the release's own archive, which has no such package


def test_python_hint_on_debian_13_is_apt(tmp_path: Path) -> None:
    assert "'sudo apt-get install python3.13 python3.13-venv'" in hint("python", "debian-13", tmp_path)


def test_ubuntu_may_use_the_deadsnakes_ppa(tmp_path: Path) -> None:
    assert "ppa:deadsnakes/ppa" in hint("python", "ubuntu-24.04", tmp_path)


@pytest.mark.parametrize(
    ("system", "package"),
    [
        ("debian-12", "openjdk-17-jre-headless"),
        ("debian-13", "openjdk-21-jre-headless"),  # Debian 13 has no OpenJDK 17
        ("ubuntu-22.04", "openjdk-17-jre-headless"),
        ("ubuntu-24.04", "openjdk-17-jre-headless"),
    ],
)
def test_java_hint_names_a_package_the_release_has(system: str, package: str, tmp_path: Path) -> None:
    assert f"sudo apt-get install {package}" in hint("java", system, tmp_path)


@pytest.mark.parametrize(("system", "expected"), [("debian-12", "chromium chromium-driver"), ("ubuntu-24.04", "snap")])
def test_chromium_hint_per_family(system: str, expected: str, tmp_path: Path) -> None:
    text = hint("chromium", system, tmp_path)
    assert expected in text
    if system.startswith("ubuntu"):
        assert "CHROMEDRIVER=/snap/bin/chromium.chromedriver" in text


def test_bootstrap_looks_for_uv_and_pyenv_interpreters_and_prints_these_hints() -> None:
    script = (REPO_ROOT / "scripts" / "bootstrap.sh").read_text()
    assert ". scripts/prereq-hints.sh" in script
    assert 'python find "$want_minor"' in script
    assert "/versions/" in script
    assert "$(hints python)" in script
    assert "$(hints java)" in script


@pytest.mark.skipif(
    any(Path(d, "python3.13").exists() for d in ("/usr/bin", "/bin", "/usr/local/bin")),
    reason="a system Python 3.13 exists here: bootstrap would go on to install",
)
@pytest.mark.parametrize("system", ["debian-12", "ubuntu-24.04"])
def test_bootstrap_without_python_3_13_prints_the_hint_and_installs_nothing(system: str, tmp_path: Path) -> None:
    """bootstrap.sh in a copy of the repository's set-up files, with no Python 3.13 on PATH, uv or pyenv."""
    work = tmp_path / "repo"
    for name in ("scripts/bootstrap.sh", "scripts/prereq-hints.sh", ".python-version", "requirements-dev.txt",
                 "requirements-sam.txt", "layers/chatstate/requirements.txt", "tools/package.json"):  # fmt: skip
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_bytes((REPO_ROOT / name).read_bytes())
    release = tmp_path / "os-release"
    release.write_text(RELEASES[system])
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "PREREQ_OS_RELEASE": str(release)}
    done = subprocess.run(
        ["bash", str(work / "scripts" / "bootstrap.sh"), "--no-sam", "--no-ddb"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Python 3.13 is required" in done.stderr
    assert "uv python install 3.13" in done.stderr
    assert "nothing was installed" in done.stderr
    assert not (work / ".venv").exists()
