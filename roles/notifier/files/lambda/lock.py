"""TrailWatch one-click lock: a Lambda function URL that applies S3 Object Lock to a bucket named in a signed token.

Handler ``lock.handler``, function URL payload format 2.0 (``requestContext.http.method``,
``queryStringParameters``, ``body`` possibly base64 with ``isBase64Encoded``).

- ``GET ?token=...``: checks the token and shows a confirmation page naming the bucket, the retention mode and days,
  with a POST form (token in a hidden field). GET never changes anything (mail scanners open links).
- ``POST`` (form-encoded ``token``, optional ``bucket``): checks the token again, consumes it, enables versioning when
  it is not enabled and applies Object Lock with the default retention ``LOCK_MODE`` / ``LOCK_DAYS``
  (PutObjectLockConfiguration), then shows the result.
- Tampered, expired, other-account, other-bucket or already used tokens get a page saying why; nothing changes.
- A bucket that already has a default retention is left as it is (the link never weakens an existing lock).

Single use: a POST consumes the token before anything else happens, with one conditional PutItem of
``token#<token id>`` into the state table (``STATE_TABLE``; TTL attribute ``expires_at`` = the token's expiry plus
the clock skew tolerated). Of any number of POSTs racing with one token exactly one creates the item; the others get
the "already used" page and change nothing. Nothing is stored on the bucket, so buckets with 50 tags or with ``aws:``
system tags are protected alike. When the lock then fails (AWS refused, the bucket could not be read) the claim is
released, so the link can be used again once the cause is fixed. A GET reads the item (never writes) to tell a used
link at once.

Environment (see README-lambda.md): LOCK_SECRET_PARAMETER, STATE_TABLE, LOCK_MODE, LOCK_DAYS, NOTIFY_LANGUAGE,
LOG_LEVEL.
"""

import base64
import binascii
import datetime
import html
import os
import time
import urllib.parse
import uuid

import lock_token
import trailwatch_common as common

LOG = common.LOG

TOKEN_PREFIX = "token#"
CLAIMED_BY = "claimed_by"
MODES = ("GOVERNANCE", "COMPLIANCE")
MAX_DAYS = 36500
MAX_BODY = 8192

SECURITY_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

TEXT = {
    "en": {
        "confirm_title": "Lock S3 bucket {bucket}?",
        "confirm_intro": (
            "Confirming enables versioning (if it is not enabled yet) and S3 Object Lock on bucket {bucket} "
            "in account {account}, with a default retention of {mode} for {days} days on every new object version."
        ),
        "irreversible": "Object Lock cannot be turned off again once it is enabled on a bucket.",
        "mode_GOVERNANCE": (
            "GOVERNANCE mode: principals allowed s3:BypassGovernanceRetention can still shorten or remove a retention."
        ),
        "mode_COMPLIANCE": (
            "COMPLIANCE mode: nobody, not even the root user, can delete a protected object version "
            "or shorten its retention until it ends."
        ),
        "state": "Current state",
        "versioning": "Versioning",
        "versioning_off": "never enabled",
        "object_lock": "Object Lock",
        "lock_off": "not enabled",
        "lock_enabled_no_rule": "enabled, no default retention",
        "valid_until": "This link is valid until {expiry}.",
        "button": "Lock the bucket",
        "done_title": "Bucket {bucket} is locked",
        "done": "Object Lock is enabled on bucket {bucket} with a default retention of {mode} for {days} days.",
        "versioning_enabled_now": "Versioning was enabled on the bucket.",
        "versioning_was_on": "Versioning was already enabled.",
        "failed_title": "Bucket {bucket} could not be locked",
        "failed": "AWS refused to apply Object Lock to bucket {bucket}: {error}",
        "failed_versioning": (
            "Versioning had been enabled on the bucket before the failure; it stays enabled. Nothing else was changed."
        ),
        "failed_nothing": "Nothing was changed.",
        "retry": "The link stays valid: open it again once the cause is fixed.",
        "state_error_title": "The link could not be checked",
        "state_error": "TrailWatch could not record the use of this link ({error}). Nothing was changed; try again.",
        "already_title": "Bucket {bucket} is already locked",
        "already": "Bucket {bucket} already has Object Lock with a default retention of {retention}. "
        "This link never replaces an existing retention. Nothing was changed.",
        "refused_title": "This link cannot be used",
        "nothing_changed": "Nothing was changed.",
        "used": "This link has already been used. Each link works once.",
        "gone_title": "Bucket {bucket} does not exist",
        "gone": "The bucket no longer exists. Nothing was changed.",
        "aws_error_title": "The bucket could not be read",
        "aws_error": "AWS answered: {error}. Nothing was changed.",
        "misconfigured_title": "The lock function is misconfigured",
        "misconfigured": "{error}. Nothing was changed; ask the TrailWatch administrator.",
        "method_title": "Method not allowed",
        "method": "Use the link from the notification (GET) and the button on its page (POST).",
        "reason_missing": "The link carries no token.",
        "reason_bad_format": "The link is damaged (the token is malformed).",
        "reason_bad_signature": "The link was altered or was not issued by this TrailWatch installation.",
        "reason_expired": "The link has expired. Links are valid for at most 24 hours.",
        "reason_not_yet_valid": "The link's issue time lies in the future.",
        "reason_expiry_too_far": "The link claims a lifetime over 24 hours, which TrailWatch never issues.",
        "reason_wrong_account": "The link was issued for another AWS account.",
        "reason_wrong_bucket": "The link was issued for another bucket.",
        "days": "{days} days",
        "years": "{years} years",
    },
    "ja": {
        "confirm_title": "S3 バケット {bucket} をロックしますか?",
        "confirm_intro": (
            "確定すると、アカウント {account} のバケット {bucket} でバージョニング (未有効の場合) と "
            "S3 オブジェクトロックを有効にし、新しいオブジェクトバージョンに既定の保持期間 "
            "({mode}、{days} 日間) を設定します。"
        ),
        "irreversible": "バケットのオブジェクトロックは、一度有効にすると無効に戻せません。",
        "mode_GOVERNANCE": (
            "GOVERNANCE モード: s3:BypassGovernanceRetention を許可されたプリンシパルは保持期間を短縮・解除できます。"
        ),
        "mode_COMPLIANCE": (
            "COMPLIANCE モード: 保持期間が終わるまで、ルートユーザーを含め誰も保護されたオブジェクトバージョンを"
            "削除したり保持期間を短縮したりできません。"
        ),
        "state": "現在の状態",
        "versioning": "バージョニング",
        "versioning_off": "未設定",
        "object_lock": "オブジェクトロック",
        "lock_off": "無効",
        "lock_enabled_no_rule": "有効 (既定の保持期間なし)",
        "valid_until": "このリンクの有効期限: {expiry}",
        "button": "バケットをロックする",
        "done_title": "バケット {bucket} をロックしました",
        "done": (
            "バケット {bucket} でオブジェクトロックを有効にし、既定の保持期間を {mode}、{days} 日間に設定しました。"
        ),
        "versioning_enabled_now": "バケットのバージョニングを有効にしました。",
        "versioning_was_on": "バージョニングは既に有効でした。",
        "failed_title": "バケット {bucket} をロックできませんでした",
        "failed": "AWS はバケット {bucket} へのオブジェクトロックの設定を拒否しました: {error}",
        "failed_versioning": (
            "失敗の前にバケットのバージョニングを有効にしました (有効のままです)。それ以外は何も変更していません。"
        ),
        "failed_nothing": "何も変更していません。",
        "retry": "リンクは引き続き有効です。原因を解消してから、もう一度開いてください。",
        "state_error_title": "リンクを確認できませんでした",
        "state_error": (
            "このリンクの使用を記録できませんでした ({error})。何も変更していません。もう一度お試しください。"
        ),
        "already_title": "バケット {bucket} は既にロックされています",
        "already": "バケット {bucket} には既にオブジェクトロックと既定の保持期間 ({retention}) が設定されています。"
        "このリンクは既存の保持期間を置き換えません。何も変更していません。",
        "refused_title": "このリンクは使用できません",
        "nothing_changed": "何も変更していません。",
        "used": "このリンクは既に使用されています。各リンクは一度だけ使用できます。",
        "gone_title": "バケット {bucket} は存在しません",
        "gone": "バケットは既に存在しません。何も変更していません。",
        "aws_error_title": "バケットの状態を読み取れませんでした",
        "aws_error": "AWS の応答: {error}。何も変更していません。",
        "misconfigured_title": "ロック機能の設定に誤りがあります",
        "misconfigured": "{error}。何も変更していません。TrailWatch の管理者に連絡してください。",
        "method_title": "許可されていないメソッドです",
        "method": "通知のリンク (GET) と、そのページのボタン (POST) を使用してください。",
        "reason_missing": "リンクにトークンが含まれていません。",
        "reason_bad_format": "リンクが壊れています (トークンの形式が不正です)。",
        "reason_bad_signature": "リンクが改ざんされているか、この TrailWatch が発行したものではありません。",
        "reason_expired": "リンクの有効期限が切れています。リンクの有効期間は最長 24 時間です。",
        "reason_not_yet_valid": "リンクの発行時刻が未来になっています。",
        "reason_expiry_too_far": (
            "リンクの有効期間が 24 時間を超えています (TrailWatch はそのようなリンクを発行しません)。"
        ),
        "reason_wrong_account": "リンクは別の AWS アカウント向けに発行されたものです。",
        "reason_wrong_bucket": "リンクは別のバケット向けに発行されたものです。",
        "days": "{days} 日間",
        "years": "{years} 年間",
    },
}


def _now():
    return time.time()


class Misconfigured(Exception):
    pass


class Settings:
    def __init__(self, environ=None):
        env = os.environ if environ is None else environ
        self.language = env.get("NOTIFY_LANGUAGE", "en").strip().lower()
        if self.language not in TEXT:
            self.language = "en"
        self.secret_parameter = env.get("LOCK_SECRET_PARAMETER", "").strip()
        self.state_table = env.get("STATE_TABLE", "").strip()
        self.mode = env.get("LOCK_MODE", "GOVERNANCE").strip().upper() or "GOVERNANCE"
        self.days_raw = env.get("LOCK_DAYS", "").strip()

    def validate(self):
        """Returns ``(mode, days)``; raises Misconfigured."""
        if not self.secret_parameter:
            raise Misconfigured("LOCK_SECRET_PARAMETER is not set")
        if not self.state_table:
            raise Misconfigured("STATE_TABLE is not set")
        if self.mode not in MODES:
            raise Misconfigured(f"LOCK_MODE must be GOVERNANCE or COMPLIANCE, not {self.mode!r}")
        try:
            days = int(self.days_raw)
        except ValueError:
            raise Misconfigured(f"LOCK_DAYS must be a whole number of days, not {self.days_raw!r}") from None
        if not 1 <= days <= MAX_DAYS:
            raise Misconfigured(f"LOCK_DAYS must lie between 1 and {MAX_DAYS}")
        return self.mode, days


# --------------------------------------------------------------------------------------------------- HTML


def _e(value):
    return html.escape(str(value), quote=True)


def page(status, title, paragraphs, language="en", form=None, facts=None, extra_headers=None):
    """A complete response. Every dynamic value is escaped here: callers pass plain text."""
    parts = [f"<h1>{_e(title)}</h1>"]
    parts += [f"<p>{_e(p)}</p>" for p in paragraphs if p]
    if facts:
        rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts)
        parts.append(f"<table>{rows}</table>")
    if form:
        hidden = "".join(f'<input type="hidden" name="{_e(k)}" value="{_e(v)}">' for k, v in form["fields"].items())
        button = f'<button type="submit">{_e(form["button"])}</button>'
        parts.append(f'<form method="post" action="">{hidden}{button}</form>')
    body = (
        f'<!DOCTYPE html>\n<html lang="{_e(language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{_e(title)} - TrailWatch</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
        "th{text-align:left;padding-right:1rem}button{font-size:1.1rem;padding:.5rem 1.5rem}</style>"
        "</head><body>" + "".join(parts) + "</body></html>\n"
    )
    headers = dict(SECURITY_HEADERS)
    headers.update(extra_headers or {})
    return {"statusCode": status, "headers": headers, "body": body}


# --------------------------------------------------------------------------------------------------- request


def request_method(event):
    return str(((event.get("requestContext") or {}).get("http") or {}).get("method") or "").upper()


def request_params(event, method):
    """``(token, bucket)`` from the form body (POST) or the query string (GET; POST falls back to it)."""
    query = event.get("queryStringParameters") or {}
    form = {}
    if method == "POST" and event.get("body"):
        raw = event["body"]
        if event.get("isBase64Encoded"):
            try:
                raw = base64.b64decode(raw, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                raw = ""
        if len(raw) <= MAX_BODY:
            parsed = urllib.parse.parse_qs(raw, keep_blank_values=True, max_num_fields=20)
            form = {k: v[0] for k, v in parsed.items() if v}
    token = form.get("token") or query.get("token") or ""
    bucket = form.get("bucket") or query.get("bucket") or None
    return token.strip(), bucket


def own_account(context):
    arn = getattr(context, "invoked_function_arn", None)
    if isinstance(arn, str) and arn.count(":") >= 5:
        return arn.split(":")[4]
    return common.client("sts").get_caller_identity()["Account"]


def _utc(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def check_token(settings, token, account, bucket):
    """Claims of a valid token; raises TokenError. Retries once with a fresh secret after a bad signature."""
    secret = common.lock_secret(settings.secret_parameter)
    try:
        return lock_token.verify_token(secret, token, account, int(_now()), bucket=bucket)
    except lock_token.TokenError as exc:
        if exc.reason != "bad_signature":
            raise
        fresh = common.lock_secret(settings.secret_parameter, refresh=True)
        if fresh == secret:
            raise
        return lock_token.verify_token(fresh, token, account, int(_now()), bucket=bucket)


# --------------------------------------------------------------------------------------------------- bucket


def token_key(claims):
    return TOKEN_PREFIX + claims["token_id"]


def consume(table, claims, bucket, request_id):
    """Claim the token for this request: True for exactly one of any number of concurrent callers.

    The item lives until the token's expiry plus the clock skew the token check tolerates (TTL), so it outlasts
    every moment at which the token could still be accepted.
    """
    expires_at = claims["expires_at"] + lock_token.CLOCK_SKEW_SECONDS
    attributes = {"bucket": bucket, CLAIMED_BY: request_id, "claimed_at": int(_now())}
    return common.claim(table, token_key(claims), expires_at, attributes)


def give_back(table, claims, request_id):
    """Release this request's claim after a failure that changed no lock, so the link works again."""
    try:
        common.release(table, token_key(claims), CLAIMED_BY, request_id)
    except Exception as exc:  # broad on purpose: the page reports the lock failure, the link then stays used
        LOG.error("could not release token %s after the failure: %s", claims["token_id"], common.error_code(exc))
        return False
    return True


def lock_state(s3, bucket, account):
    """``(versioning_status or None, object_lock_enabled, default_retention dict or None)``."""
    from botocore.exceptions import ClientError

    versioning = s3.get_bucket_versioning(Bucket=bucket, ExpectedBucketOwner=account).get("Status")
    try:
        config = s3.get_object_lock_configuration(Bucket=bucket, ExpectedBucketOwner=account)
    except ClientError as exc:
        if common.error_code(exc) == "ObjectLockConfigurationNotFoundError":
            return versioning, False, None
        raise
    config = config.get("ObjectLockConfiguration") or {}
    retention = (config.get("Rule") or {}).get("DefaultRetention") or None
    if retention and not retention.get("Mode"):
        retention = None
    return versioning, config.get("ObjectLockEnabled") == "Enabled", retention


def describe_retention(retention, t):
    if retention.get("Days"):
        period = t["days"].format(days=retention["Days"])
    else:
        period = t["years"].format(years=retention.get("Years"))
    return f"{retention.get('Mode')}, {period}"


def apply_lock(s3, bucket, account, mode, days, versioning):
    """Enable versioning if needed, then Object Lock. Returns whether versioning was enabled here.

    Raises ``LockFailed(versioning_enabled_here, ClientError)``.
    """
    from botocore.exceptions import ClientError

    enabled_here = False
    try:
        if versioning != "Enabled":
            s3.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}, ExpectedBucketOwner=account
            )
            enabled_here = True
        s3.put_object_lock_configuration(
            Bucket=bucket,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": mode, "Days": days}},
            },
            ExpectedBucketOwner=account,
        )
    except ClientError as exc:
        raise LockFailed(enabled_here, exc) from exc
    return enabled_here


class LockFailed(Exception):
    def __init__(self, versioning_enabled_here, error):
        self.versioning_enabled_here = versioning_enabled_here
        self.error = error
        super().__init__(str(error))


# --------------------------------------------------------------------------------------------------- handler


def handler(event, context):
    common.setup_logging()
    settings = Settings()
    t = TEXT[settings.language]
    lang = settings.language
    method = request_method(event)
    if method not in ("GET", "POST"):
        return page(405, t["method_title"], [t["method"]], lang, extra_headers={"Allow": "GET, POST"})
    try:
        mode, days = settings.validate()
        account = own_account(context)
    except Misconfigured as exc:
        LOG.error("misconfigured: %s", exc)
        return page(500, t["misconfigured_title"], [t["misconfigured"].format(error=exc)], lang)
    except Exception as exc:  # broad on purpose: any failure to learn the account is a configuration problem
        LOG.error("cannot determine the account: %s", exc)
        return page(500, t["misconfigured_title"], [t["misconfigured"].format(error=common.error_code(exc))], lang)

    token, bucket_param = request_params(event, method)
    try:
        claims = check_token(settings, token, account, bucket_param)
    except lock_token.TokenError as exc:
        LOG.warning("%s refused: %s", method, exc)
        status = 400 if exc.reason in ("missing", "bad_format") else 403
        reason = t.get(f"reason_{exc.reason}", str(exc))
        return page(status, t["refused_title"], [reason, t["nothing_changed"]], lang)
    except Exception as exc:  # broad on purpose: secret unreadable (SSM, KMS, permissions) => clear page
        LOG.error("cannot read the lock secret: %s", exc)
        return page(500, t["misconfigured_title"], [t["misconfigured"].format(error=common.error_code(exc))], lang)

    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError

    bucket = claims["bucket"]
    LOG.info("%s for bucket %s with token %s", method, bucket, claims["token_id"])
    request_id = getattr(context, "aws_request_id", None) or str(uuid.uuid4())
    try:
        if method == "POST":
            fresh = consume(settings.state_table, claims, bucket, request_id)
        else:
            fresh = not common.exists(settings.state_table, token_key(claims))
    except (ClientError, BotoCoreError) as exc:  # after the SDK's retries: fail closed, nothing changed
        LOG.error("state table %s unusable: %s", settings.state_table, common.error_code(exc))
        error = f"{common.error_code(exc)}: {common.error_message(exc)}"
        return page(502, t["state_error_title"], [t["state_error"].format(error=error)], lang)
    if not fresh:
        LOG.warning("used token %s for bucket %s refused (%s)", claims["token_id"], bucket, method)
        return page(409, t["refused_title"], [t["used"], t["nothing_changed"]], lang)

    def failed_page(status, title, paragraphs):
        """After a POST consumed the token: give it back (nothing was locked) and say the link still works."""
        if method == "POST" and give_back(settings.state_table, claims, request_id):
            paragraphs = [*paragraphs, t["retry"]]
        return page(status, title, paragraphs, lang)

    s3 = common.client("s3", claims["region"])
    try:
        versioning, lock_enabled, retention = lock_state(s3, bucket, account)
    except ClientError as exc:
        code = common.error_code(exc)
        LOG.warning("reading bucket %s failed: %s", bucket, code)
        if code == "NoSuchBucket":  # the link stays used: a bucket created later under that name is not its bucket
            return page(404, t["gone_title"].format(bucket=bucket), [t["gone"]], lang)
        # AccessDenied also covers "same name, other owner" (ExpectedBucketOwner): never act on such a bucket.
        error = f"{code}: {common.error_message(exc)}"
        return failed_page(502, t["aws_error_title"], [t["aws_error"].format(error=error)])

    if lock_enabled and retention:
        title = t["already_title"].format(bucket=bucket)
        return page(200, title, [t["already"].format(bucket=bucket, retention=describe_retention(retention, t))], lang)

    if method == "GET":
        facts = [
            (t["versioning"], versioning or t["versioning_off"]),
            (t["object_lock"], t["lock_enabled_no_rule"] if lock_enabled else t["lock_off"]),
        ]
        paragraphs = [
            t["confirm_intro"].format(bucket=bucket, account=account, mode=mode, days=days),
            t[f"mode_{mode}"],
            t["irreversible"],
            t["valid_until"].format(expiry=_utc(claims["expires_at"])),
        ]
        form = {"fields": {"token": token, "bucket": bucket}, "button": t["button"]}
        return page(200, t["confirm_title"].format(bucket=bucket), paragraphs, lang, form=form, facts=facts)

    try:
        versioning_enabled_here = apply_lock(s3, bucket, account, mode, days, versioning)
    except LockFailed as exc:
        code = common.error_code(exc.error)
        LOG.error("locking bucket %s failed: %s %s", bucket, code, common.error_message(exc.error))
        status = 404 if code == "NoSuchBucket" else 409 if code.startswith("Invalid") else 502
        paragraphs = [
            t["failed"].format(bucket=bucket, error=f"{code}: {common.error_message(exc.error)}"),
            t["failed_versioning"] if exc.versioning_enabled_here else t["failed_nothing"],
        ]
        return failed_page(status, t["failed_title"].format(bucket=bucket), paragraphs)

    paragraphs = [
        t["done"].format(bucket=bucket, mode=mode, days=days),
        t["versioning_enabled_now"] if versioning_enabled_here else t["versioning_was_on"],
    ]
    LOG.info("bucket %s locked: %s %d days (token %s)", bucket, mode, days, claims["token_id"])
    return page(200, t["done_title"].format(bucket=bucket), paragraphs, lang)
