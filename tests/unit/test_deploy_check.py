"""devtools.deploy_check: the built layer is compared with what `sam deploy` would deploy (no real build needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.deploy_check import CheckFailed, check, deploy_targets, elf_architecture, parse_overrides

ELF = {"arm64": 183, "x86_64": 62}

BUILT_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  LogLevel: {{Type: String, Default: INFO}}
Globals:
  Function:
    Architectures: [{arch}]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {{CodeUri: Fn, Handler: app.handler}}
  SessionLayer:
    Type: AWS::Serverless::LayerVersion
    Metadata: {{BuildMethod: makefile, BuildArchitecture: {layer_arch}}}
    Properties: {{ContentUri: SessionLayer, CompatibleArchitectures: [{layer_arch}]}}
"""


def elf(path: Path, arch: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = bytearray(64)
    header[:4] = b"\x7fELF"
    header[4], header[5] = 2, 1  # 64-bit, little-endian
    header[18:20] = ELF[arch].to_bytes(2, "little")
    path.write_bytes(bytes(header))


def build(tmp_path: Path, *, functions: str, layer: str, native: dict[str, str]) -> Path:
    """A fake `.aws-sam/build`: built template + layer with compiled chatstate and the given native files."""
    tmp_path.mkdir()
    (tmp_path / "template.yaml").write_text(BUILT_TEMPLATE.format(arch=functions, layer_arch=layer))
    python = tmp_path / "SessionLayer" / "python"
    (python / "chatstate" / "__pycache__").mkdir(parents=True)
    (python / "chatstate" / "__init__.py").write_text("")
    (python / "chatstate" / "__pycache__" / "__init__.cpython-313.pyc").write_bytes(b"")
    for rel, arch in native.items():
        elf(python / rel, arch)
    return tmp_path


@pytest.fixture
def samconfig(tmp_path: Path) -> Path:
    path = tmp_path / "samconfig.toml"
    path.write_text(
        'version = 0.1\n[default.deploy.parameters]\nparameter_overrides = "LogLevel=\\"DEBUG\\""\n'
        '[prod.deploy.parameters]\nparameter_overrides = ["LogLevel=INFO"]\n'
    )
    return path


ABI3 = "cryptography/hazmat/bindings/_rust.abi3.so"
PYDANTIC = "pydantic_core/_pydantic_core.cpython-313-aarch64-linux-gnu.so"


def test_matching_build_passes_for_every_config_env(tmp_path, samconfig):
    built = build(tmp_path / "b", functions="arm64", layer="arm64", native={PYDANTIC: "arm64", ABI3: "arm64"})
    report = check(built, samconfig)
    assert [line.split("]")[0] for line in report[:2]] == ["[default", "[prod"]
    assert "2 native files match" in report[0]


def test_an_abi3_extension_for_the_other_machine_fails(tmp_path, samconfig):
    """abi3 file names carry no machine: only the ELF header tells (the trap the old name-based check missed)."""
    built = build(tmp_path / "b", functions="arm64", layer="arm64", native={PYDANTIC: "arm64", ABI3: "x86_64"})
    with pytest.raises(CheckFailed, match=r"_rust\.abi3\.so is x86_64"):
        check(built, samconfig)


def test_a_functions_own_native_dependency_for_the_other_machine_fails(tmp_path, samconfig):
    built = build(tmp_path / "b", functions="arm64", layer="arm64", native={PYDANTIC: "arm64"})
    elf(built / "Fn" / "rpds" / "rpds.cpython-313-x86_64-linux-gnu.so", "x86_64")
    with pytest.raises(CheckFailed, match=r"Fn's native code .* rpds/rpds\.cpython-313-x86_64-linux-gnu\.so is x86_64"):
        check(built, samconfig)
    (built / "Fn" / "rpds" / "rpds.cpython-313-x86_64-linux-gnu.so").unlink()
    elf(built / "Fn" / "rpds" / "rpds.cpython-313-aarch64-linux-gnu.so", "arm64")
    assert "2 native files match" in check(built, samconfig)[0]


def test_functions_deployed_on_another_architecture_fail(tmp_path, samconfig):
    built = build(tmp_path / "b", functions="x86_64", layer="arm64", native={PYDANTIC: "arm64"})
    with pytest.raises(CheckFailed, match="disagree"):
        check(built, samconfig)


def test_an_override_of_a_parameter_the_template_lacks_fails(tmp_path):
    built = build(tmp_path / "b", functions="arm64", layer="arm64", native={PYDANTIC: "arm64"})
    config = tmp_path / "samconfig.toml"
    config.write_text('[default.deploy.parameters]\nparameter_overrides = "Architecture=x86_64"\n')
    with pytest.raises(CheckFailed, match="Architecture"):
        check(built, config)


def test_missing_pyc_and_bundled_boto3_fail(tmp_path, samconfig):
    built = build(tmp_path / "b", functions="arm64", layer="arm64", native={})
    (built / "SessionLayer/python/chatstate/store.py").write_text("")
    with pytest.raises(CheckFailed, match=r"no compiled \.pyc for chatstate/store\.py"):
        check(built, samconfig)
    (built / "SessionLayer/python/chatstate/store.py").unlink()
    (built / "SessionLayer/python/botocore").mkdir()
    with pytest.raises(CheckFailed, match="botocore"):
        check(built, samconfig)


def test_elf_architecture_reads_the_machine_and_ignores_non_elf(tmp_path):
    elf(tmp_path / "a.so", "x86_64")
    (tmp_path / "b.so").write_text("not elf")
    assert elf_architecture(tmp_path / "a.so") == "x86_64"
    assert elf_architecture(tmp_path / "b.so") is None


def test_parse_overrides_accepts_both_samconfig_forms(samconfig):
    assert parse_overrides('A="x y" B=z') == {"A": "x y", "B": "z"}
    assert {t.config_env: dict(t.overrides) for t in deploy_targets(samconfig)} == {
        "default": {"LogLevel": "DEBUG"},
        "prod": {"LogLevel": "INFO"},
    }
