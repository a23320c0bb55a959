"""Reading API objects' fields the way kubectl shows them: times, ages, quantities, owners, tables."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bot.diagnostics.base import (
    format_table,
)


# ------------------------------------------------------------------------------------ helpers
def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def age_since(value: str | None, now: datetime | None = None) -> str:
    """kubectl's age column: 45s, 12m, 5h, 3d."""
    when = _parse_time(value)
    if when is None:
        return "-"
    seconds = max(0, int(((now or datetime.now(UTC)) - when).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * (2 if unit != "m" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def table(headers: list[str], rows: Iterable[list[str]], max_width: int = 100) -> str:
    return format_table(headers, list(rows), max_width=max_width)


def quantity(value: str | None) -> Decimal | None:
    if not value:
        return None
    from kubernetes.utils import parse_quantity

    try:
        return Decimal(parse_quantity(value))
    except (ValueError, ArithmeticError):
        return None


def format_bytes(value: Decimal | float | None) -> str:
    if value is None:
        return "-"
    number = float(value)
    for unit in ("Ki", "Mi", "Gi", "Ti"):
        number /= 1024
        if number < 1024:
            return f"{number:.0f}{unit}" if number >= 10 else f"{number:.1f}{unit}"
    return f"{number:.0f}Pi"


def format_cores(value: Decimal | None) -> str:
    return "-" if value is None else f"{int(value * 1000)}m"


def deployment_of(pod: dict[str, Any]) -> str | None:
    """The deployment behind a pod: its ReplicaSet owner's name without the pod-template-hash."""
    template_hash = pod["metadata"].get("labels", {}).get("pod-template-hash")
    for owner in pod["metadata"].get("ownerReferences") or []:
        if (
            owner.get("kind") == "ReplicaSet"
            and template_hash
            and owner["name"].endswith(f"-{template_hash}")
        ):
            return str(owner["name"][: -len(template_hash) - 1])
    return None


def selector_text(label_selector: dict[str, Any]) -> str:
    """A LabelSelector object as the `labelSelector=` query string kubectl sends."""
    terms = [f"{k}={v}" for k, v in sorted((label_selector.get("matchLabels") or {}).items())]
    for expr in label_selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], ",".join(expr.get("values") or [])
        terms.append(
            {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key}.get(
                op, f"!{key}"
            )
        )
    return ",".join(terms)


def scoped(name: str, ns: str, many: bool) -> str:
    return f"{ns}/{name}" if many else name
