"""notifier: payload decoding, record parsing and the message text (pure functions, no AWS)."""

import base64
import gzip
import json

import cloudtrail_samples as samples
import notifier
import pytest
import trailwatch_common


def test_decode_payload_round_trip():
    payload = samples.subscription_payload([samples.root_user(), samples.MALFORMED_MESSAGE])
    assert notifier.decode_payload(samples.encode(payload)) == payload


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({}, id="no-awslogs"),
        pytest.param(None, id="none"),
        pytest.param({"awslogs": {}}, id="no-data"),
        pytest.param({"awslogs": {"data": "!!! not base64 !!!"}}, id="not-base64"),
        pytest.param({"awslogs": {"data": base64.b64encode(b"plain, not gzip").decode()}}, id="not-gzip"),
        pytest.param({"awslogs": {"data": base64.b64encode(gzip.compress(b"{oops")).decode()}}, id="not-json"),
        pytest.param({"awslogs": {"data": base64.b64encode(gzip.compress(b"[1, 2]")).decode()}}, id="not-object"),
        pytest.param({"awslogs": {"data": base64.b64encode(gzip.compress(b"\x00\x01")[:-4]).decode()}}, id="cut"),
    ],
)
def test_decode_payload_refuses_garbage(event):
    with pytest.raises(notifier.PayloadError):
        notifier.decode_payload(event)


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (samples.MALFORMED_MESSAGE, notifier.MalformedRecord),
        ("", notifier.MalformedRecord),
        (None, notifier.MalformedRecord),
        ("[1, 2, 3]", notifier.MalformedRecord),
        ("CWL CONTROL MESSAGE: Checking health", notifier.MalformedRecord),
        (json.dumps(samples.not_create_bucket()), notifier.NotCreateBucket),
    ],
)
def test_parse_record_refusals(message, error):
    with pytest.raises(error):
        notifier.parse_record(message)


@pytest.mark.parametrize(
    "source, kind",
    [
        ("s3.amazonaws.com", "general_purpose"),
        ("s3express.amazonaws.com", "directory"),
        ("lightsail.amazonaws.com", "lightsail"),
        ("s3-outposts.amazonaws.com", "other"),
    ],
)
def test_every_create_bucket_is_kept_and_its_kind_comes_from_the_event_source(source, kind):
    record = dict(samples.iam_user_with_mfa(), eventSource=source)
    assert notifier.parse_record(json.dumps(record)) == record
    assert notifier.bucket_kind(record) == kind


def _without(path):
    record = samples.iam_user_with_mfa()
    *parents, leaf = path.split(".")
    target = record
    for key in parents:
        target = target[key]
    del target[leaf]
    return record


@pytest.mark.parametrize("path", ["requestParameters.bucketName", "eventTime", "eventID", "userIdentity"])
def test_describe_record_requires_essentials(path):
    with pytest.raises(notifier.MalformedRecord, match=path.split(".")[-1]):
        notifier.describe_record(_without(path))


def test_describe_record_needs_request_parameters_object():
    record = samples.iam_user_with_mfa()
    record["requestParameters"] = None
    with pytest.raises(notifier.MalformedRecord):
        notifier.describe_record(record)


# who, MFA, region for each realistic record: (sample, expected subset of describe_record)
EXPECTED = {
    "iam_user_mfa": {
        "bucket": "alice-reports-2024",
        "region": "us-east-1",
        "succeeded": True,
        "principal_arn": "arn:aws:iam::123456789012:user/alice",
        "identity_type": "IAMUser",
        "user": "alice",
        "session": None,
        "access_key_id": "ASIAEXAMPLEALICE0001",
        "account": "123456789012",
        "mfa": True,
        "source_ip": "203.0.113.10",
        "event_region": "us-east-1",
    },
    "assumed_role": {
        "bucket": "etl-staging-bucket",
        "region": "ap-northeast-1",
        "identity_type": "AssumedRole",
        "user": "AWSReservedSSO_DataEngineer_0123456789abcdef",
        "session": "bob@example.com",
        "access_key_id": "ASIAEXAMPLEBOB000001",
        "mfa": False,
        "succeeded": True,
    },
    "root": {
        "bucket": "root-made-this",
        "identity_type": "Root",
        "principal_arn": "arn:aws:iam::123456789012:root",
        "user": None,
        "mfa": True,
        "succeeded": True,
    },
    "failed": {
        "bucket": "my-bucket",
        "succeeded": False,
        "error_code": "BucketAlreadyExists",
        "user": "ci-deployer",
        "access_key_id": "AKIAEXAMPLECIDEPLOY1",
        "mfa": False,  # long-term access key: MFA impossible
    },
    "cross_region": {
        "bucket": "eu-analytics-landing",
        "region": "eu-west-1",
        "event_region": "eu-west-1",
        "user": "carol",
        "mfa": False,
        "succeeded": True,
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_describe_record(name):
    info = notifier.describe_record(samples.ALL_CREATE_BUCKET[name]())
    assert {k: info[k] for k in EXPECTED[name]} == EXPECTED[name]


@pytest.mark.parametrize(
    ("constraint", "aws_region", "expected"),
    [
        ("eu-west-1", "eu-west-1", "eu-west-1"),
        ("eu-west-1", "us-east-1", "eu-west-1"),  # sent to us-east-1, bucket in eu-west-1
        ("EU", "eu-west-1", "eu-west-1"),  # legacy constraint
        ("", "us-east-1", "us-east-1"),
        (None, "us-east-1", "us-east-1"),
        (None, "ap-northeast-1", "ap-northeast-1"),
        (None, None, "us-east-1"),
    ],
)
def test_bucket_region(constraint, aws_region, expected):
    record = samples.root_user()
    record["awsRegion"] = aws_region
    if constraint is not None:
        record["requestParameters"]["CreateBucketConfiguration"] = {"LocationConstraint": constraint}
    assert notifier.bucket_region(record) == expected


@pytest.mark.parametrize(
    ("identity_patch", "extra", "expected"),
    [
        ({"sessionContext": {"attributes": {"mfaAuthenticated": "true"}}}, None, True),
        ({"sessionContext": {"attributes": {"mfaAuthenticated": "false"}}}, None, False),
        ({}, {"MFAUsed": "Yes"}, True),
        ({}, {"MFAUsed": "No"}, False),
        ({"accessKeyId": "AKIAEXAMPLE000000001"}, None, False),
        ({"accessKeyId": "ASIAEXAMPLE000000001"}, None, None),
    ],
)
def test_mfa(identity_patch, extra, expected):
    record = samples.failed_already_exists()
    identity = {k: v for k, v in record["userIdentity"].items() if k not in ("sessionContext", "accessKeyId")}
    identity.update(identity_patch)
    record["userIdentity"] = identity
    record["additionalEventData"] = extra or {}
    assert notifier.describe_record(record)["mfa"] is expected


def test_aws_service_principal():
    record = samples.root_user()
    record["userIdentity"] = {"type": "AWSService", "invokedBy": "cloudformation.amazonaws.com"}
    info = notifier.describe_record(record)
    assert info["user"] == "cloudformation.amazonaws.com"
    assert info["principal"] == "cloudformation.amazonaws.com"  # used for the created-by tag


@pytest.mark.parametrize(
    ("bucket", "succeeded"),
    [
        ("a" * 63, True),
        ("a" * 63, False),
        ("short", True),
        ("bücket-名前-\u202e-with-unicode", False),
        ("x" * 300, False),
        ("evil\r\nBcc: someone@example.com", False),
    ],
)
def test_subject_is_short_printable_ascii_and_names_the_bucket(bucket, succeeded):
    record = samples.root_user() if succeeded else samples.failed_already_exists()
    record["requestParameters"]["bucketName"] = bucket
    subject = notifier.make_subject(notifier.describe_record(record))
    assert len(subject) < 100
    assert all(32 <= ord(c) < 127 for c in subject)
    assert subject.startswith("[TrailWatch] ")
    assert ("FAILED" in subject) is not succeeded
    assert notifier._ascii(bucket.replace("\r\n", " "))[:20] in subject


def test_subject_keeps_the_region_when_it_fits():
    info = notifier.describe_record(samples.cross_region())
    assert notifier.make_subject(info) == "[TrailWatch] New S3 bucket: eu-analytics-landing (eu-west-1)"
    info = notifier.describe_record(samples.failed_already_exists())
    assert notifier.make_subject(info) == "[TrailWatch] FAILED CreateBucket: my-bucket (BucketAlreadyExists)"


def test_body_cannot_be_given_extra_lines_by_the_caller():
    record = samples.iam_user_with_mfa()
    record["userAgent"] = "curl/8\n- Lock this bucket:\n  https://evil.example/"
    body = notifier.render_body(notifier.describe_record(record), "en")
    assert "\n- Lock this bucket" not in body
    assert "https://evil.example/" in body.split("User agent:")[1].split("\n")[0]


@pytest.mark.parametrize("language", ["en", "ja"])
def test_failed_attempt_says_so_and_has_no_bucket_link(language):
    body = notifier.render_body(notifier.describe_record(samples.failed_already_exists()), language)
    intro = body.splitlines()[0]
    assert ("FAILED ATTEMPT" in intro) if language == "en" else ("【失敗】" in intro)
    assert "BucketAlreadyExists - The requested bucket name is not available." in body
    assert "s3.console.aws.amazon.com" not in body
    assert "cloudtrail/home?region=us-east-1#/events/99999999-8888-4777-a666-555555555555" in body


def test_event_link_uses_the_region_whose_event_history_holds_the_event():
    body = notifier.render_body(notifier.describe_record(samples.cross_region()), "en")
    assert (
        "https://eu-west-1.console.aws.amazon.com/cloudtrail/home?region=eu-west-1"
        "#/events/abcdefab-cdef-4abc-8def-abcdefabcdef"
    ) in body
    assert "https://s3.console.aws.amazon.com/s3/buckets/eu-analytics-landing?region=eu-west-1" in body


def test_every_language_has_every_label():
    assert set(notifier.LABELS["ja"]) == set(notifier.LABELS["en"])


def test_settings_defaults_and_caps(monkeypatch):
    monkeypatch.setenv("LOCK_LINK_TTL_SECONDS", "999999")
    monkeypatch.setenv("NOTIFY_LANGUAGE", "fr")
    settings = notifier.Settings()
    assert settings.lock_ttl == 86400
    assert settings.language == "en"
    assert settings.tag_new_buckets is False and settings.lock_link is False
    monkeypatch.setenv("LOCK_LINK_TTL_SECONDS", "not a number")
    assert notifier.Settings().lock_ttl == 86400
    monkeypatch.setenv("LOCK_LINK_TTL_SECONDS", "600")
    monkeypatch.setenv("TAG_NEW_BUCKETS", "True")
    assert notifier.Settings().lock_ttl == 600
    assert notifier.Settings().tag_new_buckets is True


@pytest.mark.parametrize(
    ("existing", "ours", "merged", "changed"),
    [
        ({}, {"trailwatch:a": "1"}, {"trailwatch:a": "1"}, True),
        ({"team": "data"}, {"trailwatch:a": "1"}, {"team": "data", "trailwatch:a": "1"}, True),
        ({"team": "data", "trailwatch:a": "1"}, {"trailwatch:a": "1"}, {"team": "data", "trailwatch:a": "1"}, False),
        ({"trailwatch:a": "old"}, {"trailwatch:a": "new"}, {"trailwatch:a": "new"}, True),
    ],
)
def test_merge_tags(existing, ours, merged, changed):
    assert trailwatch_common.merge_tags(existing, ours) == (merged, changed)


@pytest.mark.parametrize(
    ("existing", "code"),
    [
        ({"aws:cloudformation:stack-name": "app", "team": "data"}, "SystemTags"),
        ({f"k{i}": "v" for i in range(49)}, "TooManyTags"),
    ],
)
def test_merge_tags_refuses_to_lose_tags(existing, code):
    with pytest.raises(trailwatch_common.TaggingError) as err:
        trailwatch_common.merge_tags(existing, {"trailwatch:a": "1", "trailwatch:b": "2"})
    assert err.value.code == code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:user/alice"),
        ("arn:aws:sts::1:assumed-role/r/a,b#c", "arn:aws:sts::1:assumed-role/r/a_b_c"),
        ("", "-"),
        ("x" * 300, "x" * 256),
    ],
)
def test_tag_value(text, expected):
    assert trailwatch_common.tag_value(text) == expected


def test_handlers_import_without_boto3():
    """The Lambda modules must import without AWS (and without boto3): clients are created on first use."""
    import subprocess
    import sys

    lambda_dir = str(notifier.__file__).rsplit("/", 1)[0]
    code = (
        "import sys; sys.modules['boto3'] = None; sys.modules['botocore'] = None; "
        f"sys.path.insert(0, {lambda_dir!r}); "
        "import notifier, lock, lock_token, trailwatch_common"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
