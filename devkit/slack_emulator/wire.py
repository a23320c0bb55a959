"""Decoding request bodies the way Slack accepts them: query string, form, JSON or multipart."""

from __future__ import annotations

import contextlib
import json
from email import message_from_bytes, policy
from typing import Any
from urllib.parse import parse_qsl

# Fields that slack_sdk (and hand-written clients) send as JSON text inside a form body.
_JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata", "payload")


def parse_params(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == "application/json" and body.strip():
        data = json.loads(body.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("JSON body must be an object")
        params.update(data)
    elif ctype == "multipart/form-data":
        for part in _parts(body, content_type):
            if part.get_filename() is None:
                params[part.get_param("name", header="content-disposition")] = part.get_content()
    elif body:
        params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    for key in _JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):  # left as text: the method answers invalid_<field>
                params[key] = json.loads(value)
    return params


def parse_upload(body: bytes, content_type: str) -> bytes:
    """The uploaded bytes: the raw body, or the first file part of a multipart body."""
    if content_type.lower().startswith("multipart/form-data"):
        for part in _parts(body, content_type):
            if part.get_filename() is not None:
                return part.get_payload(decode=True) or b""
    return body


def _parts(body: bytes, content_type: str) -> list[Any]:
    msg = message_from_bytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=policy.HTTP)
    return list(msg.iter_parts()) if msg.is_multipart() else []
