"""Modals: the declare form (`/incident` alone) and the status-update form (summary button)."""

from __future__ import annotations

from typing import Any

from bot.config.policy import SEVERITY_KEYS, Policy
from bot.i18n import _
from bot.slack.blocks.security import type_block

DECLARE_CALLBACK = "declare_incident"
STATUS_CALLBACK = "incident_status_update"
DRILL_BLOCK = "drill"


def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def declare_view(policy: Policy, origin_channel: str | None) -> dict[str, Any]:
    options = [
        {"text": _plain(f"{key.upper()} · {policy.severity(key).label}"), "value": key}
        for key in SEVERITY_KEYS
    ]
    return {
        "type": "modal",
        "callback_id": DECLARE_CALLBACK,
        "private_metadata": origin_channel or "",
        "title": _plain(_("Declare an incident")),
        "submit": _plain(_("Declare")),
        "close": _plain(_("Cancel")),
        "blocks": [
            {
                "type": "input",
                "block_id": "severity",
                "label": _plain(_("Severity")),
                "element": {"type": "static_select", "action_id": "value", "options": options},
            },
            {
                "type": "input",
                "block_id": "title",
                "label": _plain(_("Title")),
                "element": {"type": "plain_text_input", "action_id": "value", "max_length": 150},
            },
            *([type_block(policy)] if policy.incident_types else []),
            {
                "type": "input",
                "block_id": DRILL_BLOCK,
                "optional": True,
                "label": _plain(_("Drill")),
                "element": {
                    "type": "checkboxes",
                    "action_id": "value",
                    "options": [
                        {
                            "text": _plain(_("This is a drill")),
                            # Slack allows 75 characters in an option's description.
                            "description": _plain(
                                _("The real response, marked DRILL; kept out of metrics and reports.")
                            ),
                            "value": "drill",
                        }
                    ],
                },
            },
        ],
    }


def status_view(incident_id: int) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": STATUS_CALLBACK,
        "private_metadata": str(incident_id),
        "title": _plain(_("Status update")),
        "submit": _plain(_("Post")),
        "blocks": [
            {
                "type": "input",
                "block_id": "status",
                "label": _plain(_("What should stakeholders know?")),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": 3000,
                },
            }
        ],
    }
