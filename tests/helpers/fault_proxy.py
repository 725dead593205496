"""A fault-injecting HTTP reverse proxy in front of moto_server, for tests.  Stdlib only.

It listens on 127.0.0.1 on a free port, forwards every request unchanged (method, raw path, headers
including ``Host``, body) to the upstream moto_server and answers a configurable share of AWS API
requests with a fault instead:

``throttle``
    400 with the protocol's throttling error: JSON services ``{"__type": "ThrottlingException", ...}``
    (plus ``x-amzn-ErrorType``; CloudWatch, a former query service, also sends
    ``x-amzn-query-error: Throttling;Sender``), rpc-v2-cbor requests the same body in CBOR, query services
    (IAM, SNS, STS) ``<ErrorResponse>`` with ``Throttling``, S3 REST 503 ``SlowDown``.
``5xx``
    500 ``InternalError`` or 503 ``ServiceUnavailable`` in the protocol's error format.
``drop``
    the connection is closed without an answer; the request never reaches moto.
``lost``
    (not in the default mix) the request reaches moto, then the connection is closed without an answer:
    the caller cannot know whether its write happened.

Faults are drawn only for AWS API requests (never for ``/moto-api/`` or the proxy's own ``/__proxy/``),
from ``random.Random(seed)`` in arrival order, so a run that makes the same calls in the same order gets the
same faults.  Targeted faults (``Targeted``) hit the first N requests whose ``X-Amz-Target`` (or
classified operation name, e.g. ``sts:GetCallerIdentity``) ends with a suffix, before any random draw;
``role_propagation(n)`` is CloudTrail's answer while a new IAM role propagates: 400
``InvalidCloudWatchLogsRoleArnException: Access denied``.

SigV4: boto3 signs for the host it talks to (the proxy's host:port); the ``Host`` header is forwarded as is and
moto does not verify signatures, so forwarded requests are accepted unchanged.

The proxy is bounded: after ``max_requests`` requests or ``lifetime`` seconds it stops itself (a request over
the limit gets a 503 ``ProxyExhausted`` and the listening socket closes).  What it did is counted per kind, in
``FaultProxy.stats()`` and at ``GET /__proxy/stats``.

As a context manager::

    with FaultProxy(moto_endpoint, rate=0.2, seed=7) as proxy:
        run(env={"AWS_ENDPOINT_URL": proxy.endpoint})
        assert proxy.stats()["injected"]["throttle"] > 0

As a CLI (prints the endpoint, serves until its bounds, SIGINT or SIGTERM, then prints the stats as JSON)::

    fault_proxy.py --upstream http://127.0.0.1:5000 --rate 0.2 --seed 7 [--kinds throttle,5xx,drop]
                   [--role-propagation 3] [--max-requests 5000] [--lifetime 600] [--stats-out FILE]
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import signal
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

try:
    from moto_stand import classify_request
except ImportError:  # imported as a file from elsewhere: moto_stand.py sits next to this file
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from moto_stand import classify_request

HOST = "127.0.0.1"
KINDS = ("throttle", "5xx", "drop", "lost")
DEFAULT_KINDS = ("throttle", "5xx", "drop")
DEFAULT_MAX_REQUESTS = 20_000
DEFAULT_LIFETIME = 900.0
UPSTREAM_TIMEOUT = 60.0
CONTROL_PREFIX = "/__proxy/"
MOTO_API_PREFIX = "/moto-api"
MAX_BODY = 64 * 1024 * 1024
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-connection",
    }
)

ROLE_PROPAGATION_CODE = "InvalidCloudWatchLogsRoleArnException"
ROLE_PROPAGATION_MESSAGE = "Access denied. Verify in IAM that the role has adequate permissions."


class FaultProxyError(Exception):
    """A failure worth a one-line message and a non-zero exit."""


@dataclass
class Targeted:
    """Hit the first ``count`` requests whose X-Amz-Target or operation name ends with ``suffix``.

    ``kind`` ``error`` answers with ``status``/``code``/``message`` in the request's protocol; any other
    kind (``throttle``, ``5xx``, ``drop``, ``lost``) behaves as the random fault of that name.  Injections are
    counted under ``name``.
    """

    name: str
    suffix: str
    count: int
    status: int = 400
    code: str = ""
    message: str = ""
    kind: str = "error"

    def matches(self, target: str, operation: str) -> bool:
        return self.count > 0 and ((bool(target) and target.endswith(self.suffix)) or operation.endswith(self.suffix))


def role_propagation(count: int) -> Targeted:
    """CloudTrail's answer to CreateTrail while a new IAM role is not yet usable (what real AWS says)."""
    return Targeted("role_propagation", ".CreateTrail", count, 400, ROLE_PROPAGATION_CODE, ROLE_PROPAGATION_MESSAGE)


# --------------------------------------------------------------------------
# Protocols and error bodies
# --------------------------------------------------------------------------


def _cbor(value: Any) -> bytes:
    """Minimal CBOR encoder: dict, str, int >= 0 (all an error body needs)."""

    def head(major: int, length: int) -> bytes:
        if length < 24:
            return bytes([major << 5 | length])
        for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if length < 1 << (8 * size):
                return bytes([major << 5 | extra]) + length.to_bytes(size, "big")
        raise ValueError("too long")

    if isinstance(value, bool) or value is None:
        raise TypeError(f"unsupported CBOR value {value!r}")
    if isinstance(value, int) and value >= 0:
        return head(0, value)
    if isinstance(value, str):
        raw = value.encode()
        return head(3, len(raw)) + raw
    if isinstance(value, dict):
        return head(5, len(value)) + b"".join(_cbor(k) + _cbor(v) for k, v in value.items())
    raise TypeError(f"unsupported CBOR value {value!r}")


def protocol_of(method: str, path: str, headers: Any, body: bytes) -> str:
    """``json``, ``cbor``, ``query`` or ``rest-xml`` (S3 and anything else)."""
    lower = {k.lower(): v for k, v in headers.items()}
    content_type = lower.get("content-type", "").lower()
    if lower.get("x-amz-target"):
        return "json"
    if "cbor" in content_type or lower.get("smithy-protocol") or "/operation/" in path:
        return "cbor"
    if "Action" in parse_qs(urlsplit(path).query):
        return "query"
    if method == "POST" and "x-www-form-urlencoded" in content_type:
        if "Action" in parse_qs(body.decode("utf-8", errors="replace")):
            return "query"
    return "rest-xml"


# Former query services that now speak JSON/CBOR (awsQueryCompatible) also send the query error code in
# x-amzn-query-error, which botocore reports as the error code: CloudWatch's throttling is "Throttling" there.
QUERY_COMPATIBLE_TARGETS = frozenset({"GraniteServiceVersion20100801"})
_QUERY_CODES = {"ThrottlingException": "Throttling"}


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def error_response(protocol: str, status: int, code: str, message: str, *, sender: bool, request_headers: Any):
    """``(status, headers, body)`` of an AWS error answer in the given protocol."""
    request_id = str(uuid.uuid4())
    kind = "Sender" if sender else "Receiver"
    if protocol == "json":
        content_type = {k.lower(): v for k, v in request_headers.items()}.get("content-type") or (
            "application/x-amz-json-1.1"
        )
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = {"Content-Type": content_type, "x-amzn-ErrorType": code, "x-amzn-RequestId": request_id}
        target = {k.lower(): v for k, v in request_headers.items()}.get("x-amz-target") or ""
        if target.split(".", 1)[0] in QUERY_COMPATIBLE_TARGETS:
            headers["x-amzn-query-error"] = f"{_QUERY_CODES.get(code, code)};{kind}"
    elif protocol == "cbor":
        body = _cbor({"__type": code, "message": message})
        headers = {
            "Content-Type": "application/cbor",
            "smithy-protocol": "rpc-v2-cbor",
            "x-amzn-query-error": f"{_QUERY_CODES.get(code, code)};{kind}",
            "x-amzn-RequestId": request_id,
        }
    elif protocol == "query":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{_xml_escape(code)}</Code>"
            f"<Message>{_xml_escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers = {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}
    else:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{_xml_escape(code)}</Code><Message>{_xml_escape(message)}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        ).encode()
        headers = {"Content-Type": "application/xml", "x-amz-request-id": request_id}
    return status, headers, body


def throttle_response(protocol: str, request_headers: Any):
    if protocol == "rest-xml":
        return error_response(
            protocol, 503, "SlowDown", "Please reduce your request rate.", sender=False, request_headers=request_headers
        )
    code = {"json": "ThrottlingException", "cbor": "ThrottlingException", "query": "Throttling"}[protocol]
    return error_response(protocol, 400, code, "Rate exceeded", sender=True, request_headers=request_headers)


def server_error_response(protocol: str, status: int, request_headers: Any):
    if status == 500:
        code, message = "InternalError", "We encountered an internal error. Please try again."
    else:
        code, message = "ServiceUnavailable", "Service is unable to handle request."
    return error_response(protocol, status, code, message, sender=False, request_headers=request_headers)


# --------------------------------------------------------------------------
# The proxy
# --------------------------------------------------------------------------


def _copy_rules(rules) -> list[Targeted]:
    """Private copies (their counts run down), checked."""
    copies = [Targeted(**vars(rule)) for rule in rules]
    for rule in copies:
        if rule.kind not in KINDS + ("error",) or not rule.suffix:
            raise FaultProxyError(f"targeted rule {rule.name}: bad kind {rule.kind!r} or empty suffix")
        if rule.kind == "error" and not (400 <= rule.status < 600 and rule.code):
            raise FaultProxyError(f"targeted rule {rule.name}: an error needs a 4xx/5xx status and a code")
    return copies


class FaultProxy:
    """Fault-injecting reverse proxy; see the module docstring."""

    def __init__(
        self,
        upstream: str,
        *,
        rate: float = 0.0,
        kinds: tuple[str, ...] | list[str] = DEFAULT_KINDS,
        seed: int = 0,
        targeted: list[Targeted] | tuple[Targeted, ...] = (),
        max_requests: int = DEFAULT_MAX_REQUESTS,
        lifetime: float = DEFAULT_LIFETIME,
        on_request=None,
    ):
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise FaultProxyError(f"upstream must be an http:// URL, got {upstream!r}")
        if not 0.0 <= rate <= 1.0:
            raise FaultProxyError(f"rate must be between 0 and 1, got {rate}")
        unknown = [k for k in kinds if k not in KINDS]
        if unknown or (rate > 0 and not kinds):
            raise FaultProxyError(f"kinds must be a non-empty subset of {', '.join(KINDS)}, got {list(kinds)}")
        if max_requests < 1 or lifetime <= 0:
            raise FaultProxyError("max_requests and lifetime must be positive")
        self.upstream = upstream.rstrip("/")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.rate = rate
        self.kinds = tuple(kinds)
        self.seed = seed
        self.targeted = _copy_rules(targeted)
        self.max_requests = max_requests
        self.lifetime = lifetime
        # Called with (number, operation) for every AWS API request before anything else happens to it;
        # tests use it to act at an exact point of a run (it runs on the request's thread).
        self.on_request = on_request
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None
        self._stopped = threading.Event()
        self._stop_reason = ""
        self._started = time.monotonic()
        self._reset_counters()

    # -- lifecycle ---------------------------------------------------------

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise FaultProxyError("proxy not started")
        return f"http://{HOST}:{self._server.server_address[1]}"

    def start(self) -> FaultProxy:
        if self._server is not None:
            raise FaultProxyError("proxy already started")
        server = _Server((HOST, 0), _Handler)
        server.proxy = self
        self._server = server
        self._started = time.monotonic()
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        self._timer = threading.Timer(self.lifetime, self._stop_soon, args=("lifetime",))
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self, reason: str = "stopped") -> None:
        """Stop serving and close the listening socket (idempotent; safe from any thread but a handler's)."""
        with self._lock:
            if self._stopped.is_set() or self._server is None:
                self._stopped.set()
                return
            self._stopped.set()
            self._stop_reason = self._stop_reason or reason
        if self._timer is not None:
            self._timer.cancel()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)

    def _stop_soon(self, reason: str) -> None:
        with self._lock:
            self._stop_reason = self._stop_reason or reason
        threading.Thread(target=self.stop, args=(reason,), daemon=True).start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the proxy stopped (bounds reached or stop()); True if it did."""
        return self._stopped.wait(timeout)

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- configuration and counters -----------------------------------------

    def _reset_counters(self) -> None:
        self._requests = 0
        self._api_requests = 0
        self._injected: Counter[str] = Counter()
        self._forwarded: Counter[str] = Counter()
        self._upstream_errors = 0
        self._client_disconnects = 0
        self._log: list[dict[str, Any]] = []

    def configure(self, *, rate: float | None = None, kinds=None, seed: int | None = None, targeted=None) -> None:
        """Change the fault mix between runs (counters are kept; see reset_stats)."""
        with self._lock:
            if rate is not None:
                self.rate = rate
            if kinds is not None:
                self.kinds = tuple(kinds)
            if seed is not None:
                self.seed = seed
                self._rng = random.Random(seed)
            if targeted is not None:
                self.targeted = _copy_rules(targeted)

    def reset_stats(self) -> None:
        with self._lock:
            self._reset_counters()

    def stats(self) -> dict[str, Any]:
        """What the proxy did so far: counts per injected kind and per forwarded operation, and a request log."""
        with self._lock:
            return {
                "endpoint": self.endpoint if self._server else None,
                "upstream": self.upstream,
                "rate": self.rate,
                "kinds": list(self.kinds),
                "seed": self.seed,
                "requests": self._requests,
                "api_requests": self._api_requests,
                "injected": dict(self._injected),
                "injected_total": sum(self._injected.values()),
                "forwarded": sum(self._forwarded.values()),
                "forwarded_by_operation": dict(self._forwarded),
                "upstream_errors": self._upstream_errors,
                "client_disconnects": self._client_disconnects,
                "stopped": self._stopped.is_set(),
                "stop_reason": self._stop_reason,
                "log": [dict(entry) for entry in self._log],
            }

    # -- decisions -----------------------------------------------------------

    def _elapsed(self) -> float:
        """Seconds since start (log timestamps)."""
        return round(time.monotonic() - self._started, 3)

    def _admit(self) -> bool:
        """Count a request against max_requests; False once the proxy is exhausted."""
        with self._lock:
            self._requests += 1
            over = self._requests > self.max_requests or self._stopped.is_set()
        if over and not self._stopped.is_set():
            self._stop_soon("max_requests")
        return not over

    def _decide(self, operation: str, target: str) -> tuple[int, str | None, Targeted | None]:
        """Count an AWS API request and draw its fate: (request number, kind or None, targeted rule or None)."""
        with self._lock:
            self._api_requests += 1
            number = self._api_requests
            for rule in self.targeted:
                if rule.matches(target, operation):
                    rule.count -= 1
                    self._injected[rule.name] += 1
                    self._log.append({"n": number, "t": self._elapsed(), "op": operation, "outcome": rule.name})
                    return number, rule.kind, rule
            kind = None
            if self.rate > 0 and self._rng.random() < self.rate:
                kind = self.kinds[self._rng.randrange(len(self.kinds))]
                self._injected[kind] += 1
            self._log.append({"n": number, "t": self._elapsed(), "op": operation, "outcome": kind or "forwarded"})
            return number, kind, None

    def _pick_5xx(self) -> int:
        with self._lock:
            return 500 if self._rng.random() < 0.5 else 503

    def _count_disconnect(self) -> None:
        with self._lock:
            self._client_disconnects += 1

    def _count_forwarded(self, operation: str, ok: bool) -> None:
        with self._lock:
            if ok:
                self._forwarded[operation] += 1
            else:
                self._upstream_errors += 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: FaultProxy

    def handle_error(self, request, client_address):
        """A client that died mid-request (a killed playbook) is expected: count it, no traceback."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            self.proxy._count_disconnect()
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault-proxy"

    @property
    def proxy(self) -> FaultProxy:
        return self.server.proxy  # type: ignore[attr-defined]

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise FaultProxyError("request body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise FaultProxyError("request body too large")
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, headers: dict[str, str] | list[tuple[str, str]], body: bytes) -> None:
        self.send_response_only(status)
        items = headers.items() if isinstance(headers, dict) else headers
        for name, value in items:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        self.wfile.flush()

    def _drop(self) -> None:
        """Close the connection without writing a single byte of an answer."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _handle(self) -> None:
        proxy = self.proxy
        try:
            body = self._read_body()
        except (FaultProxyError, ValueError):
            self.close_connection = True
            self._send(400, {"Content-Type": "text/plain"}, b"fault proxy: unreadable request body\n")
            return
        path = urlsplit(self.path).path
        if path.startswith(CONTROL_PREFIX):
            self._control(path)
            return
        if not proxy._admit():
            self.close_connection = True
            protocol = protocol_of(self.command, self.path, self.headers, body)
            message = "the fault proxy reached its bounds and stopped"
            self._send(
                *error_response(protocol, 503, "ProxyExhausted", message, sender=False, request_headers=self.headers)
            )
            return
        if path.startswith(MOTO_API_PREFIX):
            self._forward(body, None)
            return

        headers = dict(self.headers.items())
        record = {"method": self.command, "url": f"http://{HOST}{self.path}", "headers": headers, "body": body}
        operation = classify_request(record)[0] or f"{self.command} {path}"
        number, kind, rule = proxy._decide(operation, headers.get("X-Amz-Target", "") or "")
        if proxy.on_request is not None:
            proxy.on_request(number, operation)
        protocol = protocol_of(self.command, self.path, headers, body)
        if kind == "error" and rule is not None:
            self._send(
                *error_response(protocol, rule.status, rule.code, rule.message, sender=True, request_headers=headers)
            )
        elif kind == "throttle":
            self._send(*throttle_response(protocol, headers))
        elif kind == "5xx":
            self._send(*server_error_response(protocol, proxy._pick_5xx(), headers))
        elif kind == "drop":
            self._drop()
        elif kind == "lost":
            self._forward(body, operation, relay=False)
            self._drop()
        else:
            self._forward(body, operation)

    def _control(self, path: str) -> None:
        if path == CONTROL_PREFIX + "stats" and self.command == "GET":
            self._send(200, {"Content-Type": "application/json"}, json.dumps(self.proxy.stats(), indent=1).encode())
        else:
            self._send(404, {"Content-Type": "text/plain"}, b"fault proxy: GET /__proxy/stats is the only control\n")

    def _forward(self, body: bytes, operation: str | None, relay: bool = True) -> None:
        proxy = self.proxy
        conn = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=UPSTREAM_TIMEOUT)
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                    conn.putheader(name, value)
            if body or self.command in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            response = conn.getresponse()
            data = response.read()
            skip = _HOP_BY_HOP | {"content-length"}
            headers = [(k, v) for k, v in response.getheaders() if k.lower() not in skip]
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            if operation is not None:
                proxy._count_forwarded(operation, ok=False)
            if relay:
                self.close_connection = True
                self._send(502, {"Content-Type": "text/plain"}, f"fault proxy: upstream failed: {exc}\n".encode())
            return
        finally:
            conn.close()
        if operation is not None:
            proxy._count_forwarded(operation, ok=True)
        if relay:
            if self.command == "HEAD":
                # No body follows a HEAD answer; keep the upstream's Content-Length as the entity's size.
                headers.append(("Content-Length", response.getheader("Content-Length") or "0"))
                self.send_response_only(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.flush()
            else:
                self._send(status, headers, data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _handle


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--upstream", required=True, help="moto_server endpoint, e.g. http://127.0.0.1:5000")
    parser.add_argument("--rate", type=float, default=0.0, help="share of AWS API requests answered with a fault")
    parser.add_argument("--kinds", default=",".join(DEFAULT_KINDS), help=f"comma-separated subset of {KINDS}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--role-propagation",
        type=int,
        default=0,
        metavar="N",
        help="answer the first N CreateTrail calls with InvalidCloudWatchLogsRoleArnException",
    )
    parser.add_argument("--max-requests", type=int, default=DEFAULT_MAX_REQUESTS)
    parser.add_argument("--lifetime", type=float, default=DEFAULT_LIFETIME, help="seconds before it stops itself")
    parser.add_argument("--stats-out", help="also write the final stats (JSON) to this file")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    targeted = [role_propagation(args.role_propagation)] if args.role_propagation else []
    try:
        proxy = FaultProxy(
            args.upstream,
            rate=args.rate,
            kinds=kinds,
            seed=args.seed,
            targeted=targeted,
            max_requests=args.max_requests,
            lifetime=args.lifetime,
        ).start()
    except (FaultProxyError, OSError) as exc:
        print(f"fault_proxy: error: {exc}", file=sys.stderr)
        return 1

    def _on_signal(signum, _frame):
        proxy._stop_soon(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    print(proxy.endpoint, flush=True)
    while not proxy.wait(0.5):
        pass
    proxy.stop()
    stats = proxy.stats()
    stats.pop("log")
    text = json.dumps(stats, indent=2)
    print(text, file=sys.stderr)
    if args.stats_out:
        Path(args.stats_out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
