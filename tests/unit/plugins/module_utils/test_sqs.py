"""_sqs with botocore's Stubber: a queue deleted less than 60 s ago, the read, convergence of attributes and policy."""

import json

import pytest

from ansible_collections.trailwatch.aws.plugins.module_utils import _policies as _notifier_policies
from ansible_collections.trailwatch.aws.plugins.module_utils import _sqs

REGION = "us-east-1"
ACCOUNT = "123456789012"
NAME = "trailwatch-notifier-failed"
ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{NAME}"
URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{NAME}"
POLICY = _notifier_policies.failed_events_queue_policy(ARN)


@pytest.fixture
def sqs(stubbed):
    return stubbed("sqs")


@pytest.fixture
def deleted_recently_clock(monkeypatch, fake_clock):
    timeouts = []
    real = _sqs.retry_while

    def fake_retry_while(func, codes, timeout):
        timeouts.append((codes, timeout))
        return real(func, codes, timeout, sleep=fake_clock.sleep, clock=fake_clock)

    monkeypatch.setattr(_sqs, "retry_while", fake_retry_while)
    fake_clock.timeouts = timeouts
    return fake_clock


def test_a_queue_deleted_less_than_a_minute_ago_is_created_once_sqs_allows_it(sqs, deleted_recently_clock):
    """SQS refuses a queue of a name deleted in the last 60 s (QueueDeletedRecently): teardown, then deploy."""
    client, stub = sqs
    attributes = dict(_sqs.QUEUE_ATTRIBUTES, Policy=json.dumps(POLICY))
    message = "You must wait 60 seconds after deleting a queue before you can create another with the same name."
    for _attempt in range(3):
        stub.add_client_error("create_queue", "AWS.SimpleQueueService.QueueDeletedRecently", message, 400)
    stub.add_response("create_queue", {"QueueUrl": URL}, {"QueueName": NAME, "Attributes": attributes})
    _changed, after, parts = _sqs.ensure_queue_present(client, None, NAME, ARN, POLICY, {}, True, False)
    assert parts == ["created"] and after["url"] == URL
    assert deleted_recently_clock.timeouts == [(_sqs.DELETED_RECENTLY, _sqs.DELETED_RECENTLY_TIMEOUT)]
    assert _sqs.DELETED_RECENTLY_TIMEOUT > 60


def test_read_is_three_calls(sqs):
    client, stub = sqs
    stub.add_response("get_queue_url", {"QueueUrl": URL}, {"QueueName": NAME})
    stub.add_response(
        "get_queue_attributes",
        {
            "Attributes": {
                "QueueArn": ARN,
                "SqsManagedSseEnabled": "true",
                "MessageRetentionPeriod": "1209600",
                "ApproximateNumberOfMessages": "3",
                "Policy": json.dumps(POLICY),
            }
        },
        {"QueueUrl": URL, "AttributeNames": ["All"]},
    )
    stub.add_response("list_queue_tags", {"Tags": {"team": "security"}}, {"QueueUrl": URL})
    assert _sqs.read_queue(client, NAME) == {
        "name": NAME,
        "url": URL,
        "arn": ARN,
        "attributes": dict(_sqs.QUEUE_ATTRIBUTES),
        "policy": POLICY,
        "messages": 3,
        "tags": {"team": "security"},
    }


def test_a_missing_queue_reads_as_none(sqs):
    client, stub = sqs
    stub.add_client_error(
        "get_queue_url", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.", 400
    )
    assert _sqs.read_queue(client, NAME) is None


def current(**overrides):
    state = {
        "name": NAME,
        "url": URL,
        "arn": ARN,
        "attributes": dict(_sqs.QUEUE_ATTRIBUTES),
        "policy": POLICY,
        "messages": 0,
        "tags": {},
    }
    return dict(state, **overrides)


def test_a_converged_queue_makes_no_call(sqs):
    client, _stub = sqs
    assert _sqs.ensure_queue_present(client, current(), NAME, ARN, POLICY, {}, True, False) == (False, current(), [])


def test_drift_is_repaired_in_one_call(sqs):
    client, stub = sqs
    drifted = current(attributes={"SqsManagedSseEnabled": "false", "MessageRetentionPeriod": "345600"}, policy=None)
    stub.add_response(
        "set_queue_attributes",
        {},
        {"QueueUrl": URL, "Attributes": dict(_sqs.QUEUE_ATTRIBUTES, Policy=json.dumps(POLICY))},
    )
    _changed, after, parts = _sqs.ensure_queue_present(client, drifted, NAME, ARN, POLICY, {}, True, False)
    assert parts == ["attributes", "policy"] and after == current()


def test_the_queue_policy_denies_every_request_without_tls():
    assert POLICY == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TrailWatchDenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": ARN,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
