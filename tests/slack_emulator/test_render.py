"""Block Kit → plain text."""

from devkit.slack_emulator import blocks_to_text, collect_actions, message_to_text, view_to_text
from devkit.slack_emulator.render import mrkdwn_to_text

NAMES = {"U1": "alice"}


def test_mrkdwn_links_mentions_and_entities():
    text = (
        "<https://grafana.example/d/1|dashboard> <@U1> <@U9> <#C1|inc-1> <!here> "
        "<!subteam^S1|@oncall> a &lt;b&gt;"
    )
    assert mrkdwn_to_text(text, NAMES.get) == (
        "dashboard (https://grafana.example/d/1) @alice @U9 #inc-1 @here @oncall a <b>"
    )
    assert mrkdwn_to_text("<https://x.example>") == "https://x.example"


def test_message_blocks_with_numbered_actions():
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "P1 Checkout down"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "Commander: <@U1>"},
            "fields": [{"type": "mrkdwn", "text": "*Sev*\nP1"}],
            "accessory": {
                "type": "button",
                "action_id": "page",
                "text": {"type": "plain_text", "text": "Page"},
            },
        },
        {"type": "divider"},
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": "opened 10:02"},
                {"type": "image", "image_url": "x", "alt_text": "clock"},
            ],
        },
        {
            "type": "actions",
            "block_id": "controls",
            "elements": [
                {
                    "type": "button",
                    "action_id": "ack",
                    "value": "1",
                    "text": {"type": "plain_text", "text": "Ack"},
                },
                {
                    "type": "static_select",
                    "action_id": "sev",
                    "placeholder": {"type": "plain_text", "text": "Severity"},
                    "options": [{"text": {"type": "plain_text", "text": "P0"}, "value": "p0"}],
                },
            ],
        },
        {"type": "image", "image_url": "x", "alt_text": "latency graph"},
        {"type": "unknown_future_block"},
    ]
    text = blocks_to_text(blocks, "fallback", NAMES.get)
    assert text.splitlines() == [
        "P1 Checkout down",
        "================",
        "Commander: @alice",
        "  *Sev*",
        "P1",
        "[1] [Page](page)",
        "---",
        "opened 10:02 · [image: clock]",
        "[2] [Ack](ack)",
        "[3] [Severity](sev): P0",
        "[image: latency graph]",
        "[unknown_future_block block]",
    ]
    actions = collect_actions(blocks)
    assert [(a.number, a.action_id, a.block_id) for a in actions] == [
        (1, "page", None),
        (2, "ack", "controls"),
        (3, "sev", "controls"),
    ]
    assert actions[2].options == (("P0", "p0"),) and actions[1].value == "1"


def test_text_fallback_rich_text_attachments_and_files():
    assert blocks_to_text(None, "hi <@U1>", NAMES.get) == "hi @alice"
    rich = [
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": "see "},
                        {"type": "link", "url": "https://r.example", "text": "runbook"},
                        {"type": "user", "user_id": "U1"},
                    ],
                },
                {
                    "type": "rich_text_list",
                    "style": "ordered",
                    "elements": [
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "check pods"}]}
                    ],
                },
                {
                    "type": "rich_text_preformatted",
                    "elements": [{"type": "text", "text": "kubectl get pods"}],
                },
            ],
        }
    ]
    assert blocks_to_text(rich, None, NAMES.get) == (
        "see runbook (https://r.example)@alice1. check pods\n```\nkubectl get pods\n```"
    )
    msg = {
        "text": "summary",
        "attachments": [{"color": "danger", "title": "Errors", "text": "502s"}],
        "files": [{"name": "diag.txt", "title": "Diag output"}],
    }
    assert message_to_text(msg) == "summary\n| Errors\n| 502s\n[file: Diag output]"


def test_modal():
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Declare incident"},
        "submit": {"type": "plain_text", "text": "Declare"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "title",
                "optional": True,
                "label": {"type": "plain_text", "text": "Title"},
                "element": {"type": "plain_text_input", "action_id": "v", "initial_value": "502s"},
            }
        ],
    }
    assert view_to_text(view) == (
        "== Declare incident ==\nTitle (optional): <plain_text_input title/v> = '502s'\n[Declare] [Cancel]"
    )
