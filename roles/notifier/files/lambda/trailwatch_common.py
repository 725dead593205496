"""Helpers shared by the notifier and the lock function: lazy AWS clients, the lock secret, bucket tags, and the
state table (DynamoDB) where the notifier remembers the events it announced and the lock function the links used.

Standard library and boto3 only (both ship with the Lambda Python runtime). Nothing here talks to AWS at import
time: clients are created on first use and cached per container, so tests can import the handlers without AWS.
"""

import logging
import os
import re
import time

LOG = logging.getLogger("trailwatch")

TAG_PREFIX = "trailwatch:"
MAX_BUCKET_TAGS = 50
MAX_TAG_VALUE = 256
# The lock secret is re-read after this long, so a rotated secret reaches warm containers within minutes.
SECRET_CACHE_SECONDS = 300

# The state table: one string partition key, one TTL attribute (Unix seconds, a Number as TTL requires).
STATE_KEY = "id"
STATE_EXPIRES = "expires_at"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}
# Characters S3 (and the AWS tagging rules) accept in tag values.
_TAG_VALUE_BAD = re.compile(r"[^\w .:/=+\-@]", re.UNICODE)

_clients = {}
_secrets = {}


def reset_caches():
    """Forget cached clients and secrets (tests; a warm container never needs it)."""
    _clients.clear()
    _secrets.clear()


def setup_logging():
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.getLogger().setLevel(level if level in logging.getLevelNamesMapping() else "INFO")


def current_region():
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def client(service, region=None):
    """A boto3 client, created on first use and cached per (service, region)."""
    region = region or current_region()
    key = (service, region)
    if key not in _clients:
        import boto3  # deferred: importing the handlers must not need AWS
        from botocore.config import Config

        config = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=15)
        _clients[key] = boto3.client(service, region_name=region, config=config)
    return _clients[key]


def error_code(exc):
    """The AWS error code of a botocore ClientError (or the exception's class name)."""
    response = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code") or type(exc).__name__


def error_message(exc):
    response = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Message") or str(exc)


def env_flag(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    value = value.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    LOG.warning("environment variable %s=%r is not a boolean; using %s", name, value, default)
    return default


def env_int(name, default, minimum=None, maximum=None):
    """An integer from the environment; unset or invalid => default; clamped to [minimum, maximum]."""
    raw = os.environ.get(name)
    try:
        value = int(raw) if raw not in (None, "") else default
    except ValueError:
        LOG.warning("environment variable %s=%r is not an integer; using %s", name, raw, default)
        value = default
    if minimum is not None and value < minimum:
        value = minimum
    if maximum is not None and value > maximum:
        value = maximum
    return value


def lock_secret(parameter_name, refresh=False):
    """The HMAC secret: an SSM SecureString (GetParameter WithDecryption), cached per container for a few minutes.

    ``refresh=True`` bypasses the cache (the lock function retries once that way after a bad signature, in case
    the secret was rotated while this container kept the old one).
    """
    if not parameter_name:
        raise RuntimeError("LOCK_SECRET_PARAMETER is not set")
    cached = _secrets.get(parameter_name)
    now = time.monotonic()
    if cached and not refresh and now - cached[1] < SECRET_CACHE_SECONDS:
        return cached[0]
    response = client("ssm").get_parameter(Name=parameter_name, WithDecryption=True)
    secret = response["Parameter"]["Value"].encode("utf-8")
    _secrets[parameter_name] = (secret, now)
    return secret


def _state_item(key, expires_at, attributes):
    item = {STATE_KEY: {"S": key}, STATE_EXPIRES: {"N": str(int(expires_at))}}
    item.update({name: {"S": str(value)} for name, value in (attributes or {}).items()})
    return item


def claim(table, key, expires_at, attributes=None):
    """Create the item ``key`` unless it exists: True when this call created it, False when it was there already.

    One conditional PutItem (``attribute_not_exists``): DynamoDB checks the condition against the latest version
    of the item and writes in the same operation, so of several callers racing for one key exactly one wins.
    Other errors (throttling after the SDK's retries, AccessDenied) are raised: the caller decides.
    """
    from botocore.exceptions import ClientError

    try:
        client("dynamodb").put_item(
            TableName=table,
            Item=_state_item(key, expires_at, attributes),
            ConditionExpression="attribute_not_exists(#key)",
            ExpressionAttributeNames={"#key": STATE_KEY},
        )
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def release(table, key, owner_attribute, owner):
    """Delete ``key`` if ``owner_attribute`` still holds ``owner`` (the claim this caller made). True when deleted."""
    from botocore.exceptions import ClientError

    try:
        client("dynamodb").delete_item(
            TableName=table,
            Key={STATE_KEY: {"S": key}},
            ConditionExpression="#owner = :owner",
            ExpressionAttributeNames={"#owner": owner_attribute},
            ExpressionAttributeValues={":owner": {"S": str(owner)}},
        )
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def exists(table, key):
    """Whether the item ``key`` exists (a strongly consistent GetItem: a write just acknowledged is seen)."""
    response = client("dynamodb").get_item(
        TableName=table,
        Key={STATE_KEY: {"S": key}},
        ConsistentRead=True,
        ProjectionExpression="#key",
        ExpressionAttributeNames={"#key": STATE_KEY},
    )
    return "Item" in response


def remember(table, key, expires_at, attributes=None):
    """Write the item ``key`` (unconditionally: the same key twice is the same fact)."""
    client("dynamodb").put_item(TableName=table, Item=_state_item(key, expires_at, attributes))


def tag_value(text):
    """``text`` made acceptable as an S3 tag value (allowed characters only, at most 256 characters)."""
    return _TAG_VALUE_BAD.sub("_", str(text or ""))[:MAX_TAG_VALUE] or "-"


class TaggingError(Exception):
    def __init__(self, code, message):
        self.code = code
        super().__init__(message)


def merge_tags(existing, ours):
    """Return ``(merged, changed)``: ``existing`` with ``ours`` added or updated; no existing tag is dropped.

    Raises :class:`TaggingError` when the merged set cannot be written back without losing something: system tags
    (``aws:`` prefix, e.g. CloudFormation's) cannot be sent in PutBucketTagging, and S3 allows at most 50 tags.
    """
    system = sorted(k for k in existing if k.startswith("aws:"))
    if system:
        raise TaggingError(
            "SystemTags",
            f"the bucket carries system tags ({', '.join(system)}) that PutBucketTagging cannot rewrite; "
            "left untouched so that no tag is lost",
        )
    merged = dict(existing)
    merged.update(ours)
    if len(merged) > MAX_BUCKET_TAGS:
        raise TaggingError("TooManyTags", f"the bucket would have {len(merged)} tags; S3 allows {MAX_BUCKET_TAGS}")
    return merged, merged != existing


def get_bucket_tags(s3, bucket, expected_owner=None):
    """The bucket's tags as a dict; a bucket without tags (NoSuchTagSet) gives ``{}``."""
    from botocore.exceptions import ClientError

    kwargs = {"Bucket": bucket}
    if expected_owner:
        kwargs["ExpectedBucketOwner"] = expected_owner
    try:
        response = s3.get_bucket_tagging(**kwargs)
    except ClientError as exc:
        if error_code(exc) == "NoSuchTagSet":
            return {}
        raise
    return {t["Key"]: t["Value"] for t in response.get("TagSet", [])}


def add_bucket_tags(s3, bucket, ours, expected_owner=None):
    """Merge ``ours`` into the bucket's tags (Get, merge, Put). Returns True when the tags changed.

    Raises botocore's ClientError (e.g. NoSuchBucket, AccessDenied) or :class:`TaggingError`.
    """
    existing = get_bucket_tags(s3, bucket, expected_owner)
    merged, changed = merge_tags(existing, ours)
    if changed:
        kwargs = {"Bucket": bucket, "Tagging": {"TagSet": [{"Key": k, "Value": v} for k, v in sorted(merged.items())]}}
        if expected_owner:
            kwargs["ExpectedBucketOwner"] = expected_owner
        s3.put_bucket_tagging(**kwargs)
    return changed
