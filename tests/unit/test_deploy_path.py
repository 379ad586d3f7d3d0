"""The deploy path (scripts/sam.sh build|deploy -> devtools.deploy): its guards refuse before SAM CLI runs.

SAM CLI itself is replaced by a recording runner: these tests never build or deploy anything.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from devtools import deploy
from devtools.bot_version import expected_version_id, version_ids
from devtools.template import REPO_ROOT, TEMPLATE_PATH, load_template
from tests.unit.test_deploy_check import PYDANTIC, elf

SAMCONFIG = REPO_ROOT / "samconfig.toml"


class Sam:
    """Records the SAM CLI command lines the deploy path would run."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, argv: Any) -> int:
        self.calls.append(list(argv))
        return 0

    @property
    def overrides(self) -> dict[str, str]:
        (argv,) = self.calls
        tokens = argv[argv.index("--parameter-overrides") + 1 :]
        return deploy.parse_overrides(tokens)


def built_from(template: dict[str, Any]) -> dict[str, Any]:
    """What `sam build` writes: artifact directories for CodeUri/ContentUri, a SamResourceId in every Metadata."""
    built = copy.deepcopy(template)
    for name, res in built["Resources"].items():
        props = res.get("Properties") or {}
        for key in {"CodeUri", "ContentUri"} & set(props):
            props[key] = name
            res.setdefault("Metadata", {})["SamResourceId"] = name
    return built


def write_build(root: Path, template: dict[str, Any], *, layer_arch: str = "arm64") -> Path:
    build_dir = root / "build"
    python = build_dir / "SessionLayer" / "python"
    (python / "chatstate" / "__pycache__").mkdir(parents=True)
    (python / "chatstate" / "__init__.py").write_text("")
    (python / "chatstate" / "__pycache__" / "__init__.cpython-313.pyc").write_bytes(b"")
    elf(python / PYDANTIC, layer_arch)
    (build_dir / "template.yaml").write_text(json.dumps(built_from(template)))  # JSON is YAML
    return build_dir


@pytest.fixture
def root_template() -> dict[str, Any]:
    return copy.deepcopy(load_template(TEMPLATE_PATH))


def run_deploy(build_dir: Path, *args: str) -> tuple[int, Sam]:
    sam = Sam()
    status = deploy.main(["deploy", "--template-file", str(build_dir / "template.yaml"), *args], run=sam)
    return status, sam


def test_a_current_build_deploys_with_samconfig_overrides_and_the_digest(tmp_path, root_template, capsys):
    status, sam = run_deploy(write_build(tmp_path, root_template))
    assert status == 0
    (argv,) = sam.calls
    assert argv[1] == "deploy"
    configured = deploy.samconfig_overrides(SAMCONFIG, "default")
    assert configured["LogLevel"] == "DEBUG"  # samconfig's overrides are kept, not replaced by the digests
    values = deploy.effective_parameters(root_template, configured)
    assert sam.overrides == {
        **configured,
        "LexFulfillmentConfigDigest": deploy.config_digest(root_template, values, "LexFulfillmentFunction"),
        "AgentChatConfigDigest": deploy.config_digest(root_template, values, "AgentChatFunction"),
        "StrandsAgentConfigDigest": deploy.config_digest(root_template, values, "StrandsAgentFunction"),
    }
    assert "ChatBotVersion" in capsys.readouterr().err


def test_the_command_line_wins_over_samconfig_and_changes_the_digest(tmp_path, root_template):
    build_dir = write_build(tmp_path, root_template)
    _, plain = run_deploy(build_dir)
    _, changed = run_deploy(
        build_dir, "--parameter-overrides", 'ChatSystemPrompt="Be brief, and kind."', "LogLevel=INFO"
    )
    assert changed.overrides["ChatSystemPrompt"] == "Be brief, and kind."
    assert changed.overrides["LogLevel"] == "INFO"
    for name in ("LexFulfillmentConfigDigest", "AgentChatConfigDigest", "StrandsAgentConfigDigest"):
        assert changed.overrides[name] != plain.overrides[name]


def test_a_digest_given_by_hand_is_replaced(tmp_path, root_template):
    _, sam = run_deploy(write_build(tmp_path, root_template), "--parameter-overrides", "AgentChatConfigDigest=0000")
    assert sam.overrides["AgentChatConfigDigest"] != "0000"


def test_a_published_function_without_its_digest_is_refused(tmp_path, root_template, monkeypatch, capsys):
    del root_template["Resources"]["AgentChatFunction"]["Properties"]["VersionDescription"]
    root = tmp_path / "template.yaml"
    root.write_text(json.dumps(root_template))
    monkeypatch.setattr(deploy, "TEMPLATE_PATH", root)
    status, sam = run_deploy(write_build(tmp_path, root_template))
    assert (status, sam.calls) == (2, [])
    assert "AgentChatFunction needs VersionDescription" in capsys.readouterr().err


def test_prod_uses_its_own_overrides(tmp_path, root_template):
    _, sam = run_deploy(write_build(tmp_path, root_template), "--config-env", "prod")
    assert sam.overrides["ProtectData"] == "true"
    assert sam.calls[0][sam.calls[0].index("--config-env") + 1] == "prod"


def test_a_stale_bot_version_is_refused(tmp_path, root_template, monkeypatch, capsys):
    root_template["Resources"]["ChatBot"]["Properties"]["IdleSessionTTLInSeconds"] = 600  # edited, not refreshed
    root = tmp_path / "template.yaml"
    root.write_text(json.dumps(root_template))
    monkeypatch.setattr(deploy, "TEMPLATE_PATH", root)
    status, sam = run_deploy(write_build(tmp_path, root_template))
    assert status == 2
    assert sam.calls == []
    assert "bot version is stale" in capsys.readouterr().err
    assert version_ids(root_template) != [expected_version_id(root_template)]


def test_a_layer_built_for_another_architecture_is_refused(tmp_path, root_template, capsys):
    status, sam = run_deploy(write_build(tmp_path, root_template, layer_arch="x86_64"))
    assert status == 2
    assert sam.calls == []
    assert "does not match the deployed arm64" in capsys.readouterr().err


def test_a_build_of_another_template_is_refused(tmp_path, root_template, capsys):
    other = copy.deepcopy(root_template)
    other["Globals"]["Function"]["Architectures"] = ["x86_64"]  # `sam build -t other.yaml`
    status, sam = run_deploy(write_build(tmp_path, other))
    assert status == 2
    assert sam.calls == []
    assert "not the current build of template.yaml" in capsys.readouterr().err


def test_a_template_changed_after_the_build_is_refused(tmp_path, root_template, monkeypatch):
    build_dir = write_build(tmp_path, root_template)
    root_template["Resources"]["AgentChatFunction"]["Properties"]["Timeout"] = 20
    root = tmp_path / "template.yaml"
    root.write_text(json.dumps(root_template))
    monkeypatch.setattr(deploy, "TEMPLATE_PATH", root)
    assert run_deploy(build_dir)[0] == 2


def test_no_build_is_refused(tmp_path):
    status, sam = run_deploy(tmp_path / "nothing")
    assert (status, sam.calls) == (2, [])


def test_a_local_dynamodb_endpoint_is_refused(tmp_path, root_template, capsys):
    build_dir = write_build(tmp_path, root_template)
    status, sam = run_deploy(build_dir, "--parameter-overrides", "LocalDynamoDBEndpoint=http://127.0.0.1:8000")
    assert (status, sam.calls) == (2, [])
    assert "sam local only" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--use-container"], "--use-container is not supported"),
        (["-u"], "--use-container is not supported"),
        (["-t", "other.yaml"], "only the root template.yaml"),
        (["--template-file=other.yaml"], "only the root template.yaml"),
    ],
)
def test_build_refuses_a_container_or_another_template(args, reason, capsys):
    sam = Sam()
    assert deploy.main(["build", *args], run=sam) == 2
    assert sam.calls == []
    assert reason in capsys.readouterr().err


def test_other_commands_go_to_sam_unchanged():
    sam = Sam()
    assert deploy.main(["local", "invoke", "LexFulfillmentFunction", "-e", "events/lex_greeting.json"], run=sam) == 0
    assert sam.calls == [
        [str(deploy.SAM), "local", "invoke", "LexFulfillmentFunction", "-e", "events/lex_greeting.json"]
    ]


def test_scripts_sam_sh_runs_every_command_through_the_deploy_path():
    script = (REPO_ROOT / "scripts" / "sam.sh").read_text()
    assert re.search(r"^PATH=\S+ exec \.venv/bin/python -m devtools\.deploy \"\$@\"$", script, re.MULTILINE)
    assert ".venv-sam/bin/sam" not in script.split("set -euo pipefail", 1)[1]  # no way around it


# -- the digest -------------------------------------------------------------------------------------------------
def test_each_digest_covers_exactly_the_parameters_that_reach_its_function(root_template):
    everywhere = ["LocalDynamoDBEndpoint", "LogLevel", "SessionTtlSeconds", "SnapStart"]  # Globals
    chat = ["BedrockModelId", "ChatHistoryTurns", "ChatSystemPrompt"]
    assert deploy.config_parameters(root_template, "AgentChatFunction") == sorted(everywhere + chat)
    assert deploy.config_parameters(root_template, "LexFulfillmentFunction") == sorted(
        [*everywhere, *chat, "JwtAudience", "JwtIssuer"]
    )
    assert deploy.config_parameters(root_template, "StrandsAgentFunction") == sorted(
        [*everywhere, "BedrockModelId", "ChatSystemPrompt"]
    )


@pytest.mark.parametrize(
    ("name", "value", "changes"),
    [
        ("BedrockModelId", "anthropic.claude-3-5-haiku-20241022-v1:0", True),
        ("SessionTtlSeconds", "3600", True),
        ("ChatSystemPrompt", "x" * 4000, True),
        ("SnapStart", "true", True),
        ("ProtectData", "true", False),  # the table and pool, not a function
        ("ReservedConcurrency", "5", False),  # a function setting, not part of a version
        ("LogRetentionDays", "90", False),
        ("CorsAllowedOrigin", "https://app.example.com", False),
    ],
)
def test_the_digest_changes_only_with_a_value_a_version_runs_with(root_template, name, value, changes):
    base = deploy.config_digests(root_template, deploy.effective_parameters(root_template))
    after = deploy.config_digests(root_template, deploy.effective_parameters(root_template, {name: value}))
    assert set(after) == {"LexFulfillmentConfigDigest", "AgentChatConfigDigest", "StrandsAgentConfigDigest"}
    assert all((before != after[key]) is changes for key, before in base.items())
    assert all(re.fullmatch(r"[0-9a-f]{16}", digest) for digest in after.values())


def test_an_identity_provider_change_reaches_only_the_function_that_verifies_tokens(root_template):
    base = deploy.config_digests(root_template, deploy.effective_parameters(root_template))
    external = {"JwtIssuer": "https://login.example.com/", "JwtAudience": "api://chat"}
    after = deploy.config_digests(root_template, deploy.effective_parameters(root_template, external))
    assert after["LexFulfillmentConfigDigest"] != base["LexFulfillmentConfigDigest"]
    assert after["AgentChatConfigDigest"] == base["AgentChatConfigDigest"]  # its configuration does not change
    assert after["StrandsAgentConfigDigest"] == base["StrandsAgentConfigDigest"]


def test_every_published_function_carries_its_own_digest(root_template):
    functions = {n: r for n, r in root_template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    assert functions
    digests = [deploy.digest_parameter(root_template, name) for name in functions]
    assert len(set(digests)) == len(functions)  # one each: a change reaches exactly the functions it configures
    for name, res in functions.items():
        assert res["Properties"].get("AutoPublishAliasAllProperties") is True, name
        assert "UpdateReplacePolicy" not in res, name  # it would also keep replaced permissions and roles
    layer = root_template["Resources"]["SessionLayer"]["Properties"]
    assert layer.get("PublishLambdaVersion") is True


def test_sam_cli_reads_the_overrides_back_exactly():
    """The deploy path's --parameter-overrides tokens, parsed by SAM CLI's own option type (.venv-sam)."""
    import subprocess

    values = {"ChatSystemPrompt": 'Be brief, say "hi" = ok', "JwtAudience": "api://chat", "ConfigDigest": "0a1b"}
    script = (
        "import json, sys\n"
        "from samcli.cli.types import CfnParameterOverridesType\n"
        "print(json.dumps(CfnParameterOverridesType().convert(tuple(json.load(sys.stdin)), None, None)))\n"
    )
    result = subprocess.run(
        [str(REPO_ROOT / ".venv-sam" / "bin" / "python"), "-c", script],
        input=json.dumps(deploy.encode_overrides(values)),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(result.stdout) == values


def test_samconfig_overrides_in_both_toml_forms(tmp_path):
    config = tmp_path / "samconfig.toml"
    config.write_text(
        '[default.deploy.parameters]\nparameter_overrides = \'LogLevel="DEBUG" ChatSystemPrompt="Be brief."\'\n'
        '[prod.global.parameters]\nparameter_overrides = ["LogLevel=WARNING"]\n'
        '[prod.deploy.parameters]\nparameter_overrides = ["ChatSystemPrompt=Be brief, and kind.", "LogLevel=INFO"]\n'
    )
    assert deploy.samconfig_overrides(config, "default") == {"LogLevel": "DEBUG", "ChatSystemPrompt": "Be brief."}
    assert deploy.samconfig_overrides(config, "prod") == {"LogLevel": "INFO", "ChatSystemPrompt": "Be brief, and kind."}
    assert deploy.samconfig_overrides(config, "staging") == {}


def test_local_start_api_is_refused_with_the_way_that_works(capsys):
    sam = Sam()
    assert deploy.main(["local", "start-api"], run=sam) == 2
    assert sam.calls == []
    assert "scripts/run-local.sh" in capsys.readouterr().err
