"""A Telegram Bot API double: real HTTP on 127.0.0.1, records every call, can misbehave on request.

It implements what the bot calls (getMe, getUpdates, sendMessage, sendChatAction, setMyCommands,
deleteWebhook, answerInlineQuery, answerCallbackQuery), checks HTML the way Telegram does (a message
with bad markup is refused with "can't parse entities"), and serves queued faults: HTTP 429 with
retry_after, 400, 403, 500, 502, a slow answer, a dropped connection, malformed JSON.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

BOT = {
    "id": 999,
    "is_bot": True,
    "first_name": "EventBot",
    "username": "event_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}
# Sent as plain strings by python-telegram-bot; everything else is JSON-encoded.
_STRING_FIELDS = {"text", "parse_mode", "action", "inline_query_id", "callback_query_id", "url", "secret_token"}
_ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "span",
    "tg-spoiler",
    "blockquote",
}
_TAG = re.compile(r"<(/?)([a-zA-Z-]+)(\s[^<>]*)?>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
# Refusals Telegram answers with a 4xx: the request itself is wrong, sending it again cannot help.
_REFUSALS = {
    "400": "Bad Request: message to be replied not found",
    "403": "Forbidden: bot was blocked by the user",
}
# As Telegram marks them: an address is an email, not a mention; a mention starts after a non-word character.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MENTION = re.compile(r"(?<![\w@.])@\w+")


def html_problem(text: str) -> str | None:
    """Why Telegram would refuse this HTML, or None if it parses."""
    stack: list[str] = []
    position = 0
    while position < len(text):
        ch = text[position]
        if ch == "<":
            tag = _TAG.match(text, position)
            if not tag:
                return f"unexpected '<' at byte offset {position}"
            name = tag.group(2).lower()
            if name not in _ALLOWED_TAGS:
                return f'unsupported start tag "{name}" at byte offset {position}'
            if tag.group(1):
                if not stack or stack.pop() != name:
                    return f'unmatched end tag at byte offset {position}, expected "</{stack[-1] if stack else ""}>"'
            else:
                stack.append(name)
            position = tag.end()
        elif ch == "&":
            entity = _ENTITY.match(text, position)
            if not entity:
                return f"unsupported entity at byte offset {position}"
            position = entity.end()
        else:
            position += 1
    if stack:
        return f'can\'t find end tag corresponding to start tag "{stack[-1]}"'
    return None


def _plain_length(text: str) -> int:
    return len(_ENTITY.sub("x", _TAG.sub("", text)))


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    delivered: bool  # False when a fault answered instead of the method


@dataclass
class BotApiDouble:
    token: str
    calls: list[Call] = field(default_factory=list)
    faults: defaultdict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))
    slow_seconds: float = 4.0
    files: dict[str, bytes] = field(default_factory=dict)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _next_update: int = 1
    _next_message: int = 10_000
    _confirmed: int = 0
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    # --- control from tests -----------------------------------------------------------------------

    def start(self) -> str:
        """Serve on a free port of 127.0.0.1; returns the base URL for TELEGRAM_API_BASE_URL."""
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                double._handle(self)

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}/bot"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def push(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; returns its update_id."""
        with self._lock:
            update = {"update_id": self._next_update, **update}
            self._next_update += 1
            self._updates.append(update)
            self._lock.notify_all()
            return int(update["update_id"])

    def fail_next(self, method: str, *faults: str) -> None:
        """Answer the next calls of `method` with these faults, in order: 429, 400, 403, 500, 502, slow, drop, badjson."""
        with self._lock:
            self.faults[method].extend(faults)

    def sent(self, method: str = "sendMessage", **match: Any) -> list[dict[str, Any]]:
        """Parameters of the delivered calls of `method` whose parameters include `match`."""
        with self._lock:
            return [
                c.params
                for c in self.calls
                if c.method == method and c.delivered and all(c.params.get(k) == v for k, v in match.items())
            ]

    def all_calls(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Poll until predicate() is truthy; returns its value or raises AssertionError."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.02)
        raise AssertionError("timed out waiting for the bot")

    @property
    def confirmed(self) -> int:
        """The highest update_id the bot has confirmed (by asking for a later offset)."""
        with self._lock:
            return self._confirmed

    def pending(self) -> int:
        with self._lock:
            return sum(1 for u in self._updates if u["update_id"] > self._confirmed)

    # --- the server side --------------------------------------------------------------------------

    def add_file(self, file_id: str, data: bytes) -> None:
        """A file a user sent: getFile describes it and the file URL serves it, as Telegram does."""
        with self._lock:
            self.files[file_id] = data

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = request.path.split("/")
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        if len(parts) >= 5 and parts[1] == "file":
            if unquote(parts[2]) != f"bot{self.token}":
                self._reply(request, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                return
            with self._lock:
                self.calls.append(Call("download", {"path": "/".join(parts[3:])}, time.monotonic(), delivered=True))
                data = self.files.get(parts[-1])
            if data is None:
                self._reply(request, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
            else:
                self._raw(request, 200, data)
            return
        if len(parts) < 3 or parts[1] != f"bot{self.token}":
            self._reply(request, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        method = parts[2]
        params = self._parse(request.headers.get("Content-Type", ""), body)
        with self._lock:
            fault = self.faults[method].popleft() if self.faults[method] else None
            self.calls.append(Call(method, params, time.monotonic(), delivered=fault in (None, "slow", "badjson")))
        if fault == "429":
            self._reply(
                request,
                429,
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                },
            )
            return
        if fault in _REFUSALS:
            code = int(fault)
            self._reply(request, code, {"ok": False, "error_code": code, "description": _REFUSALS[fault]})
            return
        if fault in ("500", "502"):
            self._reply(request, int(fault), {"ok": False, "error_code": int(fault), "description": "Internal Server Error"})
            return
        if fault == "drop":
            request.close_connection = True
            request.connection.close()
            return
        if fault == "slow":
            time.sleep(self.slow_seconds)
        result = self._result(method, params)
        if isinstance(result, tuple):
            code, payload = result
            self._reply(request, code, payload)
        elif fault == "badjson":
            self._raw(request, 200, b"{this is not json")
        else:
            self._reply(request, 200, {"ok": True, "result": result})

    def _parse(self, content_type: str, body: bytes) -> dict[str, Any]:
        if not body:
            return {}
        if "json" in content_type:
            return dict(json.loads(body))
        params: dict[str, Any] = {}
        for key, value in parse_qsl(body.decode("utf-8"), keep_blank_values=True):
            if key in _STRING_FIELDS:
                params[key] = value
                continue
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        return params

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT
        if method == "getUpdates":
            return self._get_updates(params)
        if method == "sendMessage":
            text = str(params.get("text", ""))
            if params.get("parse_mode") == "HTML" and (problem := html_problem(text)):
                return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: can't parse entities: {problem}"}
            if _plain_length(text) > 4096 or not text.strip():
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message is too long or empty"}
            with self._lock:
                self._next_message += 1
                message_id = self._next_message
                params["message_id"] = message_id  # recorded, so that tests can press the buttons under it
            chat_id = params["chat_id"]
            return {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                "from": BOT,
                "text": text,
            }
        if method == "getFile":
            file_id = str(params.get("file_id", ""))
            with self._lock:
                data = self.files.get(file_id)
            if data is None:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}
            return {
                "file_id": file_id,
                "file_unique_id": f"{file_id}u",
                "file_size": len(data),
                "file_path": f"documents/{file_id}",
            }
        if method in {
            "sendChatAction",
            "setMyCommands",
            "deleteWebhook",
            "answerInlineQuery",
            "answerCallbackQuery",
            "setWebhook",
            "close",
        }:
            return True
        return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        wait = min(float(params.get("timeout") or 0), 1.0)
        deadline = time.monotonic() + wait
        with self._lock:
            if offset:
                self._confirmed = max(self._confirmed, offset - 1)
            while True:
                # As Telegram does: a confirmed update is gone for good, whatever offset comes later.
                ready = [u for u in self._updates if u["update_id"] >= offset and u["update_id"] > self._confirmed][:limit]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0:
                    return ready
                self._lock.wait(remaining)

    def _reply(self, request: BaseHTTPRequestHandler, code: int, payload: dict[str, Any]) -> None:
        self._raw(request, code, json.dumps(payload).encode("utf-8"))

    def _raw(self, request: BaseHTTPRequestHandler, code: int, body: bytes) -> None:
        try:
            request.send_response(code)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)
        except OSError:
            pass  # the bot gave up waiting (a time-out test)


# --- updates as Telegram sends them ----------------------------------------------------------------


def _message(chat: dict[str, Any], user_id: int, message_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": chat,
        "from": {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"},
        **fields,
    }


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _entities(text: str) -> list[dict[str, Any]]:
    entities = []
    if text.startswith("/"):
        entities.append({"type": "bot_command", "offset": 0, "length": _utf16(text.split()[0])})
    for kind, pattern in (("email", _EMAIL), ("mention", _MENTION)):
        for found in pattern.finditer(text):
            entities.append({"type": kind, "offset": _utf16(text[: found.start()]), "length": _utf16(found.group())})
    return sorted(entities, key=lambda entity: entity["offset"])


def text_update(chat_id: int, user_id: int, message_id: int, text: str, *, reply_to_bot: int | None = None) -> dict[str, Any]:
    """A text message; negative chat ids are groups. Offsets are in UTF-16 units, as Telegram counts."""
    chat = (
        {"id": chat_id, "type": "private", "first_name": "Someone"}
        if chat_id > 0
        else {"id": chat_id, "type": "group", "title": "Group"}
    )
    fields: dict[str, Any] = {"text": text}
    if entities := _entities(text):
        fields["entities"] = entities
    if reply_to_bot is not None:
        fields["reply_to_message"] = {
            "message_id": reply_to_bot,
            "date": int(time.time()),
            "chat": chat,
            "from": BOT,
            "text": "an earlier answer",
        }
    return {"message": _message(chat, user_id, message_id, **fields)}


def sticker_update(chat_id: int, user_id: int, message_id: int) -> dict[str, Any]:
    chat = {"id": chat_id, "type": "private", "first_name": "Someone"}
    sticker = {
        "file_id": "S1",
        "file_unique_id": "S1u",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    return {"message": _message(chat, user_id, message_id, sticker=sticker)}


def document_update(chat_id: int, user_id: int, message_id: int, file_id: str, name: str, size: int) -> dict[str, Any]:
    """A file sent as a document (its bytes registered with `BotApiDouble.add_file`)."""
    chat = {"id": chat_id, "type": "private", "first_name": "Someone"}
    document = {"file_id": file_id, "file_unique_id": f"{file_id}u", "file_name": name, "file_size": size}
    return {"message": _message(chat, user_id, message_id, document=document)}


def inline_update(user_id: int, query_id: str, query: str) -> dict[str, Any]:
    return {
        "inline_query": {
            "id": query_id,
            "from": {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"},
            "query": query,
            "offset": "",
        }
    }


def callback_update(
    chat_id: int, query_id: str, data: str = "button", user_id: int | None = None, message_id: int = 1
) -> dict[str, Any]:
    """A press of an inline button under one of the bot's messages (`message_id`) in a private chat or a group."""
    chat = (
        {"id": chat_id, "type": "private", "first_name": "Someone"}
        if chat_id > 0
        else {"id": chat_id, "type": "group", "title": "Group"}
    )
    user = user_id or chat_id
    return {
        "callback_query": {
            "id": query_id,
            "from": {"id": user, "is_bot": False, "first_name": f"User{user}"},
            "chat_instance": "ci",
            "data": data,
            "message": {"message_id": message_id, "date": int(time.time()), "chat": chat, "from": BOT, "text": "old"},
        }
    }


def plain(text: str) -> str:
    """What a reader sees of a message sent with HTML: the text without tags, entities decoded."""
    import html as html_module

    return html_module.unescape(re.sub(r"<[^>]+>", "", text))
