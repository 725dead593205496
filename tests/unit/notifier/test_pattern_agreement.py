"""The watch and the notifier agree on what counts as "a bucket was created" (issue 12, item 3).

Every realistic CloudTrail record under tests/samples/cloudtrail/ (every watch's samples and the unmatched ones) goes
through the filter-pattern evaluator with the default watch's pattern (what the alarm counts) and with the notifier's
subscription filter pattern (what reaches the function), and through the notifier's parsing (what it announces). The
three answers must be the same for every record; the announced ones are then published end to end.
"""

import json
from pathlib import Path

import boto3
import cloudtrail_samples as samples
import notifier
import notifier_stand
import pytest
import yaml
from moto import mock_aws

from ansible_collections.trailwatch.aws.plugins.module_utils._filter_pattern import matches
from ansible_collections.trailwatch.aws.plugins.module_utils._filter_pattern import parse
from ansible_collections.trailwatch.aws.plugins.modules import notifier as notifier_module

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "tests" / "samples" / "cloudtrail"
PRESETS = yaml.safe_load((REPO / "roles" / "alerts" / "vars" / "main.yml").read_text())["trailwatch__presets"]
(DEFAULT_WATCH,) = PRESETS["s3_bucket_created"]
WATCH = parse(DEFAULT_WATCH["pattern"])
SUBSCRIPTION = parse(notifier_module.DEFAULT_PATTERN)

RECORDS = [
    pytest.param(
        json.dumps(record), id=f"{path.stem}[{index}]-{record['eventSource'].split('.')[0]}-{record['eventName']}"
    )
    for path in sorted(SAMPLES.glob("*.json"))
    for index, record in enumerate(json.loads(path.read_text()))
]


def announced(message):
    """What the notifier makes of one log event: None (skipped) or the facts of its message."""
    try:
        return notifier.describe_record(notifier.parse_record(message))
    except (notifier.NotCreateBucket, notifier.MalformedRecord):
        return None


def test_the_subscription_filter_is_the_default_watch():
    assert notifier_module.DEFAULT_PATTERN == DEFAULT_WATCH["pattern"] == '{ ($.eventName = "CreateBucket") }'


@pytest.mark.parametrize("message", RECORDS)
def test_watch_subscription_filter_and_notifier_agree_on_every_sample_record(message):
    counted = matches(WATCH, message)
    delivered = matches(SUBSCRIPTION, message)
    assert counted == delivered == (announced(message) is not None)


def test_the_samples_hold_every_kind_of_bucket_the_watch_counts():
    kinds = {announced(p.values[0])["kind"] for p in RECORDS if announced(p.values[0])}
    assert kinds == {"general_purpose", "directory", "lightsail"}
    assert len(RECORDS) > 40  # every watch's samples and the unmatched ones take part


@pytest.fixture
def topic(monkeypatch):
    with mock_aws():
        arn, sqs, url = notifier_stand.topic_with_subscriber()
        monkeypatch.setenv("TOPIC_ARN", arn)
        monkeypatch.setenv("STATE_TABLE", notifier_stand.create_state_table())
        monkeypatch.setenv("TAG_NEW_BUCKETS", "true")
        monkeypatch.setenv("LOCK_LINK", "true")
        monkeypatch.setenv("LOCK_URL", "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/")
        monkeypatch.setenv("LOCK_SECRET_PARAMETER", "/trailwatch/lock-link-secret")
        boto3.client("ssm", region_name="us-east-1").put_parameter(
            Name="/trailwatch/lock-link-secret", Value="x" * 48, Type="SecureString"
        )
        yield sqs, url


def _messages(sqs, url):
    return {m["MessageAttributes"]["event_id"]["Value"]: m for m in notifier_stand.received(sqs, url)}


def test_every_record_the_watch_counts_gets_its_message(topic):
    sqs, url = topic
    everything = [p.values[0] for p in RECORDS]
    counted = {json.loads(m)["eventID"]: json.loads(m) for m in everything if matches(WATCH, m)}
    # The subscription filter delivers only what it matches; the handler gets exactly those.
    delivered = [m for m in everything if matches(SUBSCRIPTION, m)]
    summary = notifier.handler(samples.subscription_event(delivered), samples.LambdaContext())
    assert summary == {"published": len(counted), "skipped": 0, "failed": 0, "duplicates": 0}
    messages = _messages(sqs, url)
    assert set(messages) == set(counted)
    by_source = {record["eventSource"]: messages[event_id] for event_id, record in counted.items()}

    directory = by_source["s3express.amazonaws.com"]
    assert directory["Subject"] == "[TrailWatch] New S3 bucket: training-shards--usw2-az1--x-s3 (us-west-2)"
    body = directory["Message"]
    assert body.startswith("A new S3 directory bucket (S3 Express One Zone) was created.")
    assert "Availability Zone:   usw2-az1" in body and "Created through:     s3express.amazonaws.com" in body
    assert (
        "https://s3.console.aws.amazon.com/s3/buckets/training-shards--usw2-az1--x-s3?region=us-west-2"
        "&bucketType=directory" in body
    )
    assert "Auto-tagging:        not tagged: auto-tagging covers general purpose S3 buckets only" in body
    assert "No lock link: S3 Object Lock applies to general purpose S3 buckets only" in body and "token=" not in body

    lightsail = by_source["lightsail.amazonaws.com"]
    assert lightsail["Subject"] == "[TrailWatch] New Lightsail bucket: dana-portfolio-assets (eu-west-2)"
    body = lightsail["Message"]
    assert body.startswith("A new Lightsail bucket was created (through Amazon Lightsail, not the S3 API).")
    assert "Created through:     lightsail.amazonaws.com" in body and "s3.console.aws.amazon.com" not in body
    assert "token=" not in body
    attributes = {k: v["Value"] for k, v in lightsail["MessageAttributes"].items()}
    assert (attributes["bucket_type"], attributes["event_source"]) == ("lightsail", "lightsail.amazonaws.com")

    general = by_source["s3.amazonaws.com"]
    assert general["Subject"].startswith("[TrailWatch] New S3 bucket: ")
    assert "Created through" not in general["Message"] and "Bucket type" not in general["Message"]


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_failed_lightsail_create_bucket_and_another_service_name_their_service(language):
    settings_labels = notifier.LABELS[language]
    failed = dict(samples.iam_user_with_mfa(), eventSource="lightsail.amazonaws.com", errorCode="InvalidInputException")
    info = notifier.describe_record(failed)
    assert (
        notifier.make_subject(info)
        == "[TrailWatch] FAILED Lightsail CreateBucket: alice-reports-2024 (InvalidInputException)"
    )
    assert notifier.render_body(info, language).splitlines()[0] == settings_labels["intro_failed_lightsail"]
    other = notifier.describe_record(dict(samples.iam_user_with_mfa(), eventSource="s3-outposts.amazonaws.com"))
    assert notifier.make_subject(other) == "[TrailWatch] New s3-outposts bucket: alice-reports-2024 (us-east-1)"
    first = notifier.render_body(other, language).splitlines()[0]
    assert first == settings_labels["intro_ok_other"].format(service="s3-outposts.amazonaws.com")
