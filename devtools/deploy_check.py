"""Check a ``sam build`` output against what ``sam deploy`` would really deploy (run by ``scripts/test.sh``).

For every config environment of ``samconfig.toml`` (docs/deploying.md: ``[default]`` and ``[prod]``), the
architecture of each function and the layer's compatible architectures are resolved from the *built* template with
that environment's ``parameter_overrides``; then every native extension in the built layer and in each built function
(every ELF ``.so``, including abi3 ones like cryptography's ``_rust.abi3.so`` whose name says nothing about the
machine) must be built for that machine, and the built layer must ship compiled ``.pyc`` for every ``chatstate``
module and no boto3/botocore. Any mismatch fails with the file, the machine found and the machine the stack would
run on.

Usage: ``python -m devtools.deploy_check [BUILD_DIR]`` (default ``.aws-sam/build``).
"""

from __future__ import annotations

import shlex
import sys
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.template import REPO_ROOT, Resolver, load_template

ELF_MACHINES = {62: "x86_64", 183: "arm64"}
"""``e_machine`` values of the ELF header (EM_X86_64, EM_AARCH64) → Lambda architecture names."""
LAYER_ID = "SessionLayer"
FORBIDDEN = ("boto3", "botocore", "s3transfer")


class CheckFailed(Exception):
    """The build would not run as deployed; the message says why."""


def elf_architecture(path: Path) -> str | None:
    """The Lambda architecture an ELF shared object is built for; ``None`` if it is not ELF."""
    with path.open("rb") as handle:
        header = handle.read(20)
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    byteorder = "little" if header[5] == 1 else "big"
    machine = int.from_bytes(header[18:20], byteorder)
    return ELF_MACHINES.get(machine, f"ELF machine {machine}")


def native_files(root: Path) -> Iterator[Path]:
    """Every shared object under ``root`` (``*.so`` and ``*.so.N``)."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and (path.suffix == ".so" or ".so." in path.name):
            yield path


def parse_overrides(value: str | list[str] | None) -> dict[str, str]:
    """``parameter_overrides`` as SAM CLI accepts it in samconfig (``'A="x" B=y'`` or a list of ``A=x``)."""
    if not value:
        return {}
    items = value if isinstance(value, list) else shlex.split(value)
    pairs = (item.split("=", 1) for item in items)
    return dict(pairs)


@dataclass(frozen=True)
class DeployTarget:
    """One way docs/deploying.md deploys: a samconfig environment and its parameter overrides."""

    config_env: str
    overrides: Mapping[str, str]


def deploy_targets(samconfig: Path) -> list[DeployTarget]:
    """Every config environment of ``samconfig.toml`` with a ``deploy`` section (global + deploy overrides merged)."""
    config = tomllib.loads(samconfig.read_text(encoding="utf-8"))
    targets = []
    for env, sections in config.items():
        if not isinstance(sections, dict) or "deploy" not in sections:
            continue
        merged: dict[str, str] = {}
        for section in ("global", "deploy"):
            params = (sections.get(section) or {}).get("parameters") or {}
            merged.update(parse_overrides(params.get("parameter_overrides")))
        targets.append(DeployTarget(env, merged))
    return targets


def deployed_architectures(template: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    """``{resource: architecture}`` of every function (Globals merged) and the layer, deployed with ``overrides``."""
    unknown = sorted(set(overrides) - set(template.get("Parameters") or {}))
    if unknown:
        raise CheckFailed(f"parameter_overrides name parameters the template does not have: {', '.join(unknown)}")
    resolver = Resolver(template, parameter_overrides=overrides)
    globals_fn = (template.get("Globals") or {}).get("Function") or {}
    found: dict[str, str] = {}
    for name, res in template["Resources"].items():
        props = res.get("Properties") or {}
        if res.get("Type") == "AWS::Serverless::Function":
            archs = resolver.resolve(props.get("Architectures", globals_fn.get("Architectures", ["x86_64"])))
        elif name == LAYER_ID:
            archs = resolver.resolve(props.get("CompatibleArchitectures") or [])
            build = resolver.resolve((res.get("Metadata") or {}).get("BuildArchitecture", "x86_64"))
            if archs != [build]:
                raise CheckFailed(f"{name}: BuildArchitecture {build} but CompatibleArchitectures {archs}")
        else:
            continue
        if len(archs) != 1:
            raise CheckFailed(f"{name}: expected exactly one architecture, got {archs}")
        found[name] = str(archs[0])
    return found


def check_layer_contents(layer: Path) -> int:
    """Compiled ``.pyc`` for every ``chatstate`` module and no boto3/botocore; the number of ``.pyc`` files."""
    if not (layer / "chatstate").is_dir():
        raise CheckFailed(f"{layer} has no chatstate package")
    missing = [
        source
        for source in (layer / "chatstate").rglob("*.py")
        if not (source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc").is_file()
    ]
    if missing:
        raise CheckFailed(f"no compiled .pyc for {', '.join(str(p.relative_to(layer)) for p in missing)}")
    shipped = [p.name for p in layer.iterdir() if p.name.split("-")[0].split(".")[0] in FORBIDDEN]
    if shipped:
        raise CheckFailed(f"the layer ships {', '.join(sorted(shipped))} (they come from the Lambda runtime)")
    return sum(1 for _ in (layer / "chatstate").rglob("*.pyc"))


def check_native_code(root: Path, architecture: str, what: str = "the layer") -> int:
    """Every shared object under ``root`` is built for ``architecture``; the number checked."""
    wrong = []
    count = 0
    for path in native_files(root):
        found = elf_architecture(path)
        if found is None:
            continue
        count += 1
        if found != architecture:
            wrong.append(f"{path.relative_to(root)} is {found}")
    if wrong:
        raise CheckFailed(f"{what}'s native code does not match the deployed {architecture}: " + "; ".join(wrong))
    return count


def check(build_dir: Path, samconfig: Path = REPO_ROOT / "samconfig.toml") -> list[str]:
    """Run every check; the lines to report. Raises ``CheckFailed``."""
    template = load_template(build_dir / "template.yaml")
    layer = build_dir / LAYER_ID / "python"
    pyc = check_layer_contents(layer)
    report = []
    targets = deploy_targets(samconfig) or [DeployTarget("(no samconfig)", {})]
    for target in targets:
        archs = deployed_architectures(template, target.overrides)
        distinct = set(archs.values())
        if len(distinct) != 1:
            raise CheckFailed(f"[{target.config_env}] functions and layer disagree: {archs}")
        (architecture,) = distinct
        count = check_native_code(layer, architecture)
        for name in sorted(archs):  # a function with dependencies of its own (requirements.txt) ships native code too
            if name != LAYER_ID and (build_dir / name).is_dir():
                count += check_native_code(build_dir / name, architecture, name)
        report.append(f"[{target.config_env}] {', '.join(sorted(archs))}: {architecture}; {count} native files match")
    report.append(f"{pyc} chatstate .pyc files, no boto3/botocore")
    return report


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    build_dir = Path(args[0]) if args else REPO_ROOT / ".aws-sam" / "build"
    try:
        lines = check(build_dir)
    except CheckFailed as exc:
        print(f"deploy check FAILED: {exc}", file=sys.stderr)
        return 1
    for line in lines:
        print(f"deploy check: {line}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
