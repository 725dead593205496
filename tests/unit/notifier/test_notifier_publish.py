"""notifier.handler against moto's in-process mock: SNS -> SQS delivery, auto-tagging, lock links."""

import json
import re
import urllib.parse

import boto3
import cloudtrail_samples as samples
import lock_token
import notifier
import notifier_stand
import pytest
import trailwatch_common
from moto import mock_aws

SECRET = "a-long-random-secret-from-ssm-0123456789"
PARAMETER = "/trailwatch/lock-secret"
LOCK_URL = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/"
CONTEXT = samples.LambdaContext()
BATCH = [
    samples.iam_user_with_mfa(),
    samples.assumed_role_no_mfa(),
    samples.root_user(),
    samples.failed_already_exists(),
    samples.cross_region(),
    samples.not_create_bucket(),
    samples.MALFORMED_MESSAGE,
    samples.lightsail_create_bucket(),
]


@pytest.fixture
def aws(monkeypatch):
    """A topic with an SQS queue subscribed (raw message delivery off, the default), TOPIC_ARN set."""
    with mock_aws():
        topic, sqs, queue = notifier_stand.topic_with_subscriber()
        monkeypatch.setenv("TOPIC_ARN", topic)
        monkeypatch.setenv("STATE_TABLE", notifier_stand.create_state_table())

        class Stand:
            pass

        stand = Stand()
        stand.topic, stand.queue, stand.sqs = topic, queue, sqs
        stand.s3 = boto3.client("s3", region_name="us-east-1")
        stand.ssm = boto3.client("ssm", region_name="us-east-1")
        stand.messages = lambda: receive_all(sqs, queue)
        yield stand


def receive_all(sqs, queue):
    """Every SNS envelope in the queue, keyed by the bucket message attribute."""
    found = {}
    for envelope in notifier_stand.received(sqs, queue):
        assert envelope["Type"] == "Notification"
        bucket = envelope["MessageAttributes"]["bucket"]["Value"]
        assert bucket not in found, "one message per record"
        found[bucket] = envelope
    return found


def body_fields(text):
    """``label: value`` lines of a body as a dict (labels stripped of padding)."""
    fields = {}
    for line in text.splitlines():
        match = re.match(r"^([^-\s][^:]*?):\s+(\S.*)$", line)
        if match and not line.startswith("http"):
            fields[match.group(1).strip()] = match.group(2)
    return fields


EXPECTED_SUBJECTS = {
    "alice-reports-2024": "[TrailWatch] New S3 bucket: alice-reports-2024 (us-east-1)",
    "etl-staging-bucket": "[TrailWatch] New S3 bucket: etl-staging-bucket (ap-northeast-1)",
    "root-made-this": "[TrailWatch] New S3 bucket: root-made-this (us-east-1)",
    "my-bucket": "[TrailWatch] FAILED CreateBucket: my-bucket (BucketAlreadyExists)",
    "eu-analytics-landing": "[TrailWatch] New S3 bucket: eu-analytics-landing (eu-west-1)",
    "lightsail-bucket": "[TrailWatch] New Lightsail bucket: lightsail-bucket (us-east-1)",
}

EXPECTED_FIELDS = {
    "en": {
        "alice-reports-2024": {
            "Bucket": "alice-reports-2024",
            "Bucket region": "us-east-1",
            "Result": "succeeded",
            "Principal ARN": "arn:aws:iam::123456789012:user/alice",
            "Identity type": "IAMUser",
            "User / role name": "alice",
            "Access key ID": "ASIAEXAMPLEALICE0001",
            "Account": "123456789012",
            "Time (UTC)": "2024-05-01T09:15:42Z",
            "Source IP": "203.0.113.10",
            "MFA used": "yes",
            "CloudTrail event ID": "6f1c7a2e-1b2c-4d3e-9f40-0a1b2c3d4e5f",
        },
        "etl-staging-bucket": {
            "Bucket region": "ap-northeast-1",
            "Identity type": "AssumedRole",
            "User / role name": "AWSReservedSSO_DataEngineer_0123456789abcdef",
            "Role session name": "bob@example.com",
            "Principal ARN": (
                "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_DataEngineer_0123456789abcdef/bob@example.com"
            ),
            "MFA used": "no",
            "Event region": "ap-northeast-1",
        },
        "root-made-this": {"Identity type": "Root", "User / role name": "root user", "MFA used": "yes"},
        "my-bucket": {
            "Result": "FAILED (the bucket was not created)",
            "Error": (
                "BucketAlreadyExists - The requested bucket name is not available. The bucket namespace is shared "
                "by all users of the system. Please select a different name and try again."
            ),
            "User / role name": "ci-deployer",
            "Access key ID": "AKIAEXAMPLECIDEPLOY1",
            "MFA used": "no",
        },
        "eu-analytics-landing": {
            "Bucket region": "eu-west-1",
            "Event region": "eu-west-1",
            "User / role name": "carol",
        },
        "lightsail-bucket": {
            "Bucket": "lightsail-bucket",
            "Bucket type": "Lightsail bucket",
            "Created through": "lightsail.amazonaws.com",
            "User / role name": "alice",
        },
    },
    "ja": {
        "alice-reports-2024": {
            "バケット名": "alice-reports-2024",
            "バケットのリージョン": "us-east-1",
            "結果": "成功",
            "実行者 (プリンシパル ARN)": "arn:aws:iam::123456789012:user/alice",
            "ID の種類": "IAM ユーザー (IAMUser)",
            "ユーザー名 / ロール名": "alice",
            "アクセスキー ID": "ASIAEXAMPLEALICE0001",
            "アカウント": "123456789012",
            "日時 (UTC)": "2024-05-01T09:15:42Z",
            "送信元 IP アドレス": "203.0.113.10",
            "MFA の使用": "あり",
        },
        "etl-staging-bucket": {"ロールセッション名": "bob@example.com", "MFA の使用": "なし"},
        "root-made-this": {"ID の種類": "ルートユーザー (Root)", "ユーザー名 / ロール名": "ルートユーザー"},
        "my-bucket": {"結果": "失敗 (バケットは作成されていません)", "MFA の使用": "なし"},
        "eu-analytics-landing": {"バケットのリージョン": "eu-west-1", "イベントのリージョン": "eu-west-1"},
        "lightsail-bucket": {"バケットの種類": "Lightsail バケット", "作成経路": "lightsail.amazonaws.com"},
    },
}


@pytest.mark.parametrize("language", ["en", "ja"])
def test_one_message_per_create_bucket_record(aws, monkeypatch, language):
    monkeypatch.setenv("NOTIFY_LANGUAGE", language)
    summary = notifier.handler(samples.subscription_event(BATCH), CONTEXT)
    # 6 CreateBucket records (Lightsail's too: the default watch counts it); skipped: PutBucketTagging, the cut-off line
    assert summary == {"published": 6, "skipped": 2, "failed": 0, "duplicates": 0}

    messages = aws.messages()
    assert set(messages) == set(EXPECTED_SUBJECTS)
    for bucket, envelope in messages.items():
        assert envelope["Subject"] == EXPECTED_SUBJECTS[bucket]
        assert envelope["TopicArn"] == aws.topic
        fields = body_fields(envelope["Message"])
        for label, value in EXPECTED_FIELDS[language][bucket].items():
            assert fields.get(label) == value, (bucket, label, fields)
        attributes = {k: v["Value"] for k, v in envelope["MessageAttributes"].items()}
        assert attributes["outcome"] == ("failed" if bucket == "my-bucket" else "succeeded")
        assert attributes["trailwatch_event"] == "CreateBucket"
        assert attributes["account"] == "123456789012"
        assert attributes["event_id"] == body_fields(envelope["Message"]).get(
            "CloudTrail event ID", attributes["event_id"]
        )
        assert attributes["bucket_type"] == ("lightsail" if bucket == "lightsail-bucket" else "general_purpose")
        event_region = "eu-west-1" if bucket == "eu-analytics-landing" else None
        if bucket == "etl-staging-bucket":
            event_region = "ap-northeast-1"
        event_region = event_region or "us-east-1"
        assert (
            f"https://{event_region}.console.aws.amazon.com/cloudtrail/home?region={event_region}#/events/"
            in (envelope["Message"])
        )
        if bucket not in ("my-bucket", "lightsail-bucket"):
            region = attributes["bucket_region"]
            assert f"https://s3.console.aws.amazon.com/s3/buckets/{bucket}?region={region}" in envelope["Message"]
        if bucket == "lightsail-bucket":
            assert "s3.console.aws.amazon.com" not in envelope["Message"]  # not a bucket of the account's S3
        if language == "ja":
            assert envelope["Message"].splitlines()[0] in (
                notifier.LABELS["ja"]["intro_ok"],
                notifier.LABELS["ja"]["intro_ok_lightsail"],
                notifier.LABELS["ja"]["intro_failed"],
            )


NOTHING = {"published": 0, "skipped": 0, "failed": 0, "duplicates": 0}


def test_control_message_does_nothing(aws):
    assert notifier.handler(samples.control_message_event(), CONTEXT) == NOTHING
    assert aws.messages() == {}


@pytest.mark.parametrize(
    "event",
    [{"awslogs": {"data": "garbage"}}, {"source": "aws.events"}, samples.encode({"messageType": "DATA_MESSAGE"})],
    ids=["undecodable", "not-a-logs-event", "no-log-events"],
)
def test_an_undecodable_payload_is_raised_so_that_it_is_kept(aws, event):
    """Retrying cannot help, but an error sends the event to the on-failure destination, where a person sees it."""
    with pytest.raises(notifier.PayloadError):
        notifier.handler(event, CONTEXT)
    assert aws.messages() == {}


def test_malformed_records_do_not_lose_the_good_ones(aws):
    broken = samples.root_user()
    del broken["requestParameters"]["bucketName"]
    batch = [
        samples.MALFORMED_MESSAGE,
        samples.iam_user_with_mfa(),
        "not json at all",
        broken,
        json.dumps([1, 2]),
        samples.cross_region(),
        "",
    ]
    expected = {"published": 2, "skipped": 5, "failed": 0, "duplicates": 0}
    assert notifier.handler(samples.subscription_event(batch), CONTEXT) == expected
    assert set(aws.messages()) == {"alice-reports-2024", "eu-analytics-landing"}


def test_a_failed_publish_ends_the_batch_in_an_error_after_the_others_went_out(aws, monkeypatch):
    real_publish = notifier.publish
    outage = {"on": True}

    def flaky(settings, subject, body, attributes):
        if outage["on"] and attributes["bucket"]["StringValue"] == "root-made-this":
            raise RuntimeError("simulated SNS outage")
        return real_publish(settings, subject, body, attributes)

    monkeypatch.setattr(notifier, "publish", flaky)
    event = samples.subscription_event([samples.iam_user_with_mfa(), samples.root_user(), samples.cross_region()])
    with pytest.raises(notifier.NotificationsFailed, match=r"1 of 3 CreateBucket records not published \(CloudTrail"):
        notifier.handler(event, CONTEXT)
    assert set(aws.messages()) == {"alice-reports-2024", "eu-analytics-landing"}
    # Lambda retries the same event: only the record that failed goes out, the others are not announced twice.
    outage["on"] = False
    assert notifier.handler(event, CONTEXT) == {"published": 1, "skipped": 0, "failed": 0, "duplicates": 2}
    assert set(aws.messages()) == {"root-made-this"}


def test_a_missing_topic_is_an_error(aws, monkeypatch):
    monkeypatch.setenv("TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:does-not-exist")
    batch = [samples.iam_user_with_mfa(), samples.not_create_bucket()]
    with pytest.raises(notifier.NotificationsFailed, match="6f1c7a2e-1b2c-4d3e-9f40-0a1b2c3d4e5f"):
        notifier.handler(samples.subscription_event(batch), CONTEXT)


def test_a_second_delivery_of_the_same_event_announces_nothing_twice(aws):
    """Lambda's asynchronous queue may deliver an event twice even after a success."""
    event = samples.subscription_event([samples.iam_user_with_mfa(), samples.root_user()])
    assert notifier.handler(event, CONTEXT)["published"] == 2
    assert notifier.handler(event, CONTEXT) == {"published": 0, "skipped": 0, "failed": 0, "duplicates": 2}
    assert set(aws.messages()) == {"alice-reports-2024", "root-made-this"}
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=notifier_stand.STATE_TABLE, Key={"id": {"S": "event#6f1c7a2e-1b2c-4d3e-9f40-0a1b2c3d4e5f"}}
    )["Item"]
    assert int(item["expires_at"]["N"]) > 1_714_560_000 + 6 * 3600  # outlives Lambda's longest retry window


def test_an_unreadable_state_table_costs_a_duplicate_never_a_message(aws, monkeypatch):
    monkeypatch.setenv("STATE_TABLE", "no-such-table")
    event = samples.subscription_event([samples.iam_user_with_mfa()])
    assert notifier.handler(event, CONTEXT)["published"] == 1
    assert set(aws.messages()) == {"alice-reports-2024"}
    assert notifier.handler(event, CONTEXT)["published"] == 1  # could not remember it: announced again
    assert set(aws.messages()) == {"alice-reports-2024"}


def test_a_redriven_invocation_record_is_processed(aws):
    """The failed-events queue holds Lambda's invocation record; sent back to the function as is, it is processed."""
    event = samples.subscription_event([samples.cross_region()])
    record = {"version": "1.0", "requestContext": {"condition": "RetriesExhausted"}, "requestPayload": event}
    assert notifier.handler(record, CONTEXT)["published"] == 1
    assert set(aws.messages()) == {"eu-analytics-landing"}


# --------------------------------------------------------------------------------------------------- tagging


def tags_of(s3, bucket):
    try:
        return {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    except s3.exceptions.ClientError as exc:
        assert exc.response["Error"]["Code"] == "NoSuchTagSet"
        return {}


def test_auto_tagging_keeps_existing_tags(aws, monkeypatch):
    monkeypatch.setenv("TAG_NEW_BUCKETS", "true")
    aws.s3.create_bucket(Bucket="alice-reports-2024")
    aws.s3.put_bucket_tagging(
        Bucket="alice-reports-2024",
        Tagging={"TagSet": [{"Key": "team", "Value": "finance"}, {"Key": "cost-center", "Value": "4711"}]},
    )
    eu = boto3.client("s3", region_name="eu-west-1")
    eu.create_bucket(Bucket="eu-analytics-landing", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    aws.s3.create_bucket(Bucket="root-made-this")

    batch = [samples.iam_user_with_mfa(), samples.cross_region(), samples.root_user(), samples.failed_already_exists()]
    assert notifier.handler(samples.subscription_event(batch), CONTEXT)["published"] == 4

    assert tags_of(aws.s3, "alice-reports-2024") == {
        "team": "finance",
        "cost-center": "4711",
        "trailwatch:created-by": "arn:aws:iam::123456789012:user/alice",
        "trailwatch:created-at": "2024-05-01T09:15:42Z",
    }
    assert tags_of(eu, "eu-analytics-landing") == {
        "trailwatch:created-by": "arn:aws:iam::123456789012:user/carol",
        "trailwatch:created-at": "2024-05-01T13:45:10Z",
    }
    assert tags_of(aws.s3, "root-made-this")["trailwatch:created-by"] == "arn:aws:iam::123456789012:root"
    messages = aws.messages()
    fields = body_fields(messages["alice-reports-2024"]["Message"])
    assert fields["Auto-tagging"] == "added trailwatch:created-at, trailwatch:created-by"
    assert "Auto-tagging" not in body_fields(messages["my-bucket"]["Message"])  # failed attempt: nothing to tag

    # a second CreateBucket of the same bucket (a client retrying its call: another event) adds nothing
    again = dict(samples.iam_user_with_mfa(), eventID="6f1c7a2e-1b2c-4d3e-9f40-0a1b2c3d4e60")
    notifier.handler(samples.subscription_event([again]), CONTEXT)
    assert body_fields(aws.messages()["alice-reports-2024"]["Message"])["Auto-tagging"] == "tags were already present"
    assert len(tags_of(aws.s3, "alice-reports-2024")) == 4


@pytest.mark.parametrize("language", ["en", "ja"])
def test_auto_tagging_reports_a_bucket_already_gone(aws, monkeypatch, language):
    monkeypatch.setenv("TAG_NEW_BUCKETS", "true")
    monkeypatch.setenv("NOTIFY_LANGUAGE", language)
    summary = notifier.handler(samples.subscription_event([samples.iam_user_with_mfa()]), CONTEXT)
    assert summary == {"published": 1, "skipped": 0, "failed": 0, "duplicates": 0}
    label = notifier.LABELS[language]
    fields = body_fields(aws.messages()["alice-reports-2024"]["Message"])
    assert fields[label["tagging"]] == label["tag_gone"]


def test_auto_tagging_leaves_buckets_with_system_tags_alone(aws, monkeypatch):
    """moto refuses aws: keys in PutBucketTagging like S3 does, so such a bucket is set up through the fake."""
    monkeypatch.setenv("TAG_NEW_BUCKETS", "true")
    aws.s3.create_bucket(Bucket="alice-reports-2024")
    monkeypatch.setattr(
        trailwatch_common,
        "get_bucket_tags",
        lambda s3, bucket, expected_owner=None: {"aws:cloudformation:stack-name": "app"},
    )
    notifier.handler(samples.subscription_event([samples.iam_user_with_mfa()]), CONTEXT)
    text = body_fields(aws.messages()["alice-reports-2024"]["Message"])["Auto-tagging"]
    assert text.startswith("not tagged: the bucket carries system tags (aws:cloudformation:stack-name)")
    assert tags_of(aws.s3, "alice-reports-2024") == {}


def test_buckets_of_other_accounts_are_neither_tagged_nor_offered_a_lock(aws, monkeypatch):
    monkeypatch.setenv("TAG_NEW_BUCKETS", "true")
    monkeypatch.setenv("LOCK_LINK", "true")
    monkeypatch.setenv("LOCK_URL", LOCK_URL)
    monkeypatch.setenv("LOCK_SECRET_PARAMETER", PARAMETER)
    record = samples.iam_user_with_mfa()
    record["recipientAccountId"] = samples.OTHER_ACCOUNT  # an organization trail delivers member accounts' events
    notifier.handler(samples.subscription_event([record]), CONTEXT)
    message = aws.messages()["alice-reports-2024"]["Message"]
    assert "skipped: the bucket belongs to account 111111111111" in message
    assert "token=" not in message


# --------------------------------------------------------------------------------------------------- lock link


@pytest.fixture
def lock_env(aws, monkeypatch):
    aws.ssm.put_parameter(Name=PARAMETER, Value=SECRET, Type="SecureString")
    monkeypatch.setenv("LOCK_LINK", "true")
    monkeypatch.setenv("LOCK_URL", LOCK_URL)
    monkeypatch.setenv("LOCK_SECRET_PARAMETER", PARAMETER)
    monkeypatch.setattr(notifier, "_now", lambda: 1_714_560_000)
    return aws


def lock_link_of(message):
    match = re.search(r"^  (https://\S+\?token=(\S+))$", message, re.MULTILINE)
    return (match.group(1), match.group(2)) if match else (None, None)


@pytest.mark.parametrize(("ttl", "lifetime"), [(None, 86400), ("3600", 3600), ("999999", 86400), ("5", 60)])
def test_lock_link_carries_a_token_bound_to_account_bucket_and_expiry(lock_env, monkeypatch, ttl, lifetime):
    if ttl:
        monkeypatch.setenv("LOCK_LINK_TTL_SECONDS", ttl)
    batch = [samples.cross_region(), samples.failed_already_exists()]
    assert notifier.handler(samples.subscription_event(batch), CONTEXT)["published"] == 2
    messages = lock_env.messages()
    url, token = lock_link_of(messages["eu-analytics-landing"]["Message"])
    assert url.startswith(LOCK_URL + "?token=")
    assert urllib.parse.quote(token, safe="") == token  # needs no escaping in a URL
    claims = lock_token.verify_token(SECRET.encode(), token, samples.ACCOUNT, 1_714_560_000)
    assert claims["bucket"] == "eu-analytics-landing"
    assert claims["account"] == samples.ACCOUNT
    assert claims["region"] == "eu-west-1"
    assert claims["expires_at"] - claims["issued_at"] == lifetime
    assert lock_link_of(messages["my-bucket"]["Message"]) == (None, None)  # no lock offered for a failed attempt


def test_lock_secret_is_cached_per_container(lock_env):
    notifier.handler(samples.subscription_event([samples.root_user()]), CONTEXT)
    lock_env.ssm.delete_parameter(Name=PARAMETER)
    notifier.handler(samples.subscription_event([samples.iam_user_with_mfa()]), CONTEXT)
    messages = lock_env.messages()
    assert all(lock_link_of(m["Message"])[1] for m in messages.values())


@pytest.mark.parametrize("language", ["en", "ja"])
def test_message_still_goes_out_when_the_secret_is_unreadable(aws, monkeypatch, language):
    monkeypatch.setenv("NOTIFY_LANGUAGE", language)
    monkeypatch.setenv("LOCK_LINK", "true")
    monkeypatch.setenv("LOCK_URL", LOCK_URL)
    monkeypatch.setenv("LOCK_SECRET_PARAMETER", "/trailwatch/missing")
    assert notifier.handler(samples.subscription_event([samples.root_user()]), CONTEXT)["published"] == 1
    message = aws.messages()["root-made-this"]["Message"]
    assert "token=" not in message
    assert notifier.LABELS[language]["lock_unavailable"].format(error="ParameterNotFound") in message


def test_link_from_the_notification_locks_the_bucket(lock_env, monkeypatch):
    """The whole chain in-process: CreateBucket record -> SNS -> SQS -> link -> lock page GET -> POST."""
    import lock

    monkeypatch.setenv("LOCK_DAYS", "7")
    monkeypatch.setattr(lock, "_now", lambda: 1_714_560_000 + 300)
    eu = boto3.client("s3", region_name="eu-west-1")
    eu.create_bucket(Bucket="eu-analytics-landing", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    notifier.handler(samples.subscription_event([samples.cross_region()]), CONTEXT)
    url, token = lock_link_of(lock_env.messages()["eu-analytics-landing"]["Message"])
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    lock_context = samples.LambdaContext("arn:aws:lambda:us-east-1:123456789012:function:trailwatch-lock")

    def request(method, body=None):
        event = {"requestContext": {"http": {"method": method}}, "queryStringParameters": query}
        if body:
            event["body"] = body
        return lock.handler(event, lock_context)

    page = request("GET")
    assert page["statusCode"] == 200 and "Lock S3 bucket eu-analytics-landing?" in page["body"]
    with pytest.raises(eu.exceptions.ClientError):
        eu.get_object_lock_configuration(Bucket="eu-analytics-landing")
    done = request("POST", urllib.parse.urlencode({"token": token, "bucket": "eu-analytics-landing"}))
    assert done["statusCode"] == 200, done["body"]
    retention = eu.get_object_lock_configuration(Bucket="eu-analytics-landing")["ObjectLockConfiguration"]["Rule"]
    assert (retention["DefaultRetention"]["Mode"], retention["DefaultRetention"]["Days"]) == ("GOVERNANCE", 7)
