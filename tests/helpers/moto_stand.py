"""Start, stop and inspect a local ``moto_server`` for tests.

Stdlib only.  Usable as a CLI::

    moto_stand.py start --state-dir DIR      # prints http://127.0.0.1:PORT
    moto_stand.py stop --state-dir DIR
    moto_stand.py reset --endpoint URL
    moto_stand.py record-start --endpoint URL
    moto_stand.py record-stop --endpoint URL [--out FILE]

or as a module (``classify_request``, ``summarize`` and the functions behind
each subcommand).

Recording format (moto 5.2.5, ``GET /moto-api/recorder/download-recording``):
one JSON object per line, e.g.::

    {"headers": {"Host": "127.0.0.1:PORT", "Content-Type": "application/x-www-form-urlencoded; ...",
                 "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261128/us-east-1/sts/aws4_request, ...",
                 ...},
     "method": "POST", "url": "http://127.0.0.1:PORT/",
     "body": "QWN0aW9uPUdldENhbGxlcklkZW50aXR5JlZlcnNpb249MjAxMS0wNi0xNQ==", "body_encoded": true}

``body`` is base64 when ``body_encoded`` is true, otherwise a plain string
(usually empty) or null.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

HOST = "127.0.0.1"
READY_PATH = "/moto-api/data.json"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
HTTP_TIMEOUT = 10.0
POLL_INTERVAL = 0.2

ENDPOINT_FILE = "endpoint"
PID_FILE = "pid"
LOG_FILE = "moto_server.log"
RECORDING_FILE = "moto_recording"

READ_PREFIXES = ("Get", "List", "Describe", "Head", "Lookup")
_READ_RE = re.compile(rf"^(?:{'|'.join(READ_PREFIXES)})(?:[A-Z0-9_]|$)")
_READ_METHODS = frozenset({"GET", "HEAD"})
_HTTP_METHODS = _READ_METHODS | {"PUT", "POST", "DELETE", "PATCH"}

# SigV4 signing names that differ from the IAM action prefix.
_SIGNING_NAME_ALIASES = {"monitoring": "cloudwatch"}
# JSON / rpc-v2-cbor target prefixes that do not follow the ``Name_YYYYMMDD`` pattern.
_TARGET_PREFIX_SERVICES = {
    "GraniteServiceVersion20100801": "cloudwatch",
    "TrentService": "kms",
    "AWSEvents": "events",
    "AmazonSSM": "ssm",
    "secretsmanager": "secretsmanager",
}
# Query-protocol API versions, used only when there is no SigV4 scope.
_QUERY_VERSION_SERVICES = {
    "2011-06-15": "sts",
    "2010-05-08": "iam",
    "2010-03-31": "sns",
    "2016-11-15": "ec2",
}
# S3 query keys that select an operation even though they carry a value.
_S3_VALUED_SUBRESOURCES = frozenset({"list-type", "partNumber", "uploadId", "versionId"})

_CREDENTIAL_RE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/,\s]+/([^/,\s]+)/aws4_request")
_CBOR_PATH_RE = re.compile(r"/service/([^/]+)/operation/([^/?]+)")
_VERSIONED_PREFIX_RE = re.compile(r"^([A-Za-z][A-Za-z0-9]*?)_?\d{8}$")


class MotoStandError(Exception):
    """A failure worth a one-line message and a non-zero exit."""


# --------------------------------------------------------------------------
# Request classification
# --------------------------------------------------------------------------


def _header(headers: Any, name: str) -> str | None:
    """Case-insensitive header lookup; ``headers`` is a mapping or pairs."""
    if not headers:
        return None
    items = headers.items() if isinstance(headers, Mapping) else headers
    wanted = name.lower()
    for key, value in items:
        if str(key).lower() == wanted:
            return str(value)
    return None


def _body_candidates(record: Mapping[str, Any]) -> list[bytes]:
    """Possible decodings of the body, most likely first."""
    body = record.get("body")
    if body is None:
        return []
    if isinstance(body, (bytes, bytearray)):
        return [bytes(body)]
    if not isinstance(body, str):
        return [json.dumps(body).encode()]
    raw = body.encode("utf-8", errors="replace")
    try:
        decoded = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        decoded = None
    if decoded is None:
        return [raw]
    return [decoded, raw] if record.get("body_encoded") else [raw, decoded]


def _form_action(record: Mapping[str, Any], method: str) -> tuple[str, str | None] | None:
    """``(Action, Version)`` of a query-protocol request, if it is one."""
    query = parse_qs(urlsplit(str(record.get("url", ""))).query)
    if query.get("Action"):
        return query["Action"][0], (query.get("Version") or [None])[0]
    content_type = (_header(record.get("headers"), "Content-Type") or "").lower()
    if method != "POST" or (content_type and "x-www-form-urlencoded" not in content_type):
        return None
    for body in _body_candidates(record):
        form = parse_qs(body.decode("utf-8", errors="replace"))
        if form.get("Action"):
            return form["Action"][0], (form.get("Version") or [None])[0]
    return None


def _signing_service(record: Mapping[str, Any]) -> str | None:
    """Service from the SigV4 credential scope (header or presigned URL)."""
    sources = [_header(record.get("headers"), "Authorization") or ""]
    for key, value in parse_qsl(urlsplit(str(record.get("url", ""))).query):
        if key == "X-Amz-Credential":
            sources.append(f"Credential={value}")
    for source in sources:
        match = _CREDENTIAL_RE.search(source)
        if match:
            name = match.group(1).lower()
            return _SIGNING_NAME_ALIASES.get(name, name)
    return None


def _target_service(prefix: str) -> str | None:
    """Service from a JSON target / CBOR service prefix, e.g. ``Logs_20140328``."""
    last = prefix.rsplit(".", 1)[-1]
    if last in _TARGET_PREFIX_SERVICES:
        return _TARGET_PREFIX_SERVICES[last]
    match = _VERSIONED_PREFIX_RE.match(last)
    return match.group(1).lower() if match else None


def _s3_operation(method: str, url: str) -> str:
    """``METHOD`` or ``METHOD?subresource`` for an S3-style REST request."""
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    for key, value in pairs:
        if key == "x-id" and value:
            return value
    keys = sorted({key for key, value in pairs if value == "" or key in _S3_VALUED_SUBRESOURCES})
    return f"{method}?{'&'.join(keys)}" if keys else method


def is_read_operation(operation: str) -> bool:
    """Whether an operation name (without service prefix) is a read.

    REST names (``GET``, ``PUT?tagging``) go by HTTP method; API names by
    their verb prefix.
    """
    method = operation.split("?", 1)[0]
    if method in _HTTP_METHODS:
        return method in _READ_METHODS
    return bool(_READ_RE.match(operation))


def classify_request(record: Mapping[str, Any]) -> tuple[str | None, bool]:
    """Return ``(operation, is_write)`` for one recorded request.

    ``operation`` is ``"service:Operation"`` when the service can be derived,
    else just ``"Operation"``.  Requests to ``/moto-api/`` yield
    ``(None, False)``.
    """
    method = str(record.get("method") or "GET").upper()
    url = str(record.get("url") or "")
    path = urlsplit(url).path
    if path.startswith("/moto-api/") or path == "/moto-api":
        return None, False

    service = _signing_service(record)
    target = _header(record.get("headers"), "X-Amz-Target")
    cbor = _CBOR_PATH_RE.search(path)
    action = None if target else _form_action(record, method)

    if target and "." in target:
        prefix, operation = target.rsplit(".", 1)
        service = service or _target_service(prefix)
    elif target:
        operation = target
    elif action:
        operation, version = action
        service = service or _QUERY_VERSION_SERVICES.get(version or "")
    elif cbor:
        operation = cbor.group(2)
        service = service or _target_service(cbor.group(1))
    else:
        operation = _s3_operation(method, url)
        service = service or "s3"

    name = f"{service}:{operation}" if service else operation
    return name, not is_read_operation(operation)


def summarize(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Summarise recorded requests, ignoring ``/moto-api/`` calls.

    ``operations`` and ``write_operations`` list one entry per request, in
    recording order, so ``total == len(operations)`` and
    ``writes == len(write_operations)``.
    """
    operations: list[str] = []
    write_operations: list[str] = []
    for record in records:
        operation, is_write = classify_request(record)
        if operation is None:
            continue
        operations.append(operation)
        if is_write:
            write_operations.append(operation)
    return {
        "total": len(operations),
        "writes": len(write_operations),
        "write_operations": write_operations,
        "operations": operations,
    }


def parse_recording(text: str) -> list[dict[str, Any]]:
    """Parse the JSON-lines recording returned by moto."""
    records = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise MotoStandError(f"recording line {lineno} is not JSON: {exc}") from exc
        if not isinstance(record, dict):
            raise MotoStandError(f"recording line {lineno} is not a JSON object")
        records.append(record)
    return records


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------

# Loopback traffic must never go through an HTTP(S)_PROXY from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _request(url: str, method: str = "GET", timeout: float = HTTP_TIMEOUT) -> tuple[int, bytes]:
    data = b"" if method == "POST" else None
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _call(endpoint: str, path: str, method: str) -> bytes:
    url = endpoint.rstrip("/") + path
    try:
        status, body = _request(url, method)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise MotoStandError(f"{method} {url} failed: {reason}") from exc
    if status != 200:
        raise MotoStandError(f"{method} {url} returned HTTP {status}: {body[:200]!r}")
    return body


def playbook_env(endpoint: str, region: str = "eu-west-1", **extra: str) -> dict[str, str]:
    """The environment of an ansible-playbook run against the moto_server at ``endpoint``: its test keys, no profile
    or session token of the caller, this checkout's collections path, no colours. ``extra`` is added last."""
    repo = Path(__file__).resolve().parents[2]
    env = dict(
        os.environ,
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION=region,
        ANSIBLE_COLLECTIONS_PATH=str(repo / ".venv" / "collections"),
        ANSIBLE_NOCOLOR="1",
    )
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    env.update(extra)
    return env


def reset(endpoint: str) -> None:
    _call(endpoint, "/moto-api/reset", "POST")


def record_start(endpoint: str) -> None:
    _call(endpoint, "/moto-api/recorder/reset-recording", "POST")
    _call(endpoint, "/moto-api/recorder/start-recording", "POST")


def record_stop(endpoint: str) -> dict[str, Any]:
    _call(endpoint, "/moto-api/recorder/stop-recording", "POST")
    text = _call(endpoint, "/moto-api/recorder/download-recording", "GET")
    return summarize(parse_recording(text.decode("utf-8", errors="replace")))


# --------------------------------------------------------------------------
# Process management
# --------------------------------------------------------------------------


# Servers started by this process, so stop() can reap them (no zombies) and
# the Popen objects are not collected (with a ResourceWarning) while running.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def find_moto_server() -> str | None:
    """``moto_server`` next to the running interpreter, else on PATH."""
    sibling = Path(sys.executable).parent / "moto_server"
    if sibling.is_file() and os.access(sibling, os.X_OK):
        return str(sibling)
    return shutil.which("moto_server")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _alive(pid: int) -> bool:
    """Whether ``pid`` is running (an unreaped zombie counts as gone)."""
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _is_moto_server(pid: int) -> bool:
    """Guard against a recycled pid: check the command line where /proc exists."""
    if pid in _CHILDREN or not Path("/proc/self").exists():
        return True
    try:
        return b"moto_server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _wait_dead(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(POLL_INTERVAL)
    return not _alive(pid)


def _read_pid(state_dir: Path) -> int | None:
    try:
        return int((state_dir / PID_FILE).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _terminate_group(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM the process group led by ``pid``, SIGKILL after ``timeout``."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError as exc:
            raise MotoStandError(f"cannot signal process group {pid}: {exc}") from exc
        if _wait_dead(pid, wait):
            return
    raise MotoStandError(f"moto_server (pid {pid}) did not exit after SIGKILL")


def stop(state_dir: str | os.PathLike[str]) -> bool:
    """Stop the server recorded in ``state_dir``; True if one was running."""
    state = Path(state_dir)
    pid = _read_pid(state)
    was_running = pid is not None and _alive(pid) and _is_moto_server(pid)
    if was_running:
        _terminate_group(pid)
    if pid is not None:
        _CHILDREN.pop(pid, None)
    for name in (PID_FILE, ENDPOINT_FILE):
        (state / name).unlink(missing_ok=True)
    return was_running


def _log_tail(log_path: Path, limit: int = 2000) -> str:
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return ""
    return text[-limit:].strip()


SITE_DIR = "site"
_SITECUSTOMIZE = """# Written by moto_stand.start: loaded by the moto_server process at start-up.
import sys

sys.path.insert(0, {helpers!r})
import moto_patches  # noqa: E402

moto_patches.apply()
{extra}
"""


def _site(state: Path, site_code: str) -> str:
    """A directory holding the server's sitecustomize: moto_patches (AWS behaviour) plus the caller's site_code."""
    site = state / SITE_DIR
    site.mkdir(exist_ok=True)
    helpers = str(Path(__file__).resolve().parent)
    (site / "sitecustomize.py").write_text(_SITECUSTOMIZE.format(helpers=helpers, extra=site_code))
    return str(site)


def start(state_dir: str | os.PathLike[str], timeout: float = START_TIMEOUT, site_code: str = "") -> str:
    """Launch a detached moto_server; return its endpoint once it answers.

    The server runs with tests/helpers/moto_patches.py applied (where moto differs from AWS in a way the product
    must not work around) and with ``site_code``, Python run in the server process at start-up, if given.
    """
    state = Path(state_dir).resolve()
    state.mkdir(parents=True, exist_ok=True)
    stop(state)
    python_path = os.pathsep.join(filter(None, [_site(state, site_code), os.environ.get("PYTHONPATH")]))

    executable = find_moto_server()
    if executable is None:
        raise MotoStandError("moto_server not found next to the Python interpreter or on PATH")

    port = _free_port()
    endpoint = f"http://{HOST}:{port}"
    log_path = state / LOG_FILE
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [executable, "-H", HOST, "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # The recorder writes its file relative to the cwd; keep it in DIR.
            cwd=state,
            env={**os.environ, "MOTO_RECORDER_FILEPATH": str(state / RECORDING_FILE), "PYTHONPATH": python_path},
        )
    _CHILDREN[proc.pid] = proc
    (state / PID_FILE).write_text(str(proc.pid))

    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            stop(state)
            raise MotoStandError(
                f"moto_server exited with code {proc.returncode} during start-up; "
                f"log {log_path}:\n{_log_tail(log_path)}"
            )
        try:
            status, _body = _request(endpoint + READY_PATH, timeout=2.0)
        except (urllib.error.URLError, OSError):
            status = None
        if status == 200:
            break
        if time.monotonic() >= deadline:
            stop(state)
            raise MotoStandError(
                f"moto_server on {endpoint} not ready after {timeout:.0f}s; log {log_path}:\n{_log_tail(log_path)}"
            )
        time.sleep(POLL_INTERVAL)

    (state / ENDPOINT_FILE).write_text(endpoint)
    return endpoint


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("start", "launch a detached moto_server and print its endpoint"),
        ("stop", "stop the moto_server started in --state-dir"),
    ):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--state-dir", required=True, help="directory holding pid, endpoint and log")
    for name, help_text in (
        ("reset", "reset all moto state"),
        ("record-start", "clear and start the request recorder"),
        ("record-stop", "stop the recorder and print a JSON summary"),
    ):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--endpoint", required=True, help="e.g. http://127.0.0.1:5000")
        if name == "record-stop":
            cmd.add_argument("--out", help="also write the JSON summary to this file")
            cmd.add_argument("--extra", default="{}", help="JSON object merged into the summary (run labels)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "start":
            print(start(args.state_dir))
        elif args.command == "stop":
            stop(args.state_dir)
        elif args.command == "reset":
            reset(args.endpoint)
        elif args.command == "record-start":
            record_start(args.endpoint)
        elif args.command == "record-stop":
            text = json.dumps({**json.loads(args.extra), **record_stop(args.endpoint)}, indent=2)
            print(text)
            if args.out:
                Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                Path(args.out).write_text(text + "\n")
    except (MotoStandError, OSError) as exc:
        print(f"moto_stand {args.command}: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
