"""TrailWatch notifier: one SNS message per CreateBucket event found in CloudTrail's CloudWatch Logs.

Handler ``notifier.handler``, triggered by a CloudWatch Logs subscription filter on the trail's log group (the
default watch's pattern ``{ ($.eventName = "CreateBucket") }``). CloudWatch Logs invokes the function
asynchronously with ``{"awslogs": {"data": base64(gzip(json))}}``; the JSON holds ``messageType``
(``DATA_MESSAGE`` or the ``CONTROL_MESSAGE`` health check), ``owner``, ``logGroup``, ``logStream``,
``subscriptionFilters`` and ``logEvents: [{id, timestamp, message}]``, each ``message`` one CloudTrail record.

Every record the pattern matches is announced: an S3 bucket (``s3.amazonaws.com``), an S3 directory bucket
(``s3express.amazonaws.com``, announced as an S3 bucket), a Lightsail bucket (``lightsail.amazonaws.com``, announced
naming Lightsail) and a CreateBucket of any other service (announced naming its event source).

Delivery is at least once. A batch in which any publish failed ends in an error (``NotificationsFailed``) after every
other record was published, so that Lambda's asynchronous retries run and, when they are exhausted, the event goes to
the function's on-failure destination. Records announced by an earlier attempt are skipped: the CloudTrail
``eventID`` of each published record is remembered in the state table (``STATE_TABLE``) and sent as the
``event_id`` message attribute, so subscribers can drop the rare duplicate the table cannot prevent.

Environment (see README-lambda.md): TOPIC_ARN, STATE_TABLE, NOTIFY_LANGUAGE (en|ja), TAG_NEW_BUCKETS, LOCK_LINK,
LOCK_URL, LOCK_SECRET_PARAMETER, LOCK_LINK_TTL_SECONDS, LOG_LEVEL.

Returns ``{"published": n, "skipped": n, "failed": 0, "duplicates": n}``: ``skipped`` counts records that are not
CreateBucket or are malformed, ``duplicates`` records already announced by an earlier attempt. A payload that cannot
be decoded and a batch with failed publishes raise instead.
"""

import base64
import binascii
import datetime
import gzip
import json
import os
import re
import time
import urllib.parse

import lock_token
import trailwatch_common as common

LOG = common.LOG

# Announced events are remembered this long: far beyond Lambda's longest retry window (6 hours of event age).
ANNOUNCED_TTL_SECONDS = 7 * 86400
ANNOUNCED_PREFIX = "event#"

SUBJECT_MAX = 99  # SNS: "less than 100 characters", no control characters; we keep it printable ASCII
VALUE_MAX = 2000  # one field of the body; CloudTrail values are far shorter, this only bounds hostile input
TAG_CREATED_BY = "trailwatch:created-by"
TAG_CREATED_AT = "trailwatch:created-at"

# Where a CreateBucket record comes from decides what was created. The default watch matches all of them.
BUCKET_KINDS = {
    "s3.amazonaws.com": "general_purpose",
    "s3express.amazonaws.com": "directory",
    "lightsail.amazonaws.com": "lightsail",
}
# Auto-tagging (PutBucketTagging) and the lock link (Object Lock) apply to general purpose S3 buckets only.
S3_API_KINDS = ("general_purpose",)

# Legacy location constraints that name a region differently.
_LOCATION_ALIASES = {"EU": "eu-west-1"}
# Control characters, line/paragraph separators and bidirectional overrides (they could fake lines or links).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]+")
_NOT_PRINTABLE_ASCII = re.compile(r"[^\x20-\x7e]")

LABELS = {
    "en": {
        "intro_ok": "A new S3 bucket was created.",
        "intro_ok_directory": "A new S3 directory bucket (S3 Express One Zone) was created.",
        "intro_ok_lightsail": "A new Lightsail bucket was created (through Amazon Lightsail, not the S3 API).",
        "intro_ok_other": "A new bucket was created through {service}.",
        "intro_failed": (
            "FAILED ATTEMPT: someone tried to create an S3 bucket and AWS refused the call. "
            "No bucket was created by this request."
        ),
        "intro_failed_lightsail": (
            "FAILED ATTEMPT: someone tried to create a Lightsail bucket and AWS refused the call. "
            "No bucket was created by this request."
        ),
        "intro_failed_other": (
            "FAILED ATTEMPT: someone tried to create a bucket through {service} and AWS refused the call. "
            "No bucket was created by this request."
        ),
        "bucket_type": "Bucket type",
        "type_directory": "directory bucket (S3 Express One Zone)",
        "type_lightsail": "Lightsail bucket",
        "zone": "Availability Zone",
        "service": "Created through",
        "bucket": "Bucket",
        "region": "Bucket region",
        "result": "Result",
        "ok": "succeeded",
        "failed": "FAILED (the bucket was not created)",
        "error": "Error",
        "principal": "Principal ARN",
        "type": "Identity type",
        "user": "User / role name",
        "session": "Role session name",
        "key": "Access key ID",
        "account": "Account",
        "invoked_by": "Invoked by (AWS service)",
        "time": "Time (UTC)",
        "ip": "Source IP",
        "agent": "User agent",
        "mfa": "MFA used",
        "yes": "yes",
        "no": "no",
        "unknown": "unknown",
        "root_user": "root user",
        "event_id": "CloudTrail event ID",
        "event_region": "Event region",
        "links": "Links",
        "bucket_link": "Bucket in the S3 console",
        "event_link": "CloudTrail event (event history of {region})",
        "tagging": "Auto-tagging",
        "tagged": "added {keys}",
        "tag_unchanged": "tags were already present",
        "tag_gone": "the bucket no longer exists (NoSuchBucket); not tagged",
        "tag_failed": "not tagged: {error}",
        "tag_not_s3": "not tagged: auto-tagging covers general purpose S3 buckets only",
        "lock_not_s3": "No lock link: S3 Object Lock applies to general purpose S3 buckets only",
        "other_account": "skipped: the bucket belongs to account {account}, not to this one",
        "lock": "Lock this bucket with S3 Object Lock (opens a confirmation page; the link is valid until {expiry})",
        "lock_unavailable": "Lock link unavailable: {error}",
        "footer": "-- TrailWatch notifier",
    },
    "ja": {
        "intro_ok": "新しい S3 バケットが作成されました。",
        "intro_ok_directory": "新しい S3 ディレクトリバケット (S3 Express One Zone) が作成されました。",
        "intro_ok_lightsail": "新しい Lightsail バケットが作成されました (S3 API ではなく Amazon Lightsail 経由)。",
        "intro_ok_other": "{service} 経由で新しいバケットが作成されました。",
        "intro_failed": (
            "【失敗】S3 バケットの作成が試みられましたが、AWS はこのリクエストを拒否しました。"
            "このリクエストによるバケットは作成されていません。"
        ),
        "intro_failed_lightsail": (
            "【失敗】Lightsail バケットの作成が試みられましたが、AWS はこのリクエストを拒否しました。"
            "このリクエストによるバケットは作成されていません。"
        ),
        "intro_failed_other": (
            "【失敗】{service} 経由でバケットの作成が試みられましたが、AWS はこのリクエストを拒否しました。"
            "このリクエストによるバケットは作成されていません。"
        ),
        "bucket_type": "バケットの種類",
        "type_directory": "ディレクトリバケット (S3 Express One Zone)",
        "type_lightsail": "Lightsail バケット",
        "zone": "アベイラビリティーゾーン",
        "service": "作成経路",
        "bucket": "バケット名",
        "region": "バケットのリージョン",
        "result": "結果",
        "ok": "成功",
        "failed": "失敗 (バケットは作成されていません)",
        "error": "エラー",
        "principal": "実行者 (プリンシパル ARN)",
        "type": "ID の種類",
        "user": "ユーザー名 / ロール名",
        "session": "ロールセッション名",
        "key": "アクセスキー ID",
        "account": "アカウント",
        "invoked_by": "呼び出し元 (AWS サービス)",
        "time": "日時 (UTC)",
        "ip": "送信元 IP アドレス",
        "agent": "ユーザーエージェント",
        "mfa": "MFA の使用",
        "yes": "あり",
        "no": "なし",
        "unknown": "不明",
        "root_user": "ルートユーザー",
        "event_id": "CloudTrail イベント ID",
        "event_region": "イベントのリージョン",
        "links": "リンク",
        "bucket_link": "S3 コンソールでバケットを開く",
        "event_link": "CloudTrail イベント ({region} のイベント履歴)",
        "tagging": "自動タグ付け",
        "tagged": "タグを追加しました: {keys}",
        "tag_unchanged": "タグは既に付いています",
        "tag_gone": "バケットは既に存在しません (NoSuchBucket)。タグ付けしていません",
        "tag_failed": "タグ付けできませんでした: {error}",
        "tag_not_s3": "タグ付けしていません: 自動タグ付けの対象は汎用 S3 バケットのみです",
        "lock_not_s3": "ロック用リンクなし: S3 オブジェクトロックは汎用 S3 バケットにのみ適用できます",
        "other_account": "実行していません: バケットはこのアカウントではなくアカウント {account} のものです",
        "lock": "このバケットを S3 オブジェクトロックで保護する (確認ページが開きます。リンクの有効期限: {expiry})",
        "lock_unavailable": "ロック用リンクを作成できませんでした: {error}",
        "footer": "-- TrailWatch 通知",
    },
}

IDENTITY_TYPES_JA = {
    "IAMUser": "IAM ユーザー (IAMUser)",
    "AssumedRole": "引き受けたロール (AssumedRole)",
    "Root": "ルートユーザー (Root)",
    "FederatedUser": "フェデレーションユーザー (FederatedUser)",
    "AWSService": "AWS サービス (AWSService)",
    "AWSAccount": "他の AWS アカウント (AWSAccount)",
    "IdentityCenterUser": "IAM Identity Center ユーザー (IdentityCenterUser)",
}


class PayloadError(Exception):
    """The subscription payload itself cannot be decoded (not one record: the whole invocation). Raised by the
    handler, so that the event ends in the on-failure destination, kept for a person to look at."""


class NotificationsFailed(Exception):
    """Some records of a batch were not published. Raised after every other record was, so that Lambda retries."""


class MalformedRecord(Exception):
    """One log event is not a usable CloudTrail record."""


class NotCreateBucket(Exception):
    """One log event is a CloudTrail record, but not an S3 CreateBucket call."""


def _now():
    return time.time()


# --------------------------------------------------------------------------------------------------- decoding


def decode_payload(event):
    """The CloudWatch Logs subscription payload as a dict (base64, then gzip, then JSON)."""
    try:
        data = event["awslogs"]["data"]
    except (KeyError, TypeError) as exc:
        raise PayloadError("event has no awslogs.data: not a CloudWatch Logs subscription event") from exc
    try:
        raw = gzip.decompress(base64.b64decode(data, validate=True))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, OSError, EOFError, TypeError) as exc:
        raise PayloadError(f"awslogs.data cannot be decoded: {exc}") from exc
    if not isinstance(payload, dict):
        raise PayloadError("awslogs.data does not hold a JSON object")
    return payload


def parse_record(message):
    """The CloudTrail record in one log event's ``message``; raises MalformedRecord or NotCreateBucket.

    Every ``CreateBucket`` is kept, whatever its ``eventSource``: exactly the records the default watch
    ``{ ($.eventName = "CreateBucket") }`` counts, so the alarm and the messages agree.
    """
    try:
        record = json.loads(message)
    except (TypeError, ValueError) as exc:
        raise MalformedRecord(f"message is not JSON: {exc}") from exc
    if not isinstance(record, dict):
        raise MalformedRecord("message is not a JSON object")
    if record.get("eventName") != "CreateBucket":
        raise NotCreateBucket(f"{record.get('eventSource')} {record.get('eventName')}")
    return record


def bucket_kind(record):
    """``general_purpose``, ``directory``, ``lightsail`` or ``other``, from the record's ``eventSource``."""
    return BUCKET_KINDS.get(record.get("eventSource"), "other")


def _dict(value):
    return value if isinstance(value, dict) else {}


def _text(value):
    """A single-line, bounded string (CloudTrail values are partly caller-controlled: no line injection)."""
    if value is None or value == "":
        return None
    text = _CONTROL.sub(" ", str(value)).strip()
    return text[:VALUE_MAX] if text else None


def bucket_region(record):
    """Where the bucket lives: the location constraint, else the region the call was sent to, else us-east-1."""
    params = _dict(record.get("requestParameters"))
    constraint = _dict(params.get("CreateBucketConfiguration")).get("LocationConstraint")
    if isinstance(constraint, str) and constraint.strip():
        constraint = constraint.strip()
        return _LOCATION_ALIASES.get(constraint, constraint)
    return _text(record.get("awsRegion")) or "us-east-1"


def _mfa(record, identity):
    attributes = _dict(_dict(identity.get("sessionContext")).get("attributes"))
    value = attributes.get("mfaAuthenticated")
    if value is None:
        extra = _dict(record.get("additionalEventData"))
        value = extra.get("MFAUsed", extra.get("mfaAuthenticated"))
    if value is not None:
        return str(value).strip().lower() in ("true", "yes")
    if str(identity.get("accessKeyId", "")).startswith("AKIA"):
        return False  # a long-term access key never carries MFA
    return None


def _session_name(arn, kind):
    # arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION, arn:aws:sts::ACCOUNT:federated-user/NAME
    if not isinstance(arn, str):
        return None
    resource = arn.split(":", 5)[-1]
    if kind == "AssumedRole" and resource.startswith("assumed-role/") and resource.count("/") >= 2:
        return resource.split("/", 2)[2]
    if kind == "FederatedUser" and resource.startswith("federated-user/"):
        return resource.split("/", 1)[1]
    return None


def describe_record(record):
    """Everything the notification says, as a flat dict. Raises MalformedRecord when essentials are missing."""
    params = _dict(record.get("requestParameters"))
    bucket = _text(params.get("bucketName"))
    identity = record.get("userIdentity")
    missing = [
        name
        for name, value in (
            ("requestParameters.bucketName", bucket),
            ("eventTime", _text(record.get("eventTime"))),
            ("eventID", _text(record.get("eventID"))),
            ("userIdentity", identity if isinstance(identity, dict) else None),
        )
        if not value
    ]
    if missing:
        raise MalformedRecord(f"CreateBucket record without {', '.join(missing)}")
    kind = _text(identity.get("type")) or "Unknown"
    issuer = _dict(_dict(identity.get("sessionContext")).get("sessionIssuer"))
    arn = _text(identity.get("arn"))
    if kind == "Root":
        user = None  # rendered as "root user" in the chosen language
    elif kind in ("AssumedRole", "FederatedUser"):
        user = _text(issuer.get("userName"))
    elif kind == "AWSService":
        user = _text(identity.get("invokedBy"))
    else:
        user = _text(identity.get("userName"))
    session = _text(_session_name(arn, kind))
    account = _text(record.get("recipientAccountId")) or _text(identity.get("accountId"))
    error_code = _text(record.get("errorCode"))
    error_message = _text(record.get("errorMessage"))
    event_region = _text(record.get("awsRegion")) or common.current_region()
    configuration = _dict(params.get("CreateBucketConfiguration"))
    return {
        "kind": bucket_kind(record),
        "service": _text(record.get("eventSource")) or "unknown",
        "zone": _text(_dict(configuration.get("Location")).get("Name")),
        "bucket": bucket,
        "region": bucket_region(record),
        "succeeded": not (error_code or error_message),
        "error_code": error_code,
        "error_message": error_message,
        "principal_arn": arn,
        "principal": arn or _text(identity.get("invokedBy")) or _text(identity.get("principalId")) or "unknown",
        "identity_type": kind,
        "user": user,
        "session": session,
        "access_key_id": _text(identity.get("accessKeyId")),
        "account": account,
        "invoked_by": _text(identity.get("invokedBy")) if kind != "AWSService" else None,
        "event_time": _text(record.get("eventTime")),
        "source_ip": _text(record.get("sourceIPAddress")),
        "user_agent": _text(record.get("userAgent")),
        "mfa": _mfa(record, identity),
        "event_id": _text(record.get("eventID")),
        "event_region": event_region,
    }


# --------------------------------------------------------------------------------------------------- links


def bucket_console_url(bucket, region, directory=False):
    url = "https://s3.console.aws.amazon.com/s3/buckets/{}?region={}".format(
        urllib.parse.quote(bucket, safe=""), urllib.parse.quote(region, safe="")
    )
    return url + "&bucketType=directory" if directory else url


def event_console_url(event_id, region):
    """CloudTrail's event history is regional: an event is found in the region of the call (``awsRegion``)."""
    region = urllib.parse.quote(region, safe="")
    return "https://{0}.console.aws.amazon.com/cloudtrail/home?region={0}#/events/{1}".format(
        region, urllib.parse.quote(event_id, safe="")
    )


def lock_url(base_url, token):
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}token={token}"


def _utc(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


# --------------------------------------------------------------------------------------------------- rendering


def _ascii(text):
    return _NOT_PRINTABLE_ASCII.sub("?", _CONTROL.sub(" ", text))


def _service_name(info):
    """What the subject calls the service: S3 for both kinds of S3 bucket, else the event source's short name."""
    if info["kind"] in ("general_purpose", "directory"):
        return None
    if info["kind"] == "lightsail":
        return "Lightsail"
    return _ascii(info["service"]).removesuffix(".amazonaws.com")


def make_subject(info):
    """A printable-ASCII subject of at most 99 characters that names the bucket (same in every language).

    A directory bucket is an S3 bucket and gets the S3 subject; other services are named.
    """
    bucket = _ascii(info["bucket"])
    service = _service_name(info)
    if info["succeeded"]:
        what = f"{service} bucket" if service else "S3 bucket"
        candidates = [
            f"[TrailWatch] New {what}: {bucket} ({_ascii(info['region'])})",
            f"[TrailWatch] New {what}: {bucket}",
        ]
    else:
        code = _ascii(info["error_code"] or "error")
        call = f"{service} CreateBucket" if service else "CreateBucket"
        candidates = [
            f"[TrailWatch] FAILED {call}: {bucket} ({code})",
            f"[TrailWatch] FAILED {call}: {bucket}",
        ]
    for candidate in candidates:
        if len(candidate) <= SUBJECT_MAX:
            return candidate
    return candidates[-1][: SUBJECT_MAX - 3] + "..."


def render_body(info, language, extras=None):
    """The plain-text body. ``extras``: optional ``tagging`` and ``lock`` lines (already in ``language``)."""
    labels = LABELS.get(language, LABELS["en"])
    extras = extras or {}

    def yes_no(value):
        return labels["unknown"] if value is None else labels["yes"] if value else labels["no"]

    kind = info["identity_type"]
    user = labels["root_user"] if kind == "Root" else info["user"]
    bucket_kind_ = info["kind"]
    rows = [
        ("bucket", info["bucket"]),
        ("bucket_type", labels.get(f"type_{bucket_kind_}")),
        ("region", info["region"]),
        ("zone", info["zone"] if bucket_kind_ == "directory" else None),
        ("service", info["service"] if bucket_kind_ != "general_purpose" else None),
        ("result", labels["ok"] if info["succeeded"] else labels["failed"]),
        ("error", " - ".join(x for x in (info["error_code"], info["error_message"]) if x) or None),
        ("principal", info["principal_arn"]),
        ("type", IDENTITY_TYPES_JA.get(kind, kind) if language == "ja" else kind),
        ("user", user),
        ("session", info["session"]),
        ("key", info["access_key_id"]),
        ("account", info["account"]),
        ("invoked_by", info["invoked_by"]),
        ("time", info["event_time"]),
        ("ip", info["source_ip"]),
        ("agent", info["user_agent"]),
        ("mfa", yes_no(info["mfa"])),
        ("event_id", info["event_id"]),
        ("event_region", info["event_region"]),
        ("tagging", extras.get("tagging")),
    ]
    rows = [(labels[key], value) for key, value in rows if value]
    width = max(len(label) for label, _value in rows) if language == "en" else 0
    lines = [_intro(info, labels), ""]
    lines += [f"{label + ':':<{width + 1}} {value}" for label, value in rows]
    lines += ["", labels["links"] + ":"]
    if info["succeeded"] and bucket_kind_ in ("general_purpose", "directory"):
        url = bucket_console_url(info["bucket"], info["region"], directory=bucket_kind_ == "directory")
        lines += [f"- {labels['bucket_link']}:", f"  {url}"]
    lines += [
        f"- {labels['event_link'].format(region=info['event_region'])}:",
        f"  {event_console_url(info['event_id'], info['event_region'])}",
    ]
    if extras.get("lock_url"):
        lines += [f"- {labels['lock'].format(expiry=extras['lock_expiry'])}:", f"  {extras['lock_url']}"]
    elif extras.get("lock_error"):
        lines += [f"- {labels['lock_unavailable'].format(error=extras['lock_error'])}"]
    elif extras.get("lock_note"):
        lines += [f"- {extras['lock_note']}"]
    lines += ["", labels["footer"]]
    return "\n".join(lines) + "\n"


def _intro(info, labels):
    """The first line: what was created (or attempted), naming the service unless it is S3."""
    kind = info["kind"]
    if info["succeeded"]:
        key = "intro_ok" if kind == "general_purpose" else f"intro_ok_{kind}"
    else:
        key = "intro_failed" if kind in ("general_purpose", "directory") else f"intro_failed_{kind}"
    return labels[key].format(service=info["service"])


def message_attributes(info):
    """SNS message attributes, so subscribers can filter (e.g. only failed attempts) without parsing the body.

    ``event_id`` (the CloudTrail eventID) is the key a subscriber deduplicates on: delivery is at least once.
    """
    attributes = {
        "trailwatch_event": "CreateBucket",
        "outcome": "succeeded" if info["succeeded"] else "failed",
        "bucket": info["bucket"][:256],
        "bucket_region": info["region"],
        "bucket_type": info["kind"],
        "event_source": info["service"],
        "event_id": info["event_id"],
        "account": info["account"],
    }
    return {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items() if v}


# --------------------------------------------------------------------------------------------------- actions


class Settings:
    """The function's configuration, read from the environment once per invocation."""

    def __init__(self, environ=None):
        env = os.environ if environ is None else environ
        self.topic_arn = env.get("TOPIC_ARN", "").strip()
        self.state_table = env.get("STATE_TABLE", "").strip()
        self.language = env.get("NOTIFY_LANGUAGE", "en").strip().lower() or "en"
        if self.language not in LABELS:
            LOG.warning("NOTIFY_LANGUAGE=%r is not supported (en, ja); using en", self.language)
            self.language = "en"
        self.tag_new_buckets = common.env_flag("TAG_NEW_BUCKETS")
        self.lock_link = common.env_flag("LOCK_LINK")
        self.lock_base_url = env.get("LOCK_URL", "").strip()
        self.lock_secret_parameter = env.get("LOCK_SECRET_PARAMETER", "").strip()
        self.lock_ttl = common.env_int(
            "LOCK_LINK_TTL_SECONDS", lock_token.MAX_TTL_SECONDS, minimum=60, maximum=lock_token.MAX_TTL_SECONDS
        )


def own_account(context):
    """This function's account: from the invoked function ARN, else STS (no permission needed)."""
    arn = getattr(context, "invoked_function_arn", None)
    if isinstance(arn, str) and arn.count(":") >= 5:
        return arn.split(":")[4]
    try:
        return common.client("sts").get_caller_identity()["Account"]
    except Exception as exc:  # broad on purpose: an unknown account only disables the same-account check
        LOG.warning("cannot determine this function's account: %s", exc)
        return None


def tag_bucket(info, labels, account):
    """Add created-by / created-at to the bucket's tags (merged). Returns the line for the message."""
    from botocore.exceptions import ClientError

    if account and info["account"] and info["account"] != account:
        return labels["other_account"].format(account=info["account"])
    ours = {
        TAG_CREATED_BY: common.tag_value(info["principal"]),
        TAG_CREATED_AT: common.tag_value(info["event_time"]),
    }
    s3 = common.client("s3", info["region"])
    try:
        changed = common.add_bucket_tags(s3, info["bucket"], ours, expected_owner=info["account"])
    except ClientError as exc:
        code = common.error_code(exc)
        LOG.warning("tagging bucket %s failed: %s %s", info["bucket"], code, common.error_message(exc))
        if code == "NoSuchBucket":
            return labels["tag_gone"]
        return labels["tag_failed"].format(error=f"{code}: {common.error_message(exc)}")
    except common.TaggingError as exc:
        LOG.warning("tagging bucket %s refused: %s", info["bucket"], exc)
        return labels["tag_failed"].format(error=str(exc))
    LOG.info("bucket %s tags %s", info["bucket"], "added" if changed else "already present")
    return labels["tagged"].format(keys=", ".join(sorted(ours))) if changed else labels["tag_unchanged"]


def lock_link(info, settings, labels, account):
    """``{"lock_url", "lock_expiry"}`` or ``{"lock_error"}`` for the message."""
    if not settings.lock_base_url or not settings.lock_secret_parameter:
        return {"lock_error": "LOCK_URL / LOCK_SECRET_PARAMETER not configured"}
    if account and info["account"] and info["account"] != account:
        return {"lock_error": labels["other_account"].format(account=info["account"])}
    try:
        secret = common.lock_secret(settings.lock_secret_parameter)
        issued_at = int(_now())
        expires_at = issued_at + settings.lock_ttl
        token = lock_token.make_token(
            secret,
            info["account"] or account,
            info["bucket"],
            expires_at,
            issued_at=issued_at,
            region=info["region"],
        )
    except Exception as exc:  # broad on purpose: the notification goes out even without its lock link
        LOG.error("cannot issue a lock token for %s: %s", info["bucket"], exc)
        return {"lock_error": common.error_code(exc)}
    return {"lock_url": lock_url(settings.lock_base_url, token), "lock_expiry": _utc(expires_at)}


def publish(settings, subject, body, attributes):
    if not settings.topic_arn:
        raise RuntimeError("TOPIC_ARN is not set")
    region = settings.topic_arn.split(":")[3] if settings.topic_arn.count(":") >= 5 else None
    response = common.client("sns", region).publish(
        TopicArn=settings.topic_arn, Subject=subject, Message=body, MessageAttributes=attributes
    )
    return response.get("MessageId")


def process_record(record, settings, account, info=None):
    """Tag (optional), build and publish the notification for one CreateBucket record. Returns the message id."""
    info = info or describe_record(record)
    labels = LABELS[settings.language]
    extras = {}
    if info["succeeded"]:
        s3_api = info["kind"] in S3_API_KINDS
        if settings.tag_new_buckets:
            extras["tagging"] = tag_bucket(info, labels, account) if s3_api else labels["tag_not_s3"]
        if settings.lock_link:
            note = {"lock_note": labels["lock_not_s3"]}
            extras.update(lock_link(info, settings, labels, account) if s3_api else note)
    subject = make_subject(info)
    body = render_body(info, settings.language, extras)
    message_id = publish(settings, subject, body, message_attributes(info))
    LOG.info(
        "published %s for bucket %s (event %s, %s)",
        message_id,
        info["bucket"],
        info["event_id"],
        "succeeded" if info["succeeded"] else "failed attempt",
    )
    return message_id


def _announced_key(event_id):
    return ANNOUNCED_PREFIX + event_id


def already_announced(settings, event_id):
    """Whether an earlier attempt published this event. An unreadable table answers False: a duplicate message is
    better than a lost one."""
    if not settings.state_table:
        return False
    try:
        return common.exists(settings.state_table, _announced_key(event_id))
    except Exception as exc:  # broad on purpose: the store only prevents duplicates, it never blocks a message
        LOG.warning("state table unreadable for event %s (%s): publishing anyway", event_id, common.error_code(exc))
        return False


def remember_announced(settings, event_id):
    if not settings.state_table:
        return
    try:
        common.remember(settings.state_table, _announced_key(event_id), _now() + ANNOUNCED_TTL_SECONDS)
    except Exception as exc:  # broad on purpose: published is published; a retry may repeat this one message
        LOG.warning("event %s published but not recorded in the state table (%s)", event_id, common.error_code(exc))


def _redriven(event):
    """An on-failure invocation record sent back to the function (redrive from the queue) carries the original
    event as ``requestPayload``."""
    if isinstance(event, dict) and "awslogs" not in event and isinstance(event.get("requestPayload"), dict):
        LOG.info("redriven invocation record (%s): processing its requestPayload", event.get("requestContext"))
        return event["requestPayload"]
    return event


def handler(event, context):
    common.setup_logging()
    summary = {"published": 0, "skipped": 0, "failed": 0, "duplicates": 0}
    try:
        payload = decode_payload(_redriven(event))
    except PayloadError as exc:
        LOG.error("invalid subscription payload: %s", exc)
        raise
    if payload.get("messageType") == "CONTROL_MESSAGE":
        LOG.info("CloudWatch Logs control message (health check): nothing to do")
        return summary
    settings = Settings()
    if not settings.state_table:
        LOG.warning("STATE_TABLE is not set: a retried batch may announce its records twice")
    account = None
    log_events = payload.get("logEvents")
    if not isinstance(log_events, list):
        LOG.error("subscription payload without a logEvents list (messageType %r)", payload.get("messageType"))
        raise PayloadError("subscription payload without a logEvents list")
    failed = []
    for position, log_event in enumerate(log_events):
        event_id = log_event.get("id") if isinstance(log_event, dict) else None
        info = None
        try:
            record = parse_record(log_event.get("message") if isinstance(log_event, dict) else None)
            info = describe_record(record)
            if already_announced(settings, info["event_id"]):
                LOG.info("event %s (bucket %s) was announced by an earlier attempt", info["event_id"], info["bucket"])
                summary["duplicates"] += 1
                continue
            if account is None:
                account = own_account(context) or ""
            process_record(record, settings, account or None, info)
        except NotCreateBucket as exc:
            LOG.info("log event %s (#%d) skipped: not a CreateBucket call (%s)", event_id, position, exc)
            summary["skipped"] += 1
        except MalformedRecord as exc:
            LOG.warning("log event %s (#%d) skipped: malformed record: %s", event_id, position, exc)
            summary["skipped"] += 1
        except Exception as exc:  # broad on purpose: one failed record must not lose the rest of the batch
            LOG.error(
                "log event %s (#%d): notification failed: %s: %s",
                event_id,
                position,
                common.error_code(exc),
                common.error_message(exc),
                exc_info=True,
            )
            summary["failed"] += 1
            failed.append(info["event_id"] if info else f"log event {event_id}")
        else:
            summary["published"] += 1
            remember_announced(settings, info["event_id"])
    LOG.info("summary %s (log group %s)", json.dumps(summary), payload.get("logGroup"))
    if failed:
        raise NotificationsFailed(
            f"{len(failed)} of {summary['published'] + len(failed)} CreateBucket records not published "
            f"(CloudTrail event IDs: {', '.join(failed)}); the others were. Lambda retries the batch (records "
            "already announced are skipped) and then sends it to the on-failure destination"
        )
    return summary
