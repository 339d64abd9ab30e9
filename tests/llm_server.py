"""A fake OpenAI-compatible chat-completions server on 127.0.0.1, for tests and benches.

It "extracts" schools deterministically: in the user message's <text>...</text> block,
every line ending in "School" or "Academy" is a school and the next line its address.
Faults queued with ``add_faults`` apply to the next requests, one fault per request.
A thread-based server, so it works under any event loop (or none).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

FAULT_KINDS = frozenset(
    {
        "rate_limit",  # 429, with Retry-After when given (retry_after or retry_after_date_s)
        "server_error",  # 500
        "delay",  # sleep delay_s before answering normally (longer than a client timeout)
        "malformed",  # content that is not JSON
        "truncated",  # half the JSON, finish_reason "length"
        "ungrounded",  # adds a school whose name is not in the text
        "prose",  # ignores response_format: a sentence, then fenced JSON
        "reject_schema",  # 400 when the request asks for a json_schema response_format
        "unauthorized",  # 401
        "not_found",  # 404 model not found
    }
)
INVENTED_SCHOOL = "Imaginary Unicorn Academy"
MALFORMED = "Sure, here are the schools: name=Lincoln, no JSON today"
_SCHOOL_LINE = re.compile(r"(School|Academy)\s*$")
_TEXT_BLOCK = re.compile(r"<text>\n?(.*?)\n?</text>", re.DOTALL)
FIELDS = (
    *("address", "city", "region", "postal_code", "country"),
    *("phone", "website", "grades", "district", "kind"),
)


@dataclass(frozen=True)
class Fault:
    kind: str
    retry_after: str | None = None
    # Retry-After as an HTTP date this many seconds after the answer is made (whole seconds,
    # so the client waits more than retry_after_date_s - 1 after the server answered).
    retry_after_date_s: float | None = None
    delay_s: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}")


@dataclass
class LoggedRequest:
    at: float  # time.monotonic() when the request arrived
    path: str
    body: dict[str, Any]
    status: int = 0
    fault: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # those of the answer

    @property
    def format_type(self) -> str | None:
        fmt = self.body.get("response_format")
        return fmt.get("type") if isinstance(fmt, dict) else None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))


@dataclass
class _State:
    faults: deque[Fault] = field(default_factory=deque)
    poisoned: list[str] = field(default_factory=list)
    log: list[LoggedRequest] = field(default_factory=list)
    in_flight: int = 0
    max_concurrency: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def extract_schools(user_text: str) -> list[dict[str, Any]]:
    block = _TEXT_BLOCK.search(user_text)
    lines = [line.strip() for line in (block.group(1) if block else user_text).splitlines()]
    schools = []
    for i, line in enumerate(lines):
        if not _SCHOOL_LINE.search(line):
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        address = nxt if nxt and not _SCHOOL_LINE.search(nxt) else None
        schools.append({"name": line, **dict.fromkeys(FIELDS), "address": address})
    return schools


class FakeLlmServer:
    def __init__(
        self,
        *,
        latency_s: float = 0.0,
        reject_json_schema: bool = False,
        reject_temperature: bool = False,
    ) -> None:
        self.latency_s = latency_s
        self.reject_json_schema = reject_json_schema
        self.reject_temperature = reject_temperature  # like OpenAI's reasoning models
        self._state = _State()
        self._closing = threading.Event()  # ends every delay at once
        self._hold_after: int | None = None
        self._released = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        # Keep-alive handler threads end when the client closes; do not wait for them.
        self._httpd.block_on_close = False
        # A short poll interval makes shutdown (and so every test teardown) quick.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> FakeLlmServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        self._released.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> FakeLlmServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- test API -------------------------------------------------------------------------

    def hold(self, after: int) -> None:
        """Requests after the first ``after`` wait, unanswered, until ``release()``."""
        self._released.clear()
        self._hold_after = after

    def release(self) -> None:
        self._released.set()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def add_faults(self, *faults: Fault) -> None:
        with self._state.lock:
            self._state.faults.extend(faults)

    def poison(self, marker: str) -> None:
        """Every request whose text contains ``marker`` gets a malformed reply, always."""
        with self._state.lock:
            self._state.poisoned.append(marker)

    @property
    def log(self) -> list[LoggedRequest]:
        with self._state.lock:
            return list(self._state.log)

    @property
    def max_concurrency(self) -> int:
        return self._state.max_concurrency

    # -- request handling (server threads) ------------------------------------------------

    def handle(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        entry = LoggedRequest(time.monotonic(), path, body)
        with self._state.lock:
            self._state.log.append(entry)
            held = self._hold_after is not None and len(self._state.log) > self._hold_after
            fault = self._state.faults.popleft() if self._state.faults else None
            text = _user_text(body)
            if any(marker in text for marker in self._state.poisoned):
                fault = Fault("malformed")
            self._state.in_flight += 1
            self._state.max_concurrency = max(self._state.max_concurrency, self._state.in_flight)
        entry.fault = fault.kind if fault else None
        try:
            if held:
                self._released.wait()
            self._closing.wait(self.latency_s + (fault.delay_s if fault else 0.0))
            status, headers, payload = self._respond(path, body, fault)
        finally:
            with self._state.lock:
                self._state.in_flight -= 1
        entry.headers = headers
        entry.status = status
        return status, headers, json.dumps(payload).encode()

    def _respond(
        self, path: str, body: dict[str, Any], fault: Fault | None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        kind = fault.kind if fault else None
        if not path.rstrip("/").endswith("/chat/completions"):
            return 404, {}, _error(f"no route {path}", "not_found")
        rejects = self.reject_json_schema or kind == "reject_schema"
        if rejects and LoggedRequest(0, path, body).format_type == "json_schema":
            message = "response_format of type json_schema is not supported by this server"
            return 400, {}, _error(message, "invalid_request_error", param="response_format")
        if self.reject_temperature and body.get("temperature", 1) != 1:
            message = "Unsupported value: 'temperature' does not support 0 with this model."
            return 400, {}, _error(message, "unsupported_value", param="temperature")
        if kind == "rate_limit":
            headers = {"Retry-After": fault.retry_after} if fault and fault.retry_after else {}
            if fault and fault.retry_after_date_s is not None:
                when = datetime.now(UTC) + timedelta(seconds=fault.retry_after_date_s)
                headers = {"Retry-After": format_datetime(when, usegmt=True)}
            return 429, headers, _error("Rate limit reached", "rate_limit_exceeded")
        if kind == "server_error":
            return 500, {}, _error("The server had an error", "server_error")
        if kind == "unauthorized":
            return 401, {}, _error("Incorrect API key provided", "invalid_api_key")
        if kind == "not_found":
            model = body.get("model")
            return 404, {}, _error(f"The model `{model}` does not exist", "model_not_found")
        return 200, {}, _completion(body, kind)


def _user_text(body: dict[str, Any]) -> str:
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    with_text = [m for m in users if "<text>" in str(m.get("content", ""))]
    chosen = (with_text or users or [{}])[0]
    return str(chosen.get("content", ""))


def _completion(body: dict[str, Any], kind: str | None) -> dict[str, Any]:
    schools = extract_schools(_user_text(body))
    if kind == "ungrounded":
        schools.append({"name": INVENTED_SCHOOL, **dict.fromkeys(FIELDS)})
    content = json.dumps({"schools": schools})
    finish = "stop"
    if kind == "malformed":
        content = MALFORMED
    elif kind == "truncated":
        content, finish = content[: len(content) // 2], "length"
    elif kind == "prose":
        content = f"Here are the schools I found.\n```json\n{content}\n```\nAnything else?"
    prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
    usage = {"prompt_tokens": prompt_chars // 4, "completion_tokens": len(content) // 4}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish,
                "logprobs": None,
            }
        ],
        "usage": usage,
    }


def _error(message: str, code: str, *, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": code, "param": param, "code": code}}


def _make_handler(server: FakeLlmServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like a real API
        timeout = 10  # idle keep-alive connections must not pin threads forever
        # Headers and body go out as separate writes; with Nagle on, the body would wait
        # for the client's delayed ACK (~40 ms) and skew every latency measurement.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if len(raw) < length:  # the client died while sending: no request, no answer
                self.close_connection = True
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                body = {}
            status, headers, payload = server.handle(self.path, body)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (timeout); fine

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler
