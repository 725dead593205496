"""Signed, short-lived lock tokens shared by the notifier (issues them) and the lock function (checks them).

A token is ``<payload>.<signature>``: ``payload`` is the URL-safe base64 (no padding) of a compact JSON object,
``signature`` the URL-safe base64 of HMAC-SHA256(secret, payload). Both parts use only ``[A-Za-z0-9_-]``, so the
token can go into a query string unescaped.

Claims: ``v`` (format version, 1), ``acct`` (12-digit account id), ``bkt`` (bucket name), ``iat`` / ``exp`` (issue and
expiry, Unix seconds), ``jti`` (random token id, used for replay protection) and optionally ``rgn`` (bucket region).
A token may live at most :data:`MAX_TTL_SECONDS` (24 h).

Pure standard library: no AWS calls, no clock reads unless the caller omits ``issued_at``.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time

VERSION = 1
MAX_TTL_SECONDS = 86400
MIN_SECRET_BYTES = 16
# Tolerated clock difference between the function that issues a token and the one that checks it.
CLOCK_SKEW_SECONDS = 300
# Generous upper bound: a 63-character bucket name gives a token of about 250 characters.
MAX_TOKEN_LENGTH = 1024

_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_TOKEN_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class TokenError(Exception):
    """A token was refused. ``reason`` is a short machine-readable code, ``str(err)`` a sentence for people."""

    MESSAGES = {
        "missing": "No token was given.",
        "bad_format": "The token is malformed.",
        "bad_signature": "The token's signature is not valid (it was altered or issued with another secret).",
        "expired": "The token has expired.",
        "not_yet_valid": "The token's issue time lies in the future.",
        "expiry_too_far": "The token's lifetime exceeds 24 hours.",
        "wrong_account": "The token was issued for another AWS account.",
        "wrong_bucket": "The token was issued for another bucket.",
    }

    def __init__(self, reason, detail=None):
        self.reason = reason
        self.detail = detail
        message = self.MESSAGES.get(reason, reason)
        super().__init__(f"{message} ({detail})" if detail else message)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not _B64URL.match(text):
        raise TokenError("bad_format", "invalid characters")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise TokenError("bad_format", "invalid base64") from exc


def _check_secret(secret):
    if not isinstance(secret, bytes | bytearray) or len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the lock secret must be at least {MIN_SECRET_BYTES} bytes")


def _sign(secret: bytes, payload_b64: str) -> str:
    return _b64encode(hmac.new(bytes(secret), payload_b64.encode("ascii"), hashlib.sha256).digest())


def new_token_id() -> str:
    """A random token id (16 URL-safe characters, 96 bits)."""
    return secrets.token_urlsafe(12)


def make_token(secret: bytes, account, bucket, expires_at: int, token_id=None, issued_at=None, region=None) -> str:
    """Return a token for ``bucket`` in ``account``, valid until ``expires_at`` (Unix seconds).

    ``issued_at`` defaults to now; ``expires_at - issued_at`` must lie in (0, 24 h].
    """
    _check_secret(secret)
    account = str(account)
    if not _ACCOUNT.match(account):
        raise ValueError(f"not an AWS account id: {account!r}")
    if not bucket or not isinstance(bucket, str):
        raise ValueError("bucket must be a non-empty string")
    issued_at = int(time.time()) if issued_at is None else int(issued_at)
    expires_at = int(expires_at)
    if not 0 < expires_at - issued_at <= MAX_TTL_SECONDS:
        raise ValueError(f"a token must expire within (0, {MAX_TTL_SECONDS}] seconds of its issue")
    token_id = new_token_id() if token_id is None else str(token_id)
    if not _TOKEN_ID.match(token_id):
        raise ValueError("token_id must be 8-64 URL-safe base64 characters")
    claims = {"v": VERSION, "acct": account, "bkt": bucket, "iat": issued_at, "exp": expires_at, "jti": token_id}
    if region:
        claims["rgn"] = str(region)
    payload_b64 = _b64encode(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{payload_b64}.{_sign(secret, payload_b64)}"


def verify_token(secret: bytes, token, account, now, bucket=None) -> dict:
    """Check ``token`` and return its claims as ``{account, bucket, region, issued_at, expires_at, token_id}``.

    Raises :class:`TokenError` for a malformed token, a bad signature (constant-time comparison), an expired token,
    one issued in the future or living longer than 24 h, one for another account and, when ``bucket`` is given, one
    for another bucket. The signature is checked before anything in the payload is trusted.
    """
    _check_secret(secret)
    if not token:
        raise TokenError("missing")
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise TokenError("bad_format")
    payload_b64, signature_b64 = token.split(".")
    if not payload_b64 or not signature_b64:
        raise TokenError("bad_format")
    _b64decode(signature_b64)  # format check only; the comparison below is on the canonical text
    if not hmac.compare_digest(_sign(secret, payload_b64).encode("ascii"), signature_b64.encode("ascii")):
        raise TokenError("bad_signature")
    try:
        claims = json.loads(_b64decode(payload_b64).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise TokenError("bad_format", "payload is not JSON") from exc
    if not isinstance(claims, dict) or claims.get("v") != VERSION:
        raise TokenError("bad_format", "unknown token version")
    try:
        token_account = claims["acct"]
        token_bucket = claims["bkt"]
        issued_at = claims["iat"]
        expires_at = claims["exp"]
        token_id = claims["jti"]
    except KeyError as exc:
        raise TokenError("bad_format", f"claim {exc.args[0]} missing") from exc
    if not (
        isinstance(token_account, str)
        and isinstance(token_bucket, str)
        and token_bucket
        and isinstance(token_id, str)
        and _TOKEN_ID.match(token_id)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in (issued_at, expires_at))
    ):
        raise TokenError("bad_format", "claim of the wrong type")
    now = int(now)
    if expires_at - issued_at > MAX_TTL_SECONDS:
        raise TokenError("expiry_too_far")
    if issued_at > now + CLOCK_SKEW_SECONDS:
        raise TokenError("not_yet_valid")
    if now >= expires_at:
        raise TokenError("expired")
    if token_account != str(account):
        raise TokenError("wrong_account")
    if bucket is not None and token_bucket != bucket:
        raise TokenError("wrong_bucket")
    return {
        "account": token_account,
        "bucket": token_bucket,
        "region": claims.get("rgn") if isinstance(claims.get("rgn"), str) else None,
        "issued_at": issued_at,
        "expires_at": expires_at,
        "token_id": token_id,
    }
