"""The bot's AWS IAM policy (deploy/aws/iam-policy.json) against the code: neither may have what the
other lacks, as tests/deploy/test_rbac.py does for Kubernetes.

The code's side is read statically: in each module that asks for a boto3 client of a service
(`aws(ctx, "ec2")`, `aws_client("sns", …)`), every method called that is an operation of that
service — by botocore's own service model — and every paginator named, is an action it needs.
"""

from __future__ import annotations

import ast
import json
from functools import cache
from pathlib import Path

import botocore.session
from botocore import xform_name

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "deploy" / "aws" / "iam-policy.json"
CLIENT_FACTORIES = {"aws", "aws_client"}
# botocore's service name -> the IAM action prefix, where they differ.
IAM_PREFIX = {"ses": "ses", "sns": "sns"}


@cache
def _operations(service: str) -> dict[str, str]:
    model = _botocore().get_service_model(service)
    return {xform_name(name): name for name in model.operation_names}


@cache
def _botocore() -> botocore.session.Session:
    return botocore.session.get_session()


def _services(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in CLIENT_FACTORIES:
                found |= {
                    a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
                }
    return found


def code_actions(root: Path = ROOT) -> dict[str, set[str]]:
    """IAM action -> the modules that need it."""
    needed: dict[str, set[str]] = {}
    for path in sorted((root / "bot").rglob("*.py")):
        tree = ast.parse(path.read_text())
        services = _services(tree)
        if not services:
            continue
        called = {
            n.func.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
        }
        paginated = {
            n.args[0].value
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "get_paginator"
            and n.args and isinstance(n.args[0], ast.Constant)
        }  # fmt: skip
        for service in services:
            operations = _operations(service)
            for method in (called | paginated) & set(operations):
                action = f"{IAM_PREFIX.get(service, service)}:{operations[method]}"
                needed.setdefault(action, set()).add(str(path.relative_to(root)))
    return needed


def policy_actions() -> set[str]:
    document = json.loads(POLICY.read_text())
    return {action for statement in document["Statement"] for action in statement["Action"]}


def test_the_policy_grants_what_the_code_calls_and_nothing_else() -> None:
    code, policy = code_actions(), policy_actions()
    missing = {action: sorted(code[action]) for action in set(code) - policy}
    assert not missing, f"the code calls what deploy/aws/iam-policy.json does not grant: {missing}"
    assert not policy - set(code), f"the policy grants what no code calls: {sorted(policy - set(code))}"


def test_the_access_denied_hints_name_what_each_part_needs() -> None:
    from bot.diagnostics.aws import IAM_ACTIONS as DIAGNOSTICS
    from bot.remediation.actions.aws import IAM_ACTIONS as EBS
    from bot.remediation.actions.aws_security import IAM_ACTIONS as SECURITY

    needed = code_actions()
    diagnostics = {
        a for a, modules in needed.items() if any(m.startswith("bot/diagnostics/") for m in modules)
    }
    assert set(DIAGNOSTICS) == diagnostics
    assert set(EBS) | set(SECURITY) <= policy_actions()


def test_the_static_reader_sees_a_planted_call(tmp_path: Path) -> None:
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "x.py").write_text(
        'with aws(ctx, "ec2") as c:\n    c.terminate_instances(InstanceIds=[])\n    c.get_paginator("describe_images")\n'
    )
    assert set(code_actions(tmp_path)) == {"ec2:TerminateInstances", "ec2:DescribeImages"}
