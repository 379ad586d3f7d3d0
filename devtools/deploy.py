"""The deploy path (``scripts/sam.sh``): SAM CLI with the project's guards in front, and the configuration digest.

``scripts/sam.sh build``: refuses a template other than the root ``template.yaml`` (the layer's Makefile reads the
instruction set from that file) and ``--use-container`` (the layer is cross-built with ``pip --platform``; in a
container it would not find ``template.yaml``), runs ``sam build``, then checks the build (``devtools.deploy_check``).

``scripts/sam.sh deploy``: before ``sam deploy`` runs, refuses

* a template that is not the current build of the root ``template.yaml`` (another template was built, or
  ``template.yaml`` changed after the build);
* a stale bot version (``ChatBotVersion<digest>`` no longer matches ``ChatBot``'s definition);
* a build whose layer does not match the functions' architecture (``devtools.deploy_check``, every samconfig
  environment);
* a ``LocalDynamoDBEndpoint`` (it is for ``sam local`` only);

then passes the parameter overrides (samconfig's for the environment, then the command line's) with one
``<Name>ConfigDigest`` per function: a digest of the parameter values that reach that function's configuration.
It is the function's version description, so a parameter-only change replaces that version and its ``live``
moves to a new one; a deploy that changes no such value keeps it. ``local start-api`` is refused (SAM CLI does
not emulate the JWT authorizer: every route would answer 401). Any other command goes to SAM CLI unchanged.

Usage: ``python -m devtools.deploy <sam arguments>`` (``scripts/sam.sh`` runs it with the project's Python).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from devtools import bot_version
from devtools.deploy_check import CheckFailed, check
from devtools.template import REPO_ROOT, TEMPLATE_PATH, TemplateError, load_template

SAM = REPO_ROOT / ".venv-sam" / "bin" / "sam"
BUILD_DIR = REPO_ROOT / ".aws-sam" / "build"
SAMCONFIG = REPO_ROOT / "samconfig.toml"
DIGEST_SUFFIX = "ConfigDigest"
LOCAL_ONLY_PARAMETER = "LocalDynamoDBEndpoint"
VERSIONLESS_PROPERTIES = frozenset(
    {
        "Events",
        "Policies",
        "ReservedConcurrentExecutions",
        "AutoPublishAlias",
        "AutoPublishAliasAllProperties",
        "VersionDescription",
        "LoggingConfig",
        "Tags",
    }
)
"""Function properties that are not part of a published version (a change to them needs no new version)."""
_BUILT_KEYS = frozenset({"CodeUri", "ContentUri"})
"""Properties ``sam build`` rewrites (to the built artifact's directory)."""

Runner = Callable[[Sequence[str]], int]


class Refused(Exception):
    """The deploy path refuses to go on; the message says why and what to do."""


# -- the configuration digests ---------------------------------------------------------------------------------
def _functions(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: res
        for name, res in (template.get("Resources") or {}).items()
        if isinstance(res, dict) and res.get("Type") == "AWS::Serverless::Function"
    }


def digest_parameters(template: Mapping[str, Any]) -> set[str]:
    """The template's ``<Name>ConfigDigest`` parameters (set by the deploy path, never by hand)."""
    return {name for name in template.get("Parameters") or {} if name.endswith(DIGEST_SUFFIX)}


def config_parameters(template: Mapping[str, Any], function: str) -> list[str]:
    """The parameters whose value reaches ``function``'s published version (through properties or conditions).

    Walks ``Globals.Function`` and the function's properties, except ``VERSIONLESS_PROPERTIES``, following the
    conditions they use.
    """
    parameters = set(template.get("Parameters") or {}) - digest_parameters(template)
    conditions = template.get("Conditions") or {}
    found: set[str] = set()
    seen_conditions: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for key, arg in value.items():
                if key == "Ref" and arg in parameters:
                    found.add(arg)
                elif key == "Fn::Sub":
                    text = arg if isinstance(arg, str) else arg[0]
                    found.update(name for name in parameters if "${" + name + "}" in text)
                    walk(arg if isinstance(arg, str) else arg[1])
                elif key in ("Fn::If", "Condition"):
                    name = arg[0] if key == "Fn::If" else arg
                    if name not in seen_conditions:
                        seen_conditions.add(name)
                        walk(conditions.get(name))
                    walk(arg[1:] if key == "Fn::If" else None)
                else:
                    walk(arg)

    globals_fn = (template.get("Globals") or {}).get("Function") or {}
    for body in (globals_fn, _functions(template)[function].get("Properties") or {}):
        walk({key: value for key, value in body.items() if key not in VERSIONLESS_PROPERTIES})
    return sorted(found)


def digest_parameter(template: Mapping[str, Any], function: str) -> str:
    """The ``<Name>ConfigDigest`` parameter ``function``'s ``VersionDescription`` carries (``Refused`` if none)."""
    description = (_functions(template)[function].get("Properties") or {}).get("VersionDescription")
    text = description.get("Fn::Sub") if isinstance(description, dict) else None
    names = sorted(name for name in digest_parameters(template) if isinstance(text, str) and "${" + name + "}" in text)
    if len(names) != 1:
        raise Refused(
            f"{function} needs VersionDescription: !Sub 'configuration ${{<Name>{DIGEST_SUFFIX}}}' with its own "
            f"{DIGEST_SUFFIX} parameter, or a parameter-only change would not reach its live alias"
        )
    return names[0]


def effective_parameters(template: Mapping[str, Any], *overrides: Mapping[str, str]) -> dict[str, str]:
    """Every parameter's value as deployed: the template's default, overridden in order (later wins)."""
    values = {
        name: str(spec["Default"])
        for name, spec in (template.get("Parameters") or {}).items()
        if isinstance(spec, dict) and "Default" in spec
    }
    for layer in overrides:
        values.update(layer)
    return values


def config_digest(template: Mapping[str, Any], values: Mapping[str, str], function: str) -> str:
    """16 hex digits of SHA-256 over the values of ``function``'s ``config_parameters`` (canonical JSON)."""
    relevant = {name: values.get(name, "") for name in config_parameters(template, function)}
    canonical = json.dumps(relevant, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def config_digests(template: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, str]:
    """``{<Name>ConfigDigest: digest}`` for every function with ``AutoPublishAlias`` (Globals included)."""
    globals_alias = ((template.get("Globals") or {}).get("Function") or {}).get("AutoPublishAlias")
    return {
        digest_parameter(template, name): config_digest(template, values, name)
        for name, res in _functions(template).items()
        if (res.get("Properties") or {}).get("AutoPublishAlias", globals_alias)
    }


# -- arguments and samconfig ------------------------------------------------------------------------------------
def parse_overrides(tokens: Sequence[str]) -> dict[str, str]:
    """``--parameter-overrides`` values: ``K=V``, ``K="v w"`` or ``ParameterKey=K,ParameterValue=V``, as SAM CLI."""
    result: dict[str, str] = {}
    for item in shlex.split(" ".join(tokens)):
        if item.startswith("ParameterKey=") and ",ParameterValue=" in item:
            key, value = item[len("ParameterKey=") :].split(",ParameterValue=", 1)
        elif "=" in item:
            key, value = item.split("=", 1)
        else:
            raise Refused(f"cannot read the parameter override {item!r} (use Key=Value)")
        result[key] = value
    return result


def samconfig_overrides(path: Path, env: str) -> dict[str, str]:
    """``parameter_overrides`` of ``env``'s ``global`` and ``deploy`` sections (deploy wins)."""
    if not path.is_file():
        return {}
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    sections = config.get(env) or {}
    merged: dict[str, str] = {}
    for section in ("global", "deploy"):
        value = ((sections.get(section) or {}).get("parameters") or {}).get("parameter_overrides")
        if isinstance(value, list):  # one Key=Value per element, spaces and all
            merged.update(item.split("=", 1) for item in value if "=" in item)
        elif value:
            merged.update(parse_overrides([value]))
    return merged


def split_option(args: Sequence[str], names: Sequence[str], *, nargs: bool = False) -> tuple[list[str], list[str]]:
    """``(values, rest)``: the values of option ``names`` (all tokens up to the next option when ``nargs``)."""
    values: list[str] = []
    rest: list[str] = []
    tokens = list(args)
    while tokens:
        token = tokens.pop(0)
        name, eq, inline = token.partition("=")
        if name not in names:
            rest.append(token)
            continue
        if eq:
            values.append(inline)
        elif tokens:
            values.append(tokens.pop(0))
        while nargs and tokens and not tokens[0].startswith("-"):
            values.append(tokens.pop(0))
    return values, rest


def encode_overrides(values: Mapping[str, str]) -> list[str]:
    """``K="v"`` tokens SAM CLI reads back exactly (quotes escaped)."""
    return ['{}="{}"'.format(key, value.replace('"', '\\"')) for key, value in values.items()]


# -- guards -----------------------------------------------------------------------------------------------------
def _comparable(template: Mapping[str, Any]) -> dict[str, Any]:
    """A template without what ``sam build`` changes (artifact paths, its own Metadata keys)."""
    clean = copy.deepcopy(dict(template))
    for res in (clean.get("Resources") or {}).values():
        props = res.get("Properties") or {}
        for key in _BUILT_KEYS & set(props):
            props[key] = "<built>"
        metadata = res.get("Metadata")
        if isinstance(metadata, dict):
            for key in ("SamResourceId", "BuildMethod", "BuildArchitecture", "BuildProperties"):
                metadata.pop(key, None)
            if not metadata:
                res.pop("Metadata")
    return clean


def check_built_from_root(built: Mapping[str, Any], root: Mapping[str, Any]) -> None:
    """The built template is the build of ``root`` as it is now."""
    if _comparable(built) != _comparable(root):
        raise Refused(
            "the built template is not the current build of template.yaml (another template was built, or "
            "template.yaml changed since): run scripts/sam.sh build"
        )


def check_bot_version(template: Mapping[str, Any]) -> None:
    """The template's bot version resource is named after its bot definition."""
    try:
        ids = bot_version.version_ids(template)
        wanted = bot_version.expected_version_id(template)
    except TemplateError as exc:
        raise Refused(str(exc)) from exc
    if ids != [wanted]:
        raise Refused(
            f"the bot version is stale: {', '.join(ids) or 'none'}, expected {wanted}; run "
            ".venv/bin/python -m devtools.bot_version --write, then scripts/sam.sh build"
        )


def guard_deploy(build_dir: Path, overrides: Mapping[str, str], samconfig: Path) -> list[str]:
    """Every deploy guard; the lines to report. Raises ``Refused``."""
    built_path = build_dir / "template.yaml"
    if not built_path.is_file():
        raise Refused(f"{built_path} does not exist: run scripts/sam.sh build first")
    built = load_template(built_path)
    check_built_from_root(built, load_template(TEMPLATE_PATH))
    check_bot_version(built)
    if overrides.get(LOCAL_ONLY_PARAMETER):
        raise Refused(f"{LOCAL_ONLY_PARAMETER} is for sam local only; a deployed function must use DynamoDB")
    unknown = sorted(set(overrides) - set(built.get("Parameters") or {}))
    if unknown:
        raise Refused(f"parameter overrides name parameters the template does not have: {', '.join(unknown)}")
    try:
        lines = check(build_dir, samconfig)
    except CheckFailed as exc:
        raise Refused(str(exc)) from exc
    return [f"{bot_version.version_ids(built)[0]} matches ChatBot", *lines]


# -- commands ---------------------------------------------------------------------------------------------------
def build(args: list[str], run: Runner) -> int:
    """``sam build`` of the root template, then the build check."""
    if any(arg in ("--use-container", "-u") for arg in args):
        raise Refused(
            "--use-container is not supported: the layer is cross-built for the Lambda architecture with "
            "pip --platform (no container needed), and in a container its Makefile cannot read template.yaml"
        )
    templates, _ = split_option(args, ("-t", "--template", "--template-file"))
    if any(Path(t).resolve() != TEMPLATE_PATH for t in templates):
        raise Refused("only the root template.yaml can be built: the layer's Makefile reads its architecture")
    build_dirs, _ = split_option(args, ("-b", "--build-dir"))
    status = run([str(SAM), "build", *args])
    if status != 0:
        return status
    build_dir = Path(build_dirs[-1]) if build_dirs else BUILD_DIR
    if not build_dir.is_absolute():
        build_dir = Path.cwd() / build_dir
    for line in check(build_dir, SAMCONFIG):
        print(f"deploy check: {line}", file=sys.stderr)
    return 0


def deploy(args: list[str], run: Runner) -> int:
    """The guards, then ``sam deploy`` with the merged parameter overrides and every ``<Name>ConfigDigest``."""
    envs, _ = split_option(args, ("--config-env",))
    files, _ = split_option(args, ("--config-file",))
    templates, _ = split_option(args, ("-t", "--template", "--template-file"))
    cli_tokens, rest = split_option(args, ("--parameter-overrides",), nargs=True)
    samconfig = Path(files[-1]) if files else SAMCONFIG
    env = envs[-1] if envs else "default"
    build_dir = Path(templates[-1]).resolve().parent if templates else BUILD_DIR
    configured = samconfig_overrides(samconfig, env)
    overrides = {
        k: v for k, v in {**configured, **parse_overrides(cli_tokens)}.items() if not k.endswith(DIGEST_SUFFIX)
    }
    for line in guard_deploy(build_dir, overrides, samconfig):
        print(f"deploy check: {line}", file=sys.stderr)
    built = load_template(build_dir / "template.yaml")
    digests = config_digests(built, effective_parameters(built, overrides))
    for name, digest in digests.items():
        print(f"deploy check: {name}={digest}", file=sys.stderr)
    if not templates:
        rest = [*rest, "--template-file", str(build_dir / "template.yaml")]
    return run([str(SAM), "deploy", *rest, "--parameter-overrides", *encode_overrides({**overrides, **digests})])


def _exec(argv: Sequence[str]) -> int:
    env = {**os.environ, "PATH": f"{REPO_ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.setdefault("SAM_CLI_TELEMETRY", "0")
    return subprocess.run(list(argv), env=env, check=False).returncode


def main(argv: Sequence[str] | None = None, run: Runner = _exec) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else ""
    try:
        if command == "build":
            return build(args[1:], run)
        if command == "deploy":
            return deploy(args[1:], run)
        if args[:2] == ["local", "start-api"]:
            raise Refused(
                "SAM CLI does not emulate ChatApi's JWT authorizer, so every route would answer 401: "
                "scripts/run-local.sh serves the API and the chat page locally (sam local invoke works)"
            )
    except (Refused, CheckFailed) as exc:
        print(f"scripts/sam.sh {command}: refused: {exc}", file=sys.stderr)
        return 2
    return run([str(SAM), *args])


if __name__ == "__main__":
    sys.exit(main())
