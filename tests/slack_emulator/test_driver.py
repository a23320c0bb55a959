"""SlackDriver against a real Bolt app served over HTTP, with the emulator as its Web API."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from devkit.slack_emulator import SlackDriver, SlackEmulator

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def serve(handle) -> tuple[ThreadingHTTPServer, str]:
    """A tiny HTTP endpoint; `handle(body, headers) -> (status, body)`."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            status, out = handle(body, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(status)
            self.send_header("Content-Length", str(len(out.encode())))
            self.end_headers()
            self.wfile.write(out.encode())

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/slack/events"


def make_app(emu: SlackEmulator) -> App:
    app = App(signing_secret=SECRET, client=WebClient(token=emu.bot_token, base_url=emu.api_url))

    @app.command("/incident")
    def incident(ack, command, client, respond):
        ack("Declaring…")
        sev, title = command["text"].split(" ", 1)
        cid = client.conversations_create(name=f"inc-1-{title.split()[0].lower()}")["channel"]["id"]
        client.conversations_invite(channel=cid, users=command["user_id"])
        client.chat_postMessage(
            channel=cid,
            text=f"{sev.upper()} {title}",
            blocks=[
                {"type": "section", "text": {"type": "mrkdwn", "text": f"*{sev.upper()}* {title}"}},
                {
                    "type": "actions",
                    "block_id": "controls",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "ack",
                            "value": "inc-1",
                            "text": {"type": "plain_text", "text": "Acknowledge"},
                        }
                    ],
                },
            ],
        )
        respond(f"Opened <#{cid}>")

    @app.action("ack")
    def on_ack(ack, body, respond):
        ack()
        respond(replace_original=True, text=f"Acknowledged by <@{body['user']['id']}>")

    @app.command("/declare")
    def declare(ack, body, client):
        ack()
        client.views_open(
            trigger_id=body["trigger_id"],
            view={
                "type": "modal",
                "callback_id": "declare",
                "title": {"type": "plain_text", "text": "Declare"},
                "submit": {"type": "plain_text", "text": "Go"},
                "blocks": [
                    {
                        "type": "input",
                        "block_id": "title",
                        "label": {"type": "plain_text", "text": "Title"},
                        "element": {"type": "plain_text_input", "action_id": "v"},
                    }
                ],
            },
        )

    @app.view("declare")
    def submitted(ack, view):
        title = view["state"]["values"]["title"]["v"]["value"]
        if not title:
            ack(response_action="errors", errors={"title": "Required"})
        else:
            ack()

    @app.event("message")
    def message(event):
        pass

    @app.event("app_mention")
    def mention(event, say):
        say(f"hello <@{event['user']}>")

    return app


@pytest.fixture
def bot(emu: SlackEmulator) -> Iterator[SlackDriver]:
    app = make_app(emu)

    def handle(body, headers):
        resp = app.dispatch(BoltRequest(body=body, headers=headers))
        return resp.status, resp.body

    server, url = serve(handle)
    with SlackDriver(url, SECRET, emu) as driver:
        yield driver
    server.shutdown()


def test_slash_command_end_to_end(emu, bot):
    alice = emu.add_user("alice")
    resp = bot.command("/incident", "p1 Checkout down", user_id=alice.id, channel_id="C_GENERAL")
    assert resp.status == 200 and resp.body == "Declaring…" and resp.elapsed < 3
    ch = emu.wait_for(lambda: emu.find_channel_prefix("inc-"), timeout=5)
    emu.wait_for(lambda: alice.id in ch.members)
    posted = emu.wait_for(lambda: emu.messages(ch.id), timeout=5)
    assert posted[0]["text"] == "P1 Checkout down"
    replies = resp.wait_responses(1, timeout=5)
    assert replies[0]["text"] == f"Opened <#{ch.id}>"
    assert emu.ephemerals(user=alice.id)[0]["via"] == "response_url"


def test_block_action_replaces_original(emu, bot):
    alice = emu.add_user("alice")
    bot.command("/incident", "p1 Checkout down", user_id=alice.id)
    ch = emu.wait_for(lambda: emu.find_channel_prefix("inc-"))
    msg = emu.wait_for(lambda: emu.messages(ch.id))[0]
    resp = bot.press(alice.id, ch.id, msg["ts"], 1)
    assert resp.status == 200
    assert resp.wait_responses()[0]["replace_original"] is True
    assert emu.messages(ch.id)[0]["text"] == f"Acknowledged by <@{alice.id}>"


def test_modal_open_and_submit(emu, bot):
    alice = emu.add_user("alice")
    bot.command("/declare", "", user_id=alice.id)
    modal = emu.wait_for(lambda: emu.open_modals(alice.id))[0]
    assert modal["callback_id"] == "declare"
    bad = bot.view_submission(
        alice.id, "declare", {"title": {"v": {"type": "plain_text_input", "value": ""}}}
    )
    assert bad.json()["response_action"] == "errors" and emu.open_modals(alice.id)
    good = bot.view_submission(
        alice.id, "declare", {"title": {"v": {"type": "plain_text_input", "value": "x"}}}
    )
    assert good.status == 200 and emu.open_modals(alice.id) == []


def test_events_and_user_messages(emu, bot):
    alice = emu.add_user("alice")
    resp = bot.event(
        {
            "type": "app_mention",
            "user": alice.id,
            "channel": "C_GENERAL",
            "text": "<@U> hi",
            "ts": emu.new_ts(),
        }
    )
    assert resp.status == 200
    said = emu.wait_for(lambda: [m for m in emu.messages("C_GENERAL") if m.get("bot_id")])
    assert said[0]["text"] == f"hello <@{alice.id}>"
    assert bot.message(alice.id, "C_GENERAL", "just chatting").status == 200
    assert emu.messages("C_GENERAL")[-1]["text"] == "just chatting"


def test_bolt_rejects_forged_stale_and_unsigned(emu, bot):
    alice = emu.add_user("alice")
    forged = bot.command("/incident", "p1 x", user_id=alice.id, signature="v0=" + "0" * 64)
    stale = bot.command("/incident", "p1 x", user_id=alice.id, timestamp=int(time.time()) - 600)
    unsigned = bot.command("/incident", "p1 x", user_id=alice.id, signed=False)
    assert (forged.status, stale.status, unsigned.status) == (401, 401, 401)
    assert emu.find_channel_prefix("inc-") is None


def test_wire_format_matches_slack(emu):
    seen: list[tuple[str, dict]] = []

    def handle(body, headers):
        seen.append((body, headers))
        return 200, ""

    server, url = serve(handle)
    verifier = SignatureVerifier(SECRET)
    with SlackDriver(url, SECRET, emu) as driver:
        driver.command("/incident", "p0 DB down", user_id="U1", channel_id="C_GENERAL")
        driver.event({"type": "reaction_added", "user": "U1"}, event_id="Ev1", retry_num=1)
        driver.block_action("U1", "C_GENERAL", "1.000001", "ack", value="v")
    server.shutdown()
    for body, headers in seen:
        assert verifier.is_valid(body, headers["x-slack-request-timestamp"], headers["x-slack-signature"])
    form = {k: v[0] for k, v in parse_qs(seen[0][0], keep_blank_values=True).items()}
    assert set(form) >= {
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "response_url",
        "trigger_id",
    }
    assert form["channel_name"] == "general" and form["response_url"].startswith(emu.base_url + "response/")
    envelope = json.loads(seen[1][0])
    assert envelope["type"] == "event_callback" and envelope["event_id"] == "Ev1"
    assert seen[1][1]["x-slack-retry-num"] == "1" and seen[1][1]["x-slack-retry-reason"] == "http_timeout"
    action = json.loads(parse_qs(seen[2][0])["payload"][0])
    assert action["type"] == "block_actions" and action["actions"][0]["value"] == "v"
    assert action["container"]["message_ts"] == "1.000001" and action["trigger_id"]
