"""Parsers, one module per kind of sender: the body in, `Alert`s (and the sender's expected answer) out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.alerts.normalize import Alert


@dataclass
class Parsed:
    alerts: list[Alert] = field(default_factory=list)
    status: int = 200
    body: dict[str, Any] = field(default_factory=lambda: {"status": "ok"})
