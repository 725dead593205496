"""No lost notification (issue 11, part 1): at-least-once delivery under injected publish failures.

The notifier's handler runs in-process against moto, invoked the way CloudWatch Logs invokes it: asynchronously,
through notifier_stand.AsyncInvoker, which follows the AWS Lambda Developer Guide ("How Lambda handles errors and
retries with asynchronous invocation", "Capturing records of Lambda asynchronous invocations"): an error is retried
MaximumRetryAttempts times with the same event, an event that fails every attempt goes to the on-failure destination
(the SQS queue) as an invocation record, and now and then the queue delivers a processed event once more. The
settings are the module's own (MAXIMUM_RETRY_ATTEMPTS, MAXIMUM_EVENT_AGE_SECONDS), the state table its own spec.

notifier_stand.PublishFaults makes 20% of the SNS Publish calls fail as they reach the handler (after the SDK's own
retries): throttling, 5xx, KMS throttling, no connection; one poison record's publish always fails.
"""

import json
import random
import uuid
from collections import Counter
from pathlib import Path

import cloudtrail_samples as samples
import notifier
import notifier_stand
import pytest
import trailwatch_common
from moto import mock_aws

from ansible_collections.trailwatch.aws.plugins.module_utils._policies import failed_events_queue_policy
from ansible_collections.trailwatch.aws.plugins.module_utils._sqs import QUEUE_ATTRIBUTES
from ansible_collections.trailwatch.aws.plugins.modules import notifier as notifier_module

REGION = "us-east-1"
SAMPLE_RECORDS = json.loads(
    (Path(__file__).resolve().parents[2] / "samples" / "cloudtrail" / "s3-bucket-created.json").read_text()
)
TEMPLATES = SAMPLE_RECORDS + [make() for make in samples.ALL_CREATE_BUCKET.values()]
BATCHES = 30
FAILURE_RATE = 0.2
POISON = "poison-bucket-0001"


def _batches(seed):
    """BATCHES subscription events of 1-6 CreateBucket records each (unique event IDs and bucket names), one of them
    carrying the poison record."""
    rng = random.Random(seed)
    batches = []
    count = 0
    for index in range(BATCHES):
        records = []
        for _record in range(rng.randint(1, 6)):
            record = json.loads(json.dumps(rng.choice(TEMPLATES)))
            count += 1
            record["eventID"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            record["requestParameters"]["bucketName"] = f"fault-test-{count:04d}"
            records.append(record)
        if index == BATCHES // 2:
            poison = json.loads(json.dumps(TEMPLATES[0]))
            poison["eventID"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            poison["requestParameters"]["bucketName"] = POISON
            records.insert(rng.randint(0, len(records)), poison)
        batches.append(records)
    return batches


def _event_ids(subscription_event):
    payload = notifier.decode_payload(subscription_event)
    return [json.loads(e["message"])["eventID"] for e in payload["logEvents"]]


@pytest.fixture
def stand(monkeypatch):
    with mock_aws():
        topic, sqs, subscriber = notifier_stand.topic_with_subscriber(REGION)
        # The failed-events queue as the module creates it.
        failed_arn = f"arn:aws:sqs:{REGION}:{samples.ACCOUNT}:trailwatch-notifier-failed"
        attributes = dict(QUEUE_ATTRIBUTES, Policy=json.dumps(failed_events_queue_policy(failed_arn)))
        failed = sqs.create_queue(QueueName="trailwatch-notifier-failed", Attributes=attributes)["QueueUrl"]
        monkeypatch.setenv("TOPIC_ARN", topic)
        monkeypatch.setenv("STATE_TABLE", notifier_stand.create_state_table())
        yield sqs, subscriber, failed


@pytest.mark.parametrize("seed, dedupe", [(11, True), (11, False)], ids=["with-state-table", "without-state-table"])
def test_no_create_bucket_record_is_lost_under_publish_failures(stand, monkeypatch, seed, dedupe):
    sqs, subscriber, failed_queue = stand
    if not dedupe:
        monkeypatch.delenv("STATE_TABLE")
    faults = notifier_stand.PublishFaults(FAILURE_RATE, seed, poison={POISON})
    faults.attach(trailwatch_common.client("sns", REGION))
    invoker = notifier_stand.AsyncInvoker(
        notifier.handler,
        failed_queue,
        notifier_module.MAXIMUM_RETRY_ATTEMPTS,
        notifier_module.MAXIMUM_EVENT_AGE_SECONDS,
        duplicate_rate=0.1,
        seed=seed,
    )
    batches = _batches(seed)
    events = [samples.subscription_event(records, seed=i) for i, records in enumerate(batches)]
    all_ids = [r["eventID"] for records in batches for r in records]
    poison_id = next(
        r["eventID"] for records in batches for r in records if r["requestParameters"]["bucketName"] == POISON
    )
    for event in events:
        invoker.invoke(event)

    published = Counter(m["MessageAttributes"]["event_id"]["Value"] for m in notifier_stand.received(sqs, subscriber))
    dead = notifier_stand.received(sqs, failed_queue)
    # What the failed-events queue keeps: every record of each batch that exhausted its attempts, and which failed.
    kept_ids = {i for record in dead for i in _event_ids(record["requestPayload"])}
    named_ids = {i for i in all_ids for record in dead if i in record["responsePayload"]["errorMessage"]}
    lost = [i for i in all_ids if not published[i] and i not in named_ids]
    duplicates = sum(n - 1 for n in published.values() if n > 1)
    figures = {
        "batches": len(batches),
        "records": len(all_ids),
        "publish_calls": faults.calls,
        "failures_injected": faults.injected,
        "invocations": invoker.invocations,
        "retries": invoker.retries,
        "duplicate_deliveries": invoker.duplicates_delivered,
        "batches_to_failed_events_queue": len(dead),
        "records_published": sum(1 for i in all_ids if published[i]),
        "records_lost": len(lost),
        "duplicate_messages": duplicates,
    }
    print(f"\nfault injection (seed {seed}, state table {'on' if dedupe else 'off'}): {json.dumps(figures)}")

    assert lost == []
    assert 0.1 < faults.injected / faults.calls < 0.4  # about a fifth of the publishes failed
    assert invoker.retries > 0 and invoker.duplicates_delivered > 0
    # The poison record failed every attempt: its batch is in the failed-events queue, as Lambda records it.
    assert not published[poison_id] and poison_id in named_ids
    poison_record = next(r for r in dead if poison_id in r["responsePayload"]["errorMessage"])
    assert poison_record["requestContext"]["condition"] == "RetriesExhausted"
    assert poison_record["requestContext"]["approximateInvokeCount"] == 1 + notifier_module.MAXIMUM_RETRY_ATTEMPTS
    assert poison_record["responsePayload"]["errorType"] == "NotificationsFailed"
    assert kept_ids >= named_ids
    # Every record is published, or named in a failed-events record that holds its batch.
    assert all(published[i] or i in named_ids for i in all_ids)
    if dedupe:
        assert duplicates == 0  # retries and repeated deliveries announced nothing twice
    else:
        assert duplicates > 0  # what the state table saves

    # Redrive: once the cause is fixed, each record of the queue is sent back to the function as it is.
    faults.enabled = False
    for record in dead:
        poisoned = poison_id in _event_ids(record["requestPayload"])
        try:
            notifier.handler(record, samples.LambdaContext())
        except notifier.NotificationsFailed:
            assert poisoned  # only the poison record can fail now
    faults.poison.clear()
    for record in dead:
        if poison_id in _event_ids(record["requestPayload"]):
            notifier.handler(record, samples.LambdaContext())
    published.update(m["MessageAttributes"]["event_id"]["Value"] for m in notifier_stand.received(sqs, subscriber))
    assert all(published[i] >= 1 for i in all_ids)
    if dedupe:
        assert all(published[i] == 1 for i in all_ids)
