"""lock_token: signing and every way a token is refused (pure, no AWS)."""

import json

import lock_token
import pytest
from lock_token import TokenError, make_token, verify_token

SECRET = b"0123456789abcdef0123456789abcdef"
ACCOUNT = "123456789012"
NOW = 1_714_554_942
DAY = 86400


def signed(claims, secret=SECRET):
    """A correctly signed token around arbitrary claims (what an attacker cannot make without the secret)."""
    payload = lock_token._b64encode(json.dumps(claims, separators=(",", ":")).encode())
    return f"{payload}.{lock_token._sign(secret, payload)}"


def claims(**overrides):
    base = {"v": 1, "acct": ACCOUNT, "bkt": "bucket-a", "iat": NOW, "exp": NOW + 3600, "jti": "abcdefgh12345678"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def test_valid_token_round_trip():
    token = make_token(SECRET, ACCOUNT, "bucket-a", NOW + 3600, token_id="tok_ABC-12345678", issued_at=NOW)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert verify_token(SECRET, token, ACCOUNT, NOW + 10) == {
        "account": ACCOUNT,
        "bucket": "bucket-a",
        "region": None,
        "issued_at": NOW,
        "expires_at": NOW + 3600,
        "token_id": "tok_ABC-12345678",
    }


def test_region_claim_and_random_ids():
    first = make_token(SECRET, ACCOUNT, "bucket-a", NOW + 60, issued_at=NOW, region="eu-west-1")
    second = make_token(SECRET, ACCOUNT, "bucket-a", NOW + 60, issued_at=NOW, region="eu-west-1")
    one, two = (verify_token(SECRET, t, ACCOUNT, NOW) for t in (first, second))
    assert one["region"] == "eu-west-1"
    assert one["token_id"] != two["token_id"] and len(one["token_id"]) == 16


def test_full_24_hours_is_accepted_until_the_last_second():
    token = make_token(SECRET, ACCOUNT, "bucket-a", NOW + DAY, issued_at=NOW)
    assert verify_token(SECRET, token, ACCOUNT, NOW + DAY - 1)["expires_at"] == NOW + DAY
    with pytest.raises(TokenError) as err:
        verify_token(SECRET, token, ACCOUNT, NOW + DAY)
    assert err.value.reason == "expired"


def _flip(text, index):
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda p, s: f"{_flip(p, 5)}.{s}", id="payload-char"),
        pytest.param(lambda p, s: f"{p}.{_flip(s, 3)}", id="signature-char"),
        pytest.param(lambda p, s: f"{p}.{s[:-2]}", id="signature-truncated"),
        pytest.param(
            lambda p, s: f"{lock_token._b64encode(json.dumps(claims(bkt='bucket-b')).encode())}.{s}",
            id="payload-swapped-to-other-bucket",
        ),
        pytest.param(
            lambda p, s: f"{lock_token._b64encode(json.dumps(claims(exp=NOW + 999999)).encode())}.{s}",
            id="payload-expiry-extended",
        ),
    ],
)
def test_tampered_tokens_are_refused(tamper):
    token = signed(claims())
    payload, signature = token.split(".")
    with pytest.raises(TokenError) as err:
        verify_token(SECRET, tamper(payload, signature), ACCOUNT, NOW)
    assert err.value.reason in ("bad_signature", "bad_format")


def test_token_from_another_secret_is_refused():
    token = make_token(b"another-secret-of-sufficient-length", ACCOUNT, "bucket-a", NOW + 60, issued_at=NOW)
    with pytest.raises(TokenError) as err:
        verify_token(SECRET, token, ACCOUNT, NOW)
    assert err.value.reason == "bad_signature"


def test_signature_is_compared_in_constant_time(monkeypatch):
    calls = []
    real = lock_token.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(lock_token.hmac, "compare_digest", spy)
    verify_token(SECRET, signed(claims()), ACCOUNT, NOW)
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "missing"),
        (None, "missing"),
        ("no-dot-at-all", "bad_format"),
        ("a.b.c", "bad_format"),
        (".sig", "bad_format"),
        ("payload.", "bad_format"),
        ("<script>.alert", "bad_format"),
        ("x" * 2000 + ".y", "bad_format"),
        (signed("not-an-object"), "bad_format"),
        (signed(claims(v=2)), "bad_format"),
        (signed(claims(jti=None)), "bad_format"),
        (signed(claims(acct=None)), "bad_format"),
        (signed(claims(exp="tomorrow")), "bad_format"),
        (signed(claims(exp=True)), "bad_format"),
        (signed(claims(jti="short")), "bad_format"),
    ],
)
def test_malformed_tokens(token, reason):
    with pytest.raises(TokenError) as err:
        verify_token(SECRET, token, ACCOUNT, NOW)
    assert err.value.reason == reason


def test_signed_payload_that_is_not_json():
    payload = lock_token._b64encode(b"\xff\xfe not json")
    token = f"{payload}.{lock_token._sign(SECRET, payload)}"
    with pytest.raises(TokenError) as err:
        verify_token(SECRET, token, ACCOUNT, NOW)
    assert err.value.reason == "bad_format"


@pytest.mark.parametrize(
    ("token_claims", "now", "reason"),
    [
        pytest.param(claims(iat=NOW - 7200, exp=NOW - 3600), NOW, "expired", id="expired"),
        pytest.param(claims(iat=NOW, exp=NOW + DAY + 1), NOW, "expiry_too_far", id="lifetime-over-24h"),
        pytest.param(claims(iat=NOW - DAY, exp=NOW + DAY), NOW, "expiry_too_far", id="lifetime-48h-not-yet-expired"),
        pytest.param(claims(iat=NOW + 3600, exp=NOW + 7200), NOW, "not_yet_valid", id="issued-in-the-future"),
        pytest.param(claims(acct="111111111111"), NOW, "wrong_account", id="other-account"),
    ],
)
def test_refusals(token_claims, now, reason):
    with pytest.raises(TokenError) as err:
        verify_token(SECRET, signed(token_claims), ACCOUNT, now)
    assert err.value.reason == reason
    assert str(err.value)  # a sentence for the page


def test_small_clock_skew_is_tolerated():
    token = signed(claims(iat=NOW + 60, exp=NOW + 3600))
    assert verify_token(SECRET, token, ACCOUNT, NOW)["bucket"] == "bucket-a"


def test_other_bucket_is_refused_when_the_bucket_is_named():
    token = make_token(SECRET, ACCOUNT, "bucket-a", NOW + 60, issued_at=NOW)
    assert verify_token(SECRET, token, ACCOUNT, NOW, bucket="bucket-a")["bucket"] == "bucket-a"
    with pytest.raises(TokenError) as err:
        verify_token(SECRET, token, ACCOUNT, NOW, bucket="bucket-b")
    assert err.value.reason == "wrong_bucket"


def test_account_may_be_given_as_int_or_str():
    token = make_token(SECRET, 123456789012, "bucket-a", NOW + 60, issued_at=NOW)
    assert verify_token(SECRET, token, 123456789012, NOW)["account"] == ACCOUNT


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"expires_at": NOW + DAY + 1}, "expire within"),
        ({"expires_at": NOW}, "expire within"),
        ({"expires_at": NOW - 10}, "expire within"),
        ({"account": "12345"}, "account id"),
        ({"bucket": ""}, "bucket"),
        ({"secret": b"short"}, "at least 16 bytes"),
        ({"secret": "a text secret, not bytes"}, "at least 16 bytes"),
        ({"token_id": "has space in it"}, "token_id"),
    ],
)
def test_make_token_refuses_bad_input(kwargs, message):
    args = {"secret": SECRET, "account": ACCOUNT, "bucket": "bucket-a", "expires_at": NOW + 60, "issued_at": NOW}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        make_token(**args)


def test_verify_refuses_a_weak_secret():
    with pytest.raises(ValueError):
        verify_token(b"short", signed(claims()), ACCOUNT, NOW)
