"""Read ``template.yaml`` the way tools need it: the table definition, and each function as Lambda sees it.

Everything here is derived from the template itself (no second copy of the key schema, the handler
or the environment), so the tests and the local run break when the template and the code disagree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
TABLE_ID = "SessionTable"
LOCAL_REGION = "us-east-1"
LOCAL_ACCOUNT = "123456789012"
LOCAL_STACK = "chatstate-local"
LOCAL_USER_POOL = f"{LOCAL_REGION}_LocalPool"
"""What ``Ref UserPool`` is locally (no Cognito here: tokens of this issuer cannot be fetched, users stay anonymous)."""
LOCAL_USER_POOL_CLIENT = "local-app-client"

_FN_TAGS = (
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "Length",
    "ToJsonString",
)


class TemplateError(ValueError):
    """The template lacks something a tool needs, or uses an intrinsic we cannot resolve locally."""


class CfnLoader(yaml.SafeLoader):
    """A safe YAML loader that turns CloudFormation short tags into their long ``Fn::`` form."""


def _construct(node: yaml.Node, loader: CfnLoader) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


def _fn(name: str):
    def constructor(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
        return {f"Fn::{name}": _construct(node, loader)}

    return constructor


def _ref(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Ref": loader.construct_scalar(node)}


def _condition(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Condition": loader.construct_scalar(node)}


def _get_att(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
    value = _construct(node, loader)
    if isinstance(value, str):
        resource, _, attribute = value.partition(".")
        value = [resource, attribute]
    return {"Fn::GetAtt": value}


for _name in _FN_TAGS:
    CfnLoader.add_constructor(f"!{_name}", _fn(_name))
CfnLoader.add_constructor("!Ref", _ref)
CfnLoader.add_constructor("!Condition", _condition)
CfnLoader.add_constructor("!GetAtt", _get_att)


def load_template(template_path: Path | str = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as plain dicts/lists, short tags expanded (``!Ref X`` → ``{"Ref": "X"}``)."""
    return _load_cached(str(Path(template_path).resolve()), Path(template_path).stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _load_cached(path: str, _mtime: int) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=CfnLoader)  # CfnLoader is a SafeLoader subclass
    if not isinstance(data, dict) or "Resources" not in data:
        raise TemplateError(f"{path} is not a CloudFormation template (no Resources)")
    return data


def resource(template: Mapping[str, Any], logical_id: str) -> dict[str, Any]:
    """One resource of the template, or ``TemplateError``."""
    try:
        return template["Resources"][logical_id]
    except KeyError:
        raise TemplateError(f"template has no resource {logical_id!r}") from None


_NO_VALUE = object()


@dataclass
class Resolver:
    """Resolves intrinsics to local values: parameters (defaults + overrides), pseudo parameters, known refs."""

    template: Mapping[str, Any]
    refs: dict[str, Any] = field(default_factory=dict)
    """Extra ``Ref`` values, e.g. ``{"SessionTable": "my-local-table"}``."""
    parameter_overrides: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        values: dict[str, Any] = {
            "AWS::Region": LOCAL_REGION,
            "AWS::AccountId": LOCAL_ACCOUNT,
            "AWS::StackName": LOCAL_STACK,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": _NO_VALUE,
        }
        for name, spec in (self.template.get("Parameters") or {}).items():
            if name in self.parameter_overrides:
                values[name] = self.parameter_overrides[name]
            elif "Default" in spec:
                values[name] = str(spec["Default"]) if not isinstance(spec["Default"], list) else spec["Default"]
        values.update(self.refs)
        self.values = values
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        """Evaluate a named condition of the template."""
        if name not in self._conditions:
            try:
                expression = self.template["Conditions"][name]
            except KeyError:
                raise TemplateError(f"template has no condition {name!r}") from None
            self._conditions[name] = bool(self.resolve(expression))
        return self._conditions[name]

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic replaced by its local value (``AWS::NoValue`` entries dropped)."""
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = _INTRINSICS.get(key)
            if handler is not None:
                return handler(self, arg)
        return {k: r for k, r in ((k, self.resolve(v)) for k, v in value.items()) if r is not _NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name not in self.values:
            raise TemplateError(f"cannot resolve Ref {name!r} locally")
        return self.values[name]

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name:
                return str(self._get_att(name.split(".", 1)))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def _get_att(self, arg: list[str]) -> Any:
        key = f"{arg[0]}.{arg[1]}"
        if key not in self.values:
            raise TemplateError(f"cannot resolve Fn::GetAtt {key} locally")
        return self.values[key]

    def _if(self, arg: list[Any]) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if self.condition(name) else when_false)


_INTRINSICS: dict[str, Any] = {
    "Ref": lambda r, a: r._ref(a),
    "Condition": lambda r, a: r.condition(a),
    "Fn::Sub": lambda r, a: r._sub(a),
    "Fn::GetAtt": lambda r, a: r._get_att(a),
    "Fn::If": lambda r, a: r._if(a),
    "Fn::Equals": lambda r, a: str(r.resolve(a[0])) == str(r.resolve(a[1])),
    "Fn::Not": lambda r, a: not r.resolve(a[0]),
    "Fn::And": lambda r, a: all(r.resolve(x) for x in a),
    "Fn::Or": lambda r, a: any(r.resolve(x) for x in a),
    "Fn::Join": lambda r, a: str(a[0]).join(str(x) for x in r.resolve(a[1])),
    "Fn::Select": lambda r, a: r.resolve(a[1])[int(r.resolve(a[0]))],
    "Fn::Split": lambda r, a: str(r.resolve(a[1])).split(str(a[0])),
}


# --- the session table -------------------------------------------------------------------------------------------

_TABLE_KEYS = (
    "KeySchema",
    "AttributeDefinitions",
    "BillingMode",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "ProvisionedThroughput",
    "StreamSpecification",
)


def session_table_spec(template_path: Path | str = TEMPLATE_PATH) -> dict[str, Any]:
    """``create_table`` kwargs (without ``TableName``) taken from ``SessionTable``'s own Properties."""
    template = load_template(template_path)
    table = resource(template, TABLE_ID)
    if table.get("Type") != "AWS::DynamoDB::Table":
        raise TemplateError(f"{TABLE_ID} is {table.get('Type')}, expected AWS::DynamoDB::Table")
    properties = Resolver(template).resolve(table.get("Properties") or {})
    spec = {key: properties[key] for key in _TABLE_KEYS if key in properties}
    if "KeySchema" not in spec or "AttributeDefinitions" not in spec:
        raise TemplateError(f"{TABLE_ID} has no KeySchema/AttributeDefinitions")
    return spec


def ttl_specification(template_path: Path | str = TEMPLATE_PATH) -> dict[str, Any] | None:
    """``SessionTable``'s ``TimeToLiveSpecification`` (``AttributeName``, ``Enabled``), if any."""
    template = load_template(template_path)
    properties = Resolver(template).resolve(resource(template, TABLE_ID).get("Properties") or {})
    return properties.get("TimeToLiveSpecification")


def create_session_table(client: Any, table_name: str, template_path: Path | str = TEMPLATE_PATH) -> dict[str, Any]:
    """Create ``table_name`` exactly as ``SessionTable`` is defined, wait for it, and enable its TTL.

    Returns ``describe_table()["Table"]``.
    """
    client.create_table(TableName=table_name, **session_table_spec(template_path))
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    ttl = ttl_specification(template_path)
    if ttl and str(ttl.get("Enabled")).lower() == "true":
        client.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
        )
    return client.describe_table(TableName=table_name)["Table"]


# --- functions ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpRoute:
    """One ``HttpApi`` event of a function: ``METHOD /path/{param}``."""

    method: str
    path: str

    @property
    def route_key(self) -> str:
        """API Gateway's ``routeKey``."""
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class FunctionSpec:
    """A function as Lambda would run it: code, handler, layers and environment (Globals merged)."""

    logical_id: str
    code_dir: Path
    handler_module: str
    handler_function: str
    layer_dirs: tuple[Path, ...]
    environment: dict[str, str]
    runtime: str
    memory_mb: int
    timeout_s: int
    http_routes: tuple[HttpRoute, ...] = ()

    @property
    def handler_file(self) -> Path:
        """The module file ``Handler`` points at, under ``CodeUri``."""
        return self.code_dir / (self.handler_module.replace(".", "/") + ".py")


def _merged_function_properties(template: Mapping[str, Any], logical_id: str) -> dict[str, Any]:
    res = resource(template, logical_id)
    if res.get("Type") != "AWS::Serverless::Function":
        raise TemplateError(f"{logical_id} is {res.get('Type')}, expected AWS::Serverless::Function")
    merged = dict((template.get("Globals") or {}).get("Function") or {})
    own = res.get("Properties") or {}
    for key, value in own.items():
        if key == "Environment":
            variables = dict((merged.get("Environment") or {}).get("Variables") or {})
            variables.update((value or {}).get("Variables") or {})
            merged["Environment"] = {"Variables": variables}
        elif key == "Layers":
            merged["Layers"] = list(merged.get("Layers") or []) + list(value)
        else:
            merged[key] = value
    return merged


def function_spec(
    logical_id: str,
    *,
    template_path: Path | str = TEMPLATE_PATH,
    table_name: str = "chatstate-local-sessions",
    parameter_overrides: Mapping[str, str] | None = None,
) -> FunctionSpec:
    """``logical_id`` as Lambda would see it, with ``Ref SessionTable`` resolved to ``table_name``."""
    path = Path(template_path)
    template = load_template(path)
    root = path.resolve().parent
    props = _merged_function_properties(template, logical_id)
    resolver = Resolver(
        template,
        refs={
            TABLE_ID: table_name,
            f"{TABLE_ID}.Arn": f"arn:aws:dynamodb:{LOCAL_REGION}:{LOCAL_ACCOUNT}:table/{table_name}",
            "UserPool": LOCAL_USER_POOL,
            "UserPoolClient": LOCAL_USER_POOL_CLIENT,
        },
        parameter_overrides=parameter_overrides or {},
    )
    handler = str(props.get("Handler") or "")
    module, _, function = handler.rpartition(".")
    if not module or "CodeUri" not in props:
        raise TemplateError(f"{logical_id} needs CodeUri and a Handler like 'module.function'")
    layer_dirs = []
    for layer in props.get("Layers") or []:
        if isinstance(layer, dict) and "Ref" in layer:
            layer_res = resource(template, layer["Ref"])
            layer_dirs.append(root / str(layer_res["Properties"]["ContentUri"]))
    variables = resolver.resolve((props.get("Environment") or {}).get("Variables") or {})
    routes = tuple(
        HttpRoute(str(event["Properties"]["Method"]).upper(), str(event["Properties"]["Path"]))
        for event in (props.get("Events") or {}).values()
        if event.get("Type") == "HttpApi" and "Path" in (event.get("Properties") or {})
    )
    return FunctionSpec(
        logical_id=logical_id,
        code_dir=root / str(props["CodeUri"]),
        handler_module=module,
        handler_function=function,
        layer_dirs=tuple(layer_dirs),
        environment={str(k): "" if v is None else str(v) for k, v in variables.items()},
        runtime=str(resolver.resolve(props.get("Runtime", ""))),
        memory_mb=int(resolver.resolve(props.get("MemorySize", 128))),
        timeout_s=int(resolver.resolve(props.get("Timeout", 3))),
        http_routes=routes,
    )
