"""lock.handler against moto's in-process mock: GET vs POST, every refusal, single use (also under 20 concurrent
POSTs, and for buckets with 50 tags or aws: tags), Object Lock on moto (both outcomes)."""

import base64
import json
import threading
import urllib.parse

import boto3
import cloudtrail_samples as samples
import lock
import lock_token
import notifier_stand
import pytest
import trailwatch_common
from moto import mock_aws

SECRET = "another-long-random-secret-0123456789abcdef"
PARAMETER = "/trailwatch/lock-secret"
NOW = 1_714_560_000
CONTEXT = samples.LambdaContext(f"arn:aws:lambda:us-east-1:{samples.ACCOUNT}:function:trailwatch-lock")
HOST = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws"


def make(bucket, account=samples.ACCOUNT, lifetime=3600, region="us-east-1", secret=SECRET, issued_at=NOW):
    return lock_token.make_token(
        secret.encode(), account, bucket, issued_at + lifetime, issued_at=issued_at, region=region
    )


def url_event(method, token=None, form=None, base64_body=False, query_extra=None):
    """A function URL request, payload format 2.0, as Lambda builds it."""
    query = {"token": token} if token is not None else {}
    query.update(query_extra or {})
    body = urllib.parse.urlencode(form) if form is not None else None
    if body is not None and base64_body:
        body = base64.b64encode(body.encode()).decode()
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": urllib.parse.urlencode(query),
        "headers": {
            "host": HOST,
            "user-agent": "Mozilla/5.0",
            "x-forwarded-proto": "https",
            "accept": "text/html",
        },
        "requestContext": {
            "accountId": "anonymous",
            "apiId": HOST.split(".", maxsplit=1)[0],
            "domainName": HOST,
            "domainPrefix": HOST.split(".", maxsplit=1)[0],
            "http": {
                "method": method,
                "path": "/",
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "Mozilla/5.0",
            },
            "requestId": "a1b2c3d4-0000-4000-8000-000000000000",
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/May/2024:10:40:00 +0000",
            "timeEpoch": NOW * 1000,
        },
        "isBase64Encoded": bool(base64_body),
    }
    if query:
        event["queryStringParameters"] = query
    if body is not None:
        event["body"] = body
        event["headers"]["content-type"] = "application/x-www-form-urlencoded"
    return event


def get(token, context=CONTEXT, **kwargs):
    return lock.handler(url_event("GET", token, **kwargs), context)


def post(token, bucket=None, context=CONTEXT, **kwargs):
    form = {"token": token}
    if bucket:
        form["bucket"] = bucket
    return lock.handler(url_event("POST", form=form, **kwargs), context)


@pytest.fixture
def aws(monkeypatch):
    with mock_aws():
        boto3.client("ssm", region_name="us-east-1").put_parameter(Name=PARAMETER, Value=SECRET, Type="SecureString")
        monkeypatch.setenv("LOCK_SECRET_PARAMETER", PARAMETER)
        monkeypatch.setenv("STATE_TABLE", notifier_stand.create_state_table())
        monkeypatch.setenv("LOCK_MODE", "GOVERNANCE")
        monkeypatch.setenv("LOCK_DAYS", "30")
        monkeypatch.setattr(lock, "_now", lambda: NOW + 60)
        s3 = boto3.client("s3", region_name="us-east-1")
        for name in ("bucket-a", "bucket-b"):
            s3.create_bucket(Bucket=name)
        yield s3


def state(s3, bucket):
    """What the handler may change: versioning, Object Lock configuration, tags."""
    versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    try:
        config = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    except s3.exceptions.ClientError as exc:
        assert exc.response["Error"]["Code"] == "ObjectLockConfigurationNotFoundError"
        config = None
    try:
        tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    except s3.exceptions.ClientError:
        tags = {}
    return {"versioning": versioning, "lock": config, "tags": tags}


UNTOUCHED = {"versioning": None, "lock": None, "tags": {}}


def assert_html(response, status):
    assert response["statusCode"] == status, response["body"]
    headers = response["headers"]
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script" not in headers["Content-Security-Policy"]
    assert response["body"].startswith("<!DOCTYPE html>")
    assert "<script" not in response["body"]
    return response["body"]


# --------------------------------------------------------------------------------------------------- GET vs POST


def test_get_shows_a_confirmation_page_and_changes_nothing(aws):
    token = make("bucket-a")
    for _visit in range(2):  # mail scanners may open a link several times
        body = assert_html(get(token), 200)
        assert "Lock S3 bucket bucket-a?" in body
        assert "GOVERNANCE" in body and "30 days" in body
        assert '<form method="post"' in body
        assert f'<input type="hidden" name="token" value="{token}">' in body
        assert '<input type="hidden" name="bucket" value="bucket-a">' in body
    assert state(aws, "bucket-a") == UNTOUCHED


@pytest.mark.parametrize("base64_body", [False, True], ids=["plain-body", "base64-body"])
@pytest.mark.parametrize(("mode", "days"), [("GOVERNANCE", 30), ("COMPLIANCE", 365)])
def test_post_locks_an_empty_bucket(aws, monkeypatch, mode, days, base64_body):
    monkeypatch.setenv("LOCK_MODE", mode)
    monkeypatch.setenv("LOCK_DAYS", str(days))
    token = make("bucket-a")
    body = assert_html(post(token, "bucket-a", base64_body=base64_body), 200)
    assert "Bucket bucket-a is locked" in body
    assert "Versioning was enabled on the bucket." in body
    after = state(aws, "bucket-a")
    assert after["versioning"] == "Enabled"
    assert after["lock"]["ObjectLockEnabled"] == "Enabled"
    retention = after["lock"]["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"]) == (mode, days)
    assert after["tags"] == {}  # nothing is stored on the bucket
    assert state(aws, "bucket-b") == UNTOUCHED


def test_post_keeps_existing_tags_and_versioning(aws):
    aws.put_bucket_versioning(Bucket="bucket-a", VersioningConfiguration={"Status": "Enabled"})
    aws.put_bucket_tagging(Bucket="bucket-a", Tagging={"TagSet": [{"Key": "team", "Value": "data"}]})
    body = assert_html(post(make("bucket-a")), 200)
    assert "Versioning was already enabled." in body
    assert state(aws, "bucket-a")["tags"] == {"team": "data"}


def test_replayed_token_is_refused(aws):
    token = make("bucket-a")
    assert_html(post(token, "bucket-a"), 200)
    locked = state(aws, "bucket-a")
    aws.put_object_lock_configuration(  # someone changes the retention afterwards; a replay must not undo it
        Bucket="bucket-a",
        ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"},
    )
    changed = state(aws, "bucket-a")
    for response in (post(token, "bucket-a"), get(token)):
        body = assert_html(response, 409)
        assert "This link has already been used" in body and "Nothing was changed." in body
    assert state(aws, "bucket-a") == changed != locked


def used_item(token):
    """The state table's item of a token, or None."""
    claims = lock_token.verify_token(SECRET.encode(), token, samples.ACCOUNT, NOW)
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=notifier_stand.STATE_TABLE, Key={"id": {"S": f"token#{claims['token_id']}"}}, ConsistentRead=True
    )
    return item.get("Item"), claims


def test_a_used_token_is_kept_until_it_could_no_longer_be_accepted(aws):
    token = make("bucket-a")
    assert used_item(token)[0] is None
    assert_html(get(token), 200)
    assert used_item(token)[0] is None  # a GET never consumes a link
    assert_html(post(token), 200)
    item, claims = used_item(token)
    # TTL attribute: the token's expiry plus the clock skew the check tolerates
    assert int(item["expires_at"]["N"]) == claims["expires_at"] + lock_token.CLOCK_SKEW_SECONDS
    assert item["bucket"]["S"] == "bucket-a"
    assert item["claimed_by"]["S"] == CONTEXT.aws_request_id


def test_the_state_table_unusable_changes_nothing(aws, monkeypatch):
    monkeypatch.setenv("STATE_TABLE", "no-such-table")
    for response in (get(make("bucket-a")), post(make("bucket-a"))):
        body = assert_html(response, 502)
        assert "could not record the use of this link (ResourceNotFoundException" in body
        assert "Nothing was changed" in body
    assert state(aws, "bucket-a") == UNTOUCHED


def test_an_unreachable_state_table_changes_nothing(aws, monkeypatch):
    from botocore.exceptions import EndpointConnectionError

    def unreachable(*_args, **_kwargs):
        raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    monkeypatch.setattr(trailwatch_common, "claim", unreachable)
    body = assert_html(post(make("bucket-a")), 502)
    assert "could not record the use of this link (EndpointConnectionError" in body
    assert state(aws, "bucket-a") == UNTOUCHED


class _SerializedConditionalWrites:
    """DynamoDB checks a condition and writes in one operation ("Conditional writes", DynamoDB Developer Guide:
    checked against the most recently updated version of the item); moto 5.2.5 reads, then writes, so two threads
    can both pass. Test-side help: moto's PutItem and DeleteItem run one at a time, as DynamoDB applies them."""

    def __init__(self, monkeypatch):
        from moto.dynamodb.models.table import Table

        self.lock = threading.Lock()
        for name in ("put_item", "delete_item"):
            original = getattr(Table, name)
            monkeypatch.setattr(Table, name, self._serialized(original))

    def _serialized(self, original):
        def run(table, *args, **kwargs):
            with self.lock:
                return original(table, *args, **kwargs)

        return run


def test_twenty_concurrent_posts_of_one_token_lock_once(aws, monkeypatch):
    _SerializedConditionalWrites(monkeypatch)
    token = make("bucket-a")
    assert_html(get(token), 200)  # the user opens the link: clients and the secret are cached, as in a warm container
    lock_calls = []
    s3 = trailwatch_common.client("s3", "us-east-1")
    s3.meta.events.register("before-call.s3.PutObjectLockConfiguration", lambda **kwargs: lock_calls.append(1))
    start = threading.Barrier(20)
    responses = [None] * 20

    def click(index):
        context = samples.LambdaContext(CONTEXT.invoked_function_arn, request_id=f"request-{index:02d}")
        start.wait()
        responses[index] = post(token, "bucket-a", context=context)

    threads = [threading.Thread(target=click, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(r["statusCode"] for r in responses)
    assert statuses == [200] + [409] * 19, statuses
    (done,) = [r for r in responses if r["statusCode"] == 200]
    assert "Bucket bucket-a is locked" in done["body"]
    for refused in (r for r in responses if r["statusCode"] == 409):
        assert "This link has already been used" in refused["body"] and "Nothing was changed." in refused["body"]
    assert len(lock_calls) == 1  # exactly one request enabled Object Lock
    winner = used_item(token)[0]["claimed_by"]["S"]
    assert winner in {f"request-{i:02d}" for i in range(20)}
    retention = state(aws, "bucket-a")["lock"]["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"]) == ("GOVERNANCE", 30)


def _system_tagged(s3, bucket):
    """A bucket carrying aws: tags, as CloudFormation leaves them. S3 (and moto) refuse aws: keys in PutBucketTagging,
    so the tags go in through moto's backend (test-side setup only)."""
    from moto.s3.models import s3_backends

    s3.create_bucket(Bucket=bucket)
    s3_backends[samples.ACCOUNT]["aws"].put_bucket_tagging(
        bucket, {"aws:cloudformation:stack-name": "app", "aws:cloudformation:logical-id": "DataBucket"}
    )


def _fifty_tags(s3, bucket):
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_tagging(
        Bucket=bucket, Tagging={"TagSet": [{"Key": f"key-{i:02d}", "Value": str(i)} for i in range(50)]}
    )


@pytest.mark.parametrize("make_bucket", [_fifty_tags, _system_tagged], ids=["50-tags", "aws-tags"])
def test_buckets_whose_tags_cannot_change_are_protected_alike(aws, make_bucket):
    make_bucket(aws, "tagged-bucket")
    tags_before = state(aws, "tagged-bucket")["tags"]
    token = make("tagged-bucket")
    assert_html(post(token), 200)
    for replay in (post(token), get(token)):
        body = assert_html(replay, 409)
        assert "This link has already been used" in body
    after = state(aws, "tagged-bucket")
    assert after["tags"] == tags_before  # nothing written to the bucket's tags
    retention = after["lock"]["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"]) == ("GOVERNANCE", 30)


def test_a_failed_lock_gives_the_link_back(aws):
    """S3 refuses once (a 503 after the SDK's retries): the claim is released and the same link then works, once."""
    token = make("bucket-a")
    s3 = trailwatch_common.client("s3", "us-east-1")
    refusals = [notifier_stand.client_error("ServiceUnavailable", "Please reduce your request rate.", "x")]

    def refuse_once(**_kwargs):
        if refusals:
            raise refusals.pop()

    s3.meta.events.register("before-call.s3.PutObjectLockConfiguration", refuse_once)
    body = assert_html(post(token), 502)
    assert "could not be locked" in body and "ServiceUnavailable" in body
    assert "The link stays valid: open it again once the cause is fixed." in body
    assert used_item(token)[0] is None
    assert_html(post(token), 200)
    assert_html(post(token), 409)


def test_a_gone_bucket_keeps_its_link_used(aws):
    """A bucket created later under the same name is not the bucket the link was mailed for."""
    token = make("gone-bucket")
    body = assert_html(post(token), 404)
    assert "does not exist" in body and "stays valid" not in body
    aws.create_bucket(Bucket="gone-bucket")
    assert_html(post(token), 409)
    assert state(aws, "gone-bucket") == UNTOUCHED


# --------------------------------------------------------------------------------------------------- refusals


def _swap_bucket(token, bucket):
    payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["bkt"] = bucket
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{forged}.{signature}"


def _flip_signature(token):
    payload, signature = token.split(".")
    return f"{payload}.{('A' if signature[0] != 'A' else 'B')}{signature[1:]}"


def _too_long(bucket):
    claims = {"v": 1, "acct": samples.ACCOUNT, "bkt": bucket, "iat": NOW, "exp": NOW + 2 * 86400, "jti": "x" * 16}
    payload = lock_token._b64encode(json.dumps(claims).encode())
    return f"{payload}.{lock_token._sign(SECRET.encode(), payload)}"


REFUSALS = [
    pytest.param(lambda: _swap_bucket(make("bucket-a"), "bucket-b"), None, 403, "was altered", id="tampered-payload"),
    pytest.param(lambda: _flip_signature(make("bucket-a")), None, 403, "was altered", id="tampered-signature"),
    pytest.param(
        lambda: make("bucket-a", secret="a-different-secret-of-enough-length"), None, 403, "was altered", id="foreign"
    ),
    pytest.param(lambda: make("bucket-a", issued_at=NOW - 7200), None, 403, "has expired", id="expired"),
    pytest.param(lambda: _too_long("bucket-a"), None, 403, "over 24 hours", id="expiry-over-24h"),
    pytest.param(lambda: make("bucket-a"), "bucket-b", 403, "another bucket", id="other-bucket"),
    pytest.param(lambda: make("bucket-a", account="111111111111"), None, 403, "another AWS", id="other-account"),
    pytest.param(lambda: "", None, 400, "no token", id="missing"),
    pytest.param(lambda: "garbage", None, 400, "damaged", id="malformed"),
]


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(("token", "bucket", "status", "text"), REFUSALS)
def test_refused_tokens_change_nothing(aws, method, token, bucket, status, text):
    token = token()
    if method == "GET":
        response = get(token, query_extra={"bucket": bucket} if bucket else None)
    else:
        response = post(token, bucket)
    body = assert_html(response, status)
    assert "This link cannot be used" in body and text in body and "Nothing was changed." in body
    assert '<form method="post"' not in body
    assert state(aws, "bucket-a") == UNTOUCHED
    assert state(aws, "bucket-b") == UNTOUCHED


def test_token_of_this_account_refused_by_a_function_in_another_account(aws):
    other = samples.LambdaContext("arn:aws:lambda:us-east-1:111111111111:function:trailwatch-lock")
    body = assert_html(post(make("bucket-a"), context=other), 403)
    assert "another AWS account" in body
    assert state(aws, "bucket-a") == UNTOUCHED


def test_account_falls_back_to_sts(aws):
    class NoArn:
        pass

    assert_html(lock.handler(url_event("GET", make("bucket-a")), NoArn()), 200)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", ""])
def test_other_methods_are_not_allowed(aws, method):
    response = lock.handler(url_event(method, make("bucket-a")), CONTEXT)
    assert_html(response, 405)
    assert response["headers"]["Allow"] == "GET, POST"
    assert state(aws, "bucket-a") == UNTOUCHED


def test_nothing_of_the_request_is_reflected_unescaped(aws):
    body = assert_html(get('"><script>alert(1)</script>'), 400)
    assert "alert(1)" not in body


def test_page_escapes_every_value():
    response = lock.page(200, "<b>title</b>", ['x & "y" <img src=x>'], facts=[("<k>", "<v>")], form=None)
    body = response["body"]
    assert "<b>" not in body and "<img" not in body and "<k>" not in body
    assert "&lt;b&gt;title&lt;/b&gt;" in body and "&amp; &quot;y&quot;" in body


def test_bucket_gone(aws):
    body = assert_html(post(make("no-such-bucket")), 404)
    assert "does not exist" in body and "Nothing was changed." in body


@pytest.mark.parametrize(
    ("env", "value"),
    [
        ("LOCK_DAYS", None),
        ("LOCK_DAYS", "thirty"),
        ("LOCK_DAYS", "0"),
        ("LOCK_MODE", "LEGAL_HOLD"),
        ("STATE_TABLE", None),
    ],
)
def test_misconfiguration_gives_a_clear_page(aws, monkeypatch, env, value):
    if value is None:
        monkeypatch.delenv(env)
    else:
        monkeypatch.setenv(env, value)
    body = assert_html(post(make("bucket-a")), 500)
    assert "misconfigured" in body and env in body
    assert state(aws, "bucket-a") == UNTOUCHED


def test_unreadable_secret_gives_a_clear_page(aws, monkeypatch):
    monkeypatch.setenv("LOCK_SECRET_PARAMETER", "/trailwatch/missing")
    body = assert_html(get(make("bucket-a")), 500)
    assert "ParameterNotFound" in body


def test_rotated_secret_is_picked_up_after_a_bad_signature(aws):
    assert_html(get(make("bucket-a")), 200)  # caches the current secret
    new_secret = "rotated-secret-value-0123456789abcdefgh"
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name=PARAMETER, Value=new_secret, Type="SecureString", Overwrite=True
    )
    assert_html(get(make("bucket-a", secret=new_secret)), 200)
    assert_html(get(make("bucket-a")), 403)  # the old secret no longer signs valid links


def test_japanese_pages(aws, monkeypatch):
    monkeypatch.setenv("NOTIFY_LANGUAGE", "ja")
    body = assert_html(get(make("bucket-a")), 200)
    assert '<html lang="ja">' in body and "S3 バケット bucket-a をロックしますか?" in body
    body = assert_html(get(make("bucket-a", issued_at=NOW - 7200)), 403)
    assert "有効期限が切れています" in body and "何も変更していません" in body
    assert set(lock.TEXT["ja"]) == set(lock.TEXT["en"])


# ------------------------------------------------------------------------------------------- Object Lock on moto


def test_bucket_holding_objects_is_reported_and_nothing_else_changes(aws):
    """moto refuses Object Lock on a bucket holding objects (AWS allows it since 2023): the page must say so."""
    aws.put_bucket_versioning(Bucket="bucket-a", VersioningConfiguration={"Status": "Enabled"})
    aws.put_object(Bucket="bucket-a", Key="data.csv", Body=b"a,b\n")
    before = state(aws, "bucket-a")
    token = make("bucket-a")
    for _attempt in range(2):  # the token is given back after a failure: it can be retried once the cause is fixed
        body = assert_html(post(token), 409)
        assert "Bucket bucket-a could not be locked" in body
        assert "AWS refused to apply Object Lock to bucket bucket-a: InvalidBucket: Bucket needs to be empty" in body
        assert "Nothing was changed." in body
        assert state(aws, "bucket-a") == before
    assert before["lock"] is None


def test_unversioned_bucket_holding_objects_reports_the_versioning_it_enabled(aws):
    aws.put_object(Bucket="bucket-a", Key="data.csv", Body=b"a,b\n")
    body = assert_html(post(make("bucket-a")), 409)
    assert "could not be locked" in body
    assert "Versioning had been enabled on the bucket before the failure; it stays enabled." in body
    after = state(aws, "bucket-a")
    assert after == {"versioning": "Enabled", "lock": None, "tags": {}}


def test_existing_default_retention_is_never_replaced(aws):
    aws.create_bucket(Bucket="locked-bucket", ObjectLockEnabledForBucket=True)
    aws.put_object_lock_configuration(
        Bucket="locked-bucket",
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 400}},
        },
    )
    before = state(aws, "locked-bucket")
    for response in (get(make("locked-bucket")), post(make("locked-bucket"))):
        body = assert_html(response, 200)
        assert "already has Object Lock with a default retention of COMPLIANCE, 400 days" in body
        assert '<form method="post"' not in body
    assert state(aws, "locked-bucket") == before


def test_object_lock_enabled_without_rule_gets_the_default_retention(aws):
    aws.create_bucket(Bucket="lock-no-rule", ObjectLockEnabledForBucket=True)
    body = assert_html(get(make("lock-no-rule")), 200)
    assert "enabled, no default retention" in body
    assert_html(post(make("lock-no-rule")), 200)
    retention = state(aws, "lock-no-rule")["lock"]["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"]) == ("GOVERNANCE", 30)


def test_bucket_in_another_region(aws):
    eu = boto3.client("s3", region_name="eu-west-1")
    eu.create_bucket(Bucket="eu-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert_html(post(make("eu-bucket", region="eu-west-1")), 200)
    assert eu.get_object_lock_configuration(Bucket="eu-bucket")["ObjectLockConfiguration"]["ObjectLockEnabled"] == (
        "Enabled"
    )
