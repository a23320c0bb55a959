"""The emulator's Web API, driven by the real slack_sdk WebClient."""

import json
import time
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from devkit.slack_emulator import SlackEmulator


def error_of(fn, **kwargs) -> str:
    with pytest.raises(SlackApiError) as info:
        fn(**kwargs)
    return info.value.response["error"]


def test_starts_fast_and_stops():
    started = time.perf_counter()
    emu = SlackEmulator().start()
    assert time.perf_counter() - started < 0.05
    assert emu.api_url.startswith("http://127.0.0.1:") and emu.api_url.endswith("/api/")
    emu.stop()


def test_auth(emu, client):
    resp = client.auth_test()
    assert resp["user_id"] == emu.bot_user_id and resp["bot_id"] == emu.bot_id
    assert resp["team_id"] == emu.team_id
    assert "chat:write" in resp.headers["X-OAuth-Scopes"]
    assert error_of(WebClient(base_url=emu.api_url).auth_test) == "not_authed"
    assert error_of(WebClient(token="xoxb-nope", base_url=emu.api_url).auth_test) == "invalid_auth"
    assert error_of(client.api_call, api_method="nope.nothing") == "unknown_method"


def test_configurable_scopes_and_team():
    with SlackEmulator(scopes=["chat:write"], team_id="T0CUSTOM") as emu:
        client = WebClient(token=emu.bot_token, base_url=emu.api_url)
        assert client.auth_test().headers["X-OAuth-Scopes"] == "chat:write"
        assert client.auth_test()["team_id"] == "T0CUSTOM"
        with pytest.raises(SlackApiError) as info:
            client.conversations_create(name="x")
        assert info.value.response["error"] == "missing_scope"
        assert info.value.response["needed"] == "channels:manage"


def test_form_and_json_bodies_and_token_param(emu):
    body = f"token={emu.bot_token}&channel=C_GENERAL&text=hi&blocks=%5B%7B%22type%22%3A%22divider%22%7D%5D"
    req = urllib.request.Request(emu.api_url + "chat.postMessage", data=body.encode(), method="POST")
    reply = json.loads(urllib.request.urlopen(req).read())
    assert reply["ok"] and reply["message"]["blocks"] == [{"type": "divider"}]
    req = urllib.request.Request(
        emu.api_url + "chat.postMessage",
        data=json.dumps({"channel": "C_GENERAL", "text": "json"}).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {emu.bot_token}"},
    )
    assert json.loads(urllib.request.urlopen(req).read())["ok"]
    assert [m["text"] for m in emu.messages("general")] == ["hi", "json"]
    assert "token" not in emu.calls_to("chat.postMessage")[0].params


@pytest.mark.filterwarnings("ignore:The top-level `text`")
def test_post_message_channels_dms_threads(emu, client):
    alice = emu.add_user("alice", real_name="Alice A", tz="Asia/Shanghai")
    first = client.chat_postMessage(channel="C_GENERAL", text="one")
    second = client.chat_postMessage(channel="#general", text="two")
    assert float(second["ts"]) > float(first["ts"]) and first["channel"] == "C_GENERAL"
    reply = client.chat_postMessage(channel="C_GENERAL", thread_ts=first["ts"], text="in thread")
    dm = client.chat_postMessage(channel=alice.id, text="you are paged")
    assert dm["channel"].startswith("D") and emu.dms(alice.id)[0]["text"] == "you are paged"
    assert client.conversations_open(users=alice.id)["channel"]["id"] == dm["channel"]
    history = client.conversations_history(channel="C_GENERAL")["messages"]
    assert [m["text"] for m in history] == ["two", "one"] and history[1]["reply_count"] == 1
    thread = client.conversations_replies(channel="C_GENERAL", ts=first["ts"])["messages"]
    assert [m["text"] for m in thread] == ["one", "in thread"] and thread[1]["ts"] == reply["ts"]
    assert error_of(client.chat_postMessage, channel="C_GENERAL") == "no_text"
    assert error_of(client.chat_postMessage, channel="C_NOPE", text="x") == "channel_not_found"


def test_membership_rules(emu, client):
    emu.add_channel("outside", id="C_OUT", bot_member=False)
    emu.add_channel("secret", id="C_SECRET", is_private=True, bot_member=False)
    assert error_of(client.chat_postMessage, channel="C_OUT", text="x") == "not_in_channel"
    assert error_of(client.chat_postMessage, channel="C_SECRET", text="x") == "channel_not_found"
    assert client.conversations_join(channel="C_OUT")["channel"]["is_member"]
    assert client.chat_postMessage(channel="C_OUT", text="x")["ok"]
    assert client.conversations_join(channel="C_OUT")["warning"] == "already_in_channel"


def test_block_limits(client):
    too_many = [{"type": "divider"}] * 51
    assert (
        error_of(client.chat_postMessage, channel="C_GENERAL", text="x", blocks=too_many) == "invalid_blocks"
    )
    header = [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]
    assert error_of(client.chat_postMessage, channel="C_GENERAL", text="x", blocks=header) == "invalid_blocks"
    big = [{"type": "section", "text": {"type": "mrkdwn", "text": "s" * 2900}}] * 5
    assert (
        error_of(client.chat_postMessage, channel="C_GENERAL", text="x", blocks=big) == "msg_blocks_too_long"
    )


def test_update_delete_ephemeral_permalink(emu, client):
    alice = emu.add_user("alice")
    ts = client.chat_postMessage(channel="C_GENERAL", text="v1")["ts"]
    assert client.chat_update(channel="C_GENERAL", ts=ts, text="v2")["message"]["text"] == "v2"
    assert emu.messages("C_GENERAL")[0]["edited"]["user"] == emu.bot_user_id
    link = client.chat_getPermalink(channel="C_GENERAL", message_ts=ts)["permalink"]
    assert link.endswith(f"/archives/C_GENERAL/p{ts.replace('.', '')}")
    eph = client.chat_postEphemeral(channel="C_GENERAL", user=alice.id, text="only you")
    assert emu.ephemerals(user=alice.id)[0]["ts"] == eph["message_ts"]
    assert emu.ephemerals(channel="general")[0]["text"] == "only you"
    emu.add_channel("quiet", id="C_QUIET")
    assert (
        error_of(client.chat_postEphemeral, channel="C_QUIET", user=alice.id, text="x")
        == "user_not_in_channel"
    )
    human = emu.add_message("C_GENERAL", alice.id, "mine")
    assert (
        error_of(client.chat_update, channel="C_GENERAL", ts=human["ts"], text="x") == "cant_update_message"
    )
    client.chat_delete(channel="C_GENERAL", ts=ts)
    assert error_of(client.chat_delete, channel="C_GENERAL", ts=ts) == "message_not_found"


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "invalid_name_required"),
        ("x" * 81, "invalid_name_maxlength"),
        ("Inc-1", "invalid_name_specials"),
        ("inc 1", "invalid_name_specials"),
        ("inc.1", "invalid_name_specials"),
        ("---", "invalid_name_punctuation"),
        ("general", "name_taken"),
    ],
)
def test_create_name_validation(client, name, error):
    assert error_of(client.conversations_create, name=name) == error


def test_channel_lifecycle(emu, client):
    alice, bob = emu.add_user("alice"), emu.add_user("bob")
    ch = client.conversations_create(name="inc-42-checkout-502", is_private=True)["channel"]
    cid = ch["id"]
    assert ch["is_private"] and ch["is_member"] and ch["creator"] == emu.bot_user_id
    assert emu.find_channel_prefix("inc-").id == cid
    client.conversations_invite(channel=cid, users=alice.id)
    client.conversations_invite(channel=cid, users=f"{alice.id},{bob.id}")  # partly new: ok
    assert (
        error_of(client.conversations_invite, channel=cid, users=[alice.id, bob.id]) == "already_in_channel"
    )
    assert error_of(client.conversations_invite, channel=cid, users="U_GHOST") == "user_not_found"
    assert error_of(client.conversations_invite, channel=cid, users=emu.bot_user_id) == "cant_invite_self"
    assert client.conversations_members(channel=cid)["members"] == [emu.bot_user_id, alice.id, bob.id]
    client.conversations_setTopic(channel=cid, topic="P1 · commander @alice")
    client.conversations_setPurpose(channel=cid, purpose="Checkout 502")
    info = client.conversations_info(channel=cid, include_num_members=True)["channel"]
    assert info["topic"]["value"] == "P1 · commander @alice" and info["purpose"]["value"] == "Checkout 502"
    assert info["num_members"] == 3
    assert cid in [c["id"] for c in client.conversations_list(types="private_channel")["channels"]]
    client.conversations_archive(channel=cid)
    assert error_of(client.chat_postMessage, channel=cid, text="x") == "is_archived"
    assert error_of(client.conversations_archive, channel=cid) == "already_archived"
    assert error_of(client.conversations_archive, channel="C_GENERAL") == "cant_archive_general"


def test_history_range_and_pagination(client):
    ts = [client.chat_postMessage(channel="C_GENERAL", text=str(i))["ts"] for i in range(5)]

    def texts(**kw):
        return [m["text"] for m in client.conversations_history(channel="C_GENERAL", **kw)["messages"]]

    assert texts(oldest=ts[1], latest=ts[3]) == ["2"]
    assert texts(oldest=ts[1], latest=ts[3], inclusive=True) == ["3", "2", "1"]
    page = client.conversations_history(channel="C_GENERAL", limit=2)
    assert page["has_more"] and [m["text"] for m in page["messages"]] == ["4", "3"]
    rest = client.conversations_history(
        channel="C_GENERAL", limit=2, cursor=page["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in rest["messages"]] == ["2", "1"]


def test_pins_and_reactions(emu, client):
    ts = client.chat_postMessage(channel="C_GENERAL", text="status")["ts"]
    client.pins_add(channel="C_GENERAL", timestamp=ts)
    assert error_of(client.pins_add, channel="C_GENERAL", timestamp=ts) == "already_pinned"
    assert client.pins_list(channel="C_GENERAL")["items"][0]["message"]["ts"] == ts
    client.pins_remove(channel="C_GENERAL", timestamp=ts)
    assert error_of(client.pins_remove, channel="C_GENERAL", timestamp=ts) == "no_pin"
    client.reactions_add(channel="C_GENERAL", timestamp=ts, name="eyes")
    assert error_of(client.reactions_add, channel="C_GENERAL", timestamp=ts, name="eyes") == "already_reacted"
    alice = emu.add_user("alice")
    emu.add_reaction("C_GENERAL", ts, "eyes", alice.id)
    reactions = client.reactions_get(channel="C_GENERAL", timestamp=ts)["message"]["reactions"]
    assert reactions == [{"name": "eyes", "users": [emu.bot_user_id, alice.id], "count": 2}]


def test_users_and_usergroups(emu, client):
    alice = emu.add_user("alice", email="alice@shop.example", tz="Asia/Shanghai", tz_offset=28800)
    oncall = emu.add_usergroup("oncall-sre", [alice.id])
    user = client.users_info(user=alice.id)["user"]
    assert user["tz"] == "Asia/Shanghai" and user["profile"]["email"] == "alice@shop.example"
    assert client.users_lookupByEmail(email="alice@shop.example")["user"]["id"] == alice.id
    assert error_of(client.users_lookupByEmail, email="nobody@x") == "users_not_found"
    assert error_of(client.users_info, user="U_NOPE") == "user_not_found"
    assert alice.id in [u["id"] for u in client.users_list()["members"]]
    assert client.usergroups_list()["usergroups"][0]["handle"] == "oncall-sre"
    assert client.usergroups_users_list(usergroup=oncall.id)["users"] == [alice.id]
    assert error_of(client.usergroups_users_list, usergroup="S_NOPE") == "no_such_subteam"
    assert client.team_info()["team"]["id"] == emu.team_id


def test_file_upload_v2_shares_in_channel(emu, client):
    resp = client.files_upload_v2(
        channel="C_GENERAL",
        content=b"\x00binary",
        filename="heap.bin",
        title="Heap dump",
        initial_comment="from /diag",
    )
    assert resp["file"]["title"] == "Heap dump"
    f = emu.uploaded_files("C_GENERAL")[0]
    assert (f.name, f.content) == ("heap.bin", b"\x00binary")
    msg = emu.messages("C_GENERAL")[-1]
    assert msg["text"] == "from /diag" and msg["files"][0]["id"] == f.id
    assert urllib.request.urlopen(f"{emu.base_url}files/{f.id}/heap.bin").read() == b"\x00binary"


def test_views(emu, client):
    alice = emu.add_user("alice")
    modal = {
        "type": "modal",
        "callback_id": "declare",
        "title": {"type": "plain_text", "text": "Declare"},
        "blocks": [],
    }
    assert error_of(client.views_open, trigger_id="bogus", view=modal) == "invalid_trigger_id"
    opened = client.views_open(trigger_id=emu.issue_trigger(alice.id), view=modal)["view"]
    assert opened["id"].startswith("V") and emu.open_modals(alice.id)[0]["callback_id"] == "declare"
    updated = client.views_update(view_id=opened["id"], view={**modal, "callback_id": "declare2"})["view"]
    assert updated["id"] == opened["id"] and emu.open_modals(alice.id)[0]["callback_id"] == "declare2"
    assert error_of(client.views_update, view_id=opened["id"], hash="stale", view=modal) == "hash_conflict"
    client.views_push(trigger_id=emu.issue_trigger(alice.id), view=modal)
    assert len(emu.open_modals(alice.id)) == 2
    client.views_publish(user_id=alice.id, view={"type": "home", "blocks": []})
    assert emu.home_views[alice.id]["type"] == "home"


def test_expired_trigger(emu, client):
    emu.trigger_ttl = 0.0
    trigger = emu.issue_trigger(emu.add_user("alice").id)
    time.sleep(0.01)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": []}
    assert error_of(client.views_open, trigger_id=trigger, view=view) == "expired_trigger_id"
