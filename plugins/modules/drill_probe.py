#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: drill_probe
short_description: The moving parts of the TrailWatch drill, a canary bucket and a temporary queue on the topic
version_added: 0.2.0
description:
  - Used by C(playbooks/drill.yml) to prove the live chain, CreateBucket, CloudTrail, CloudWatch Logs, metric
    filter, alarm, SNS topic (and the detail notifier when deployed), on a real account.
  - O(action=start) checks that the topic and the alarm exist (changing nothing when they do not), creates a
    temporary SQS queue that only the topic may send to, subscribes it to the topic, and then creates the canary
    bucket. It returns the bucket's creation time as the S3 endpoint's clock tells it.
  - O(action=wait) waits, at most O(timeout_seconds), for the alarm to enter ALARM after the bucket was created, for
    the alarm's message to arrive in the queue and, when the notifier function exists, for the notifier's message
    naming the canary bucket. It returns the measured latencies, or fails naming what did not arrive.
  - O(action=cleanup) removes the queue's subscriptions to the topic, the queue and the canary bucket (with any
    object versions in it). Each part may already be gone; cleanup never fails because of that.
  - All times come from AWS (the bucket's C(CreationDate) in C(ListBuckets), the alarm's
    C(StateTransitionedTimestamp), the alarm message's C(StateChangeTime), SQS's C(SentTimestamp)), so the control
    node's clock does not matter. C(StateUpdatedTimestamp) is not used, it also moves without a state transition.
  - The canary bucket is created and removed with the collection's S3 wrappers (the log bucket's), so emptying it
    checks DeleteObjects' per-object errors. O(action=cleanup) attempts every part even when one fails, and fails
    at the end naming each part it could not remove.
author:
  - TrailWatch contributors (@trailwatch)
options:
  action:
    description: Which step of the drill to take.
    type: str
    choices: [start, wait, cleanup]
    required: true
  topic_name:
    description: The TrailWatch SNS topic in this account and region. Either this or O(topic_arn).
    type: str
  topic_arn:
    description:
      - The topic the alarm notifies, when it is not O(topic_name) in this account and region (C(trailwatch_topic_arn)).
      - A topic in another account is refused before anything is created; SNS delivers from it to this account's
        queue only once the subscription is confirmed, which the drill cannot prove on its own.
    type: str
  queue_name:
    description: Name of the temporary SQS queue.
    type: str
    required: true
  bucket_name:
    description: Name of the canary bucket.
    type: str
    required: true
  alarm_name:
    description: The alarm of the CreateBucket watch. Required with O(action=start) and O(action=wait).
    type: str
  notifier_function_name:
    description:
      - The notifier function. When it exists, O(action=wait) also waits for its message naming the canary bucket.
    type: str
  created_at:
    description: With O(action=wait), the canary bucket's creation time (epoch seconds) that O(action=start) returned.
    type: float
  timeout_seconds:
    description: With O(action=wait), how long to wait at most.
    type: int
    default: 1200
  poll_seconds:
    description: With O(action=wait), the longest a single wait for messages lasts (SQS long polling, at most 20).
    type: int
    default: 20
  ok_wait_seconds:
    description:
      - With O(action=start), how long to wait at most for an alarm that is in ALARM (another event a moment ago) to
        return to OK before the canary is created. An alarm already in ALARM makes no transition, so it would send
        no message. Still in ALARM after this, the drill fails and creates nothing.
    type: int
    default: 300
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    description:
      - O(action=start) checks the topic, the alarm and the notifier and returns RV(would_create) without creating
        anything or waiting for the alarm; O(action=wait) has nothing to wait for when start created nothing;
        O(action=cleanup) reads what is left and returns it in RV(removed) without deleting.
    support: full
  diff_mode:
    description: No diff.
    support: none
"""

EXAMPLES = r"""
- name: Canary bucket is created, with a queue listening on the topic
  trailwatch.aws.drill_probe:
    action: start
    topic_name: trailwatch-alerts
    queue_name: trailwatch-drill-x1y2z3
    bucket_name: trailwatch-canary-x1y2z3
    alarm_name: trailwatch-s3-bucket-created
    notifier_function_name: trailwatch-notifier
  register: drill

- name: Alarm and messages arrive
  trailwatch.aws.drill_probe:
    action: wait
    topic_name: trailwatch-alerts
    queue_name: trailwatch-drill-x1y2z3
    bucket_name: trailwatch-canary-x1y2z3
    alarm_name: trailwatch-s3-bucket-created
    notifier_function_name: trailwatch-notifier
    created_at: "{{ drill.created_at }}"
    timeout_seconds: 1200

- name: Canary bucket, queue and subscription are gone
  trailwatch.aws.drill_probe:
    action: cleanup
    topic_name: trailwatch-alerts
    queue_name: trailwatch-drill-x1y2z3
    bucket_name: trailwatch-canary-x1y2z3
"""

RETURN = r"""
would_create:
  description: In check mode, with O(action=start), what a real run would create.
  returned: check mode, action=start
  type: list
  elements: str
  sample: ["queue trailwatch-drill-x1y2z3", "its subscription to the topic", "bucket trailwatch-canary-x1y2z3"]
alarm_state:
  description: In check mode, with O(action=start), the alarm's current state (a real run waits for OK first).
  returned: check mode, action=start
  type: str
  sample: OK
created_at:
  description: With O(action=start), when the canary bucket was created (epoch seconds, S3's clock).
  returned: action=start
  type: float
created_at_iso:
  description: The same time, ISO 8601 in UTC.
  returned: action=start
  type: str
  sample: "2025-11-28T11:30:02Z"
queue_arn:
  description: The temporary queue.
  returned: action=start
  type: str
subscription_arn:
  description: The queue's subscription to the topic.
  returned: action=start
  type: str
notifier_expected:
  description: Whether the notifier function exists, so that its message is waited for too.
  returned: action=start or action=wait
  type: bool
latencies:
  description:
    - Seconds from the bucket's creation to C(alarm_state) (the alarm entered ALARM), C(alarm_message) (its message
      reached the queue) and C(notifier_message) (the notifier's message reached the queue); null for what did not
      happen (or is not expected).
  returned: action=wait
  type: dict
report:
  description: The latencies as lines to print.
  returned: action=wait
  type: list
  elements: str
removed:
  description: With O(action=cleanup), what was removed (in check mode, what would be removed).
  returned: action=cleanup
  type: list
  elements: str
"""

import json
import time
from datetime import datetime
from datetime import timezone

try:
    import botocore
except ImportError:
    pass  # handled by TrailWatchModule (AnsibleAWSModule)

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.trailwatch.aws.plugins.module_utils._run import TrailWatchModule
from ansible_collections.trailwatch.aws.plugins.module_utils._run import run_module

from ansible_collections.trailwatch.aws.plugins.module_utils._common import TrailWatchError
from ansible_collections.trailwatch.aws.plugins.module_utils._common import aws_errors
from ansible_collections.trailwatch.aws.plugins.module_utils._common import caller_identity
from ansible_collections.trailwatch.aws.plugins.module_utils._common import retry
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import topic_arn
from ansible_collections.trailwatch.aws.plugins.module_utils._run import UsageError
from ansible_collections.trailwatch.aws.plugins.module_utils._s3 import create_bucket
from ansible_collections.trailwatch.aws.plugins.module_utils._s3 import delete_bucket
from ansible_collections.trailwatch.aws.plugins.module_utils._s3 import empty_bucket

HINT = (
    "CloudTrail delivers events to CloudWatch Logs about 5 to 15 minutes after the call: raise "
    "trailwatch_drill_timeout_seconds if the chain is merely slow. Otherwise check that the trail is logging to the "
    "log group, that the metric filter and the alarm exist, and that the alarm's action is the topic."
)


def _fmt(seconds):
    if seconds is None:
        return "not seen"
    seconds = max(0, int(round(seconds)))
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest:02d} s ({seconds} s)" if minutes else f"{rest} s"


def _iso(epoch):
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(value):
    """A datetime (boto3), an ISO string (alarm messages: 2025-11-28T11:30:02.123+0000) or None -> epoch seconds."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(value, fmt).timestamp()
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class DrillFailed(UsageError):
    """A step that cannot go on: the message says why and what to do; ``extra`` goes into the module's result."""

    def __init__(self, msg, **extra):
        super().__init__(msg)
        self.extra = extra


class _Drill:
    """The three steps; each returns the module's result or raises DrillFailed. In check mode a step reads what it
    would act on and returns what it would do, and writes nothing."""

    def __init__(self, module):
        self.module = module
        self.check = module.check_mode
        self.p = module.params
        self.region = module.region
        self.clients = {}
        self.account, self.partition = caller_identity(self.client("sts"))
        self.topic_arn = self.p["topic_arn"] or topic_arn(
            self.partition, self.region, self.account, self.p["topic_name"]
        )
        self.topic_name = self.topic_arn.rsplit(":", 1)[-1]
        self.queue_arn = f"arn:{self.partition}:sqs:{self.region}:{self.account}:{self.p['queue_name']}"

    def client(self, name):
        if name not in self.clients:
            self.clients[name] = self.module.client(name, retry_decorator=retry())
        return self.clients[name]

    # --- reads ---------------------------------------------------------------------------------------------------

    def sns(self):
        """SNS where the topic lives (trailwatch_topic_arn may name another region)."""
        region = self.topic_arn.split(":")[3]
        key = f"sns:{region}"
        if key not in self.clients:
            self.clients[key] = self.module.client("sns", region=region, retry_decorator=retry())
        return self.clients[key]

    def topic_exists(self):
        try:
            self.sns().get_topic_attributes(TopicArn=self.topic_arn, aws_retry=True)
            return True
        except is_boto3_error_code("NotFound"):
            return False

    def alarm(self):
        alarms = self.client("cloudwatch").describe_alarms(AlarmNames=[self.p["alarm_name"]], aws_retry=True)
        return (alarms.get("MetricAlarms") or [None])[0]

    def notifier_exists(self):
        name = self.p["notifier_function_name"]
        if not name:
            return False
        try:
            self.client("lambda").get_function(FunctionName=name, aws_retry=True)
            return True
        except is_boto3_error_code("ResourceNotFoundException"):
            return False

    def queue_url(self):
        try:
            return self.client("sqs").get_queue_url(QueueName=self.p["queue_name"], aws_retry=True)["QueueUrl"]
        except is_boto3_error_code(["AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"]):
            return None

    # --- start ---------------------------------------------------------------------------------------------------

    def _wait_for_ok(self, alarm):
        """An alarm in ALARM makes no transition when the canary's event comes: wait (bounded) for it to leave ALARM."""
        p = self.p
        deadline = time.monotonic() + p["ok_wait_seconds"]
        while alarm.get("StateValue") == "ALARM":
            if time.monotonic() >= deadline:
                since = alarm.get("StateTransitionedTimestamp")
                since = _iso(_epoch(since)) if since else "a while"
                raise DrillFailed(
                    f"alarm {p['alarm_name']} has been in ALARM since {since} "
                    f"and did not return to OK within {p['ok_wait_seconds']} s: an alarm already in ALARM makes no "
                    "transition, so the canary could prove nothing. Run the drill again once it is OK (with missing "
                    "data notBreaching it returns to OK a period after the last event); the drill created nothing"
                )
            time.sleep(min(p["poll_seconds"], max(1.0, deadline - time.monotonic())))
            alarm = self.alarm() or {}
        return alarm

    def start(self):
        p = self.p
        topic_account = self.topic_arn.split(":")[4]
        if topic_account != self.account:
            raise DrillFailed(
                f"topic {self.topic_arn} is in account {topic_account}, the drill runs in {self.account}: SNS "
                "delivers from a topic in another account to this account's queue only once the subscription is "
                "confirmed by the topic's side, so the drill cannot prove that path; run playbooks/doctor.yml for the "
                "chain and ask the topic's owner to confirm delivery; the drill created nothing"
            )
        if not self.topic_exists():
            raise DrillFailed(
                f"topic {self.topic_arn} does not exist: deploy TrailWatch first "
                "(playbooks/site.yml) or set trailwatch_topic_arn; the drill created nothing"
            )
        alarm = self.alarm()
        if alarm is None:
            raise DrillFailed(
                f"alarm {p['alarm_name']} does not exist in {self.region}: deploy TrailWatch first "
                "(playbooks/site.yml) or set trailwatch_drill_alarm_name; the drill created nothing"
            )
        notifier = self.notifier_exists()
        if self.check:
            return {
                "changed": True,
                "would_create": [
                    f"queue {p['queue_name']}",
                    "its subscription to the topic",
                    f"bucket {p['bucket_name']}",
                ],
                "alarm_state": alarm.get("StateValue"),
                "notifier_expected": notifier,
            }
        self._wait_for_ok(alarm)
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "TrailWatchDrillTopicOnly",
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": self.queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": self.topic_arn}},
                }
            ],
        }
        sqs = self.client("sqs")
        queue_url = sqs.create_queue(
            QueueName=p["queue_name"],
            Attributes={
                "Policy": json.dumps(policy),
                "SqsManagedSseEnabled": "true",
                "MessageRetentionPeriod": "7200",
            },
            aws_retry=True,
        )["QueueUrl"]
        subscription = self.sns().subscribe(
            TopicArn=self.topic_arn, Protocol="sqs", Endpoint=self.queue_arn, ReturnSubscriptionArn=True, aws_retry=True
        )["SubscriptionArn"]
        before = time.time()
        create_bucket(self.client("s3"), p["bucket_name"], self.region)
        created_at = self._creation_time(p["bucket_name"]) or before
        return {
            "changed": True,
            "created_at": created_at,
            "created_at_iso": _iso(created_at),
            "queue_url": queue_url,
            "queue_arn": self.queue_arn,
            "subscription_arn": subscription,
            "notifier_expected": notifier,
        }

    def _creation_time(self, bucket):
        """The bucket's CreationDate as S3 reports it (AWS's clock), epoch seconds; None if not listed."""
        for found in self.client("s3").list_buckets(aws_retry=True).get("Buckets", []):
            if found["Name"] == bucket:
                return _epoch(found.get("CreationDate"))
        return None

    # --- wait ----------------------------------------------------------------------------------------------------

    def _messages(self, queue_url, wait):
        response = self.client("sqs").receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=max(0, min(20, int(wait))),
            AttributeNames=["SentTimestamp"],
            aws_retry=True,
        )
        return response.get("Messages", [])

    def _classify(self, message, created_at, seen):
        """Updates ``seen`` from one queued SNS notification."""
        try:
            envelope = json.loads(message["Body"])
        except (TypeError, ValueError):
            return
        sent = int(message.get("Attributes", {}).get("SentTimestamp", 0)) / 1000.0 or None
        attributes = {k: v.get("Value") for k, v in (envelope.get("MessageAttributes") or {}).items()}
        if attributes.get("trailwatch_event") == "CreateBucket" and attributes.get("bucket") == self.p["bucket_name"]:
            seen.setdefault("notifier_message", sent)
            return
        try:
            alarm = json.loads(envelope.get("Message") or "")
        except (TypeError, ValueError):
            return
        if not isinstance(alarm, dict) or alarm.get("AlarmName") != self.p["alarm_name"]:
            return
        changed_at = _epoch(alarm.get("StateChangeTime"))
        if alarm.get("NewStateValue") == "ALARM" and (changed_at is None or changed_at >= created_at - 1):
            seen.setdefault("alarm_message", sent)
            if changed_at is not None:
                seen.setdefault("alarm_state", changed_at)

    def wait(self):
        p = self.p
        created_at = p["created_at"]
        notifier = self.notifier_exists()
        queue_url = self.queue_url()
        if queue_url is None and self.check:
            return {
                "changed": False,
                "msg": "check mode: the start step created nothing, so there is nothing to wait for",
            }
        if queue_url is None:
            raise DrillFailed(f"queue {p['queue_name']} does not exist: run the drill's start step first")
        wanted = ["alarm_state", "alarm_message"] + (["notifier_message"] if notifier else [])
        seen = {}
        deadline = time.monotonic() + p["timeout_seconds"]
        while True:
            if "alarm_state" not in seen:
                alarm = self.alarm() or {}
                # A transition into ALARM, not an update: StateUpdatedTimestamp also moves when only the reason
                # changes (CloudWatch API Reference, MetricAlarm).
                moved = _epoch(alarm.get("StateTransitionedTimestamp"))
                if alarm.get("StateValue") == "ALARM" and moved is not None and moved >= created_at - 1:
                    seen["alarm_state"] = moved
            if all(k in seen for k in wanted):
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            for message in self._messages(queue_url, min(p["poll_seconds"], remaining)):
                self._classify(message, created_at, seen)

        latencies = {k: (seen[k] - created_at if seen.get(k) is not None else None) for k in _LABELS}
        if not notifier:
            latencies["notifier_message"] = None
        report = _report(p, created_at, latencies, notifier)
        missing = [k for k in wanted if k not in seen]
        if missing:
            arrived = [f"{_SEEN[k].format(**p)} after {_fmt(latencies[k])}" for k in wanted if k in seen]
            raise DrillFailed(
                f"TrailWatch drill timed out after {p['timeout_seconds']} s: "
                + "; ".join(_MISSING[k].format(**p) for k in missing)
                + (f" (seen: {'; '.join(arrived)})" if arrived else "")
                + f". Canary bucket {p['bucket_name']} was created {_iso(created_at)}. {HINT}",
                latencies=latencies,
                report=report,
                notifier_expected=notifier,
            )
        return {"changed": False, "latencies": latencies, "report": report, "notifier_expected": notifier}

    # --- cleanup -------------------------------------------------------------------------------------------------

    def cleanup(self):
        """Every part is attempted even when another fails; the failures are reported together at the end."""
        removed, errors = [], []
        for part, step in (
            ("subscription", self._unsubscribe),
            (f"queue {self.p['queue_name']}", self._delete_queue),
            (f"canary bucket {self.p['bucket_name']}", self._delete_bucket),
        ):
            try:
                removed.extend(step())
            except TrailWatchError as e:
                errors.append(f"{part}: {e.message}: {getattr(e, 'exception', '')}")
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                errors.append(f"{part}: {e}")
        if errors:
            raise DrillFailed(
                "TrailWatch drill cleanup left things behind: " + "; ".join(errors),
                removed=removed,
                changed=bool(removed),
            )
        return {"changed": bool(removed), "removed": removed}

    def _unsubscribe(self):
        try:
            pages = self.sns().get_paginator("list_subscriptions_by_topic").paginate(TopicArn=self.topic_arn)
            subscriptions = pages.build_full_result().get("Subscriptions", [])
        except is_boto3_error_code("NotFound"):
            return []
        removed = []
        for sub in subscriptions:
            if sub.get("Endpoint") == self.queue_arn and sub["SubscriptionArn"].startswith("arn:"):
                if self.check:
                    removed.append(f"subscription {sub['SubscriptionArn']}")
                    continue
                try:
                    self.sns().unsubscribe(SubscriptionArn=sub["SubscriptionArn"], aws_retry=True)
                    removed.append(f"subscription {sub['SubscriptionArn']}")
                except is_boto3_error_code("NotFound"):
                    pass
        return removed

    def _delete_queue(self):
        queue_url = self.queue_url()
        if not queue_url:
            return []
        if self.check:
            return [f"queue {self.p['queue_name']}"]
        try:
            self.client("sqs").delete_queue(QueueUrl=queue_url, aws_retry=True)
        except is_boto3_error_code(["AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"]):
            return []
        return [f"queue {self.p['queue_name']}"]

    def _delete_bucket(self):
        """The collection's S3 wrappers: every version and delete marker, per-object errors checked, then the bucket."""
        s3, bucket = self.client("s3"), self.p["bucket_name"]
        if self.check:
            try:
                s3.head_bucket(Bucket=bucket, aws_retry=True)
            except is_boto3_error_code(["404", "NoSuchBucket", "NotFound"]):
                return []
            return [f"canary bucket {bucket}"]
        if empty_bucket(s3, bucket) is False:
            return []  # no such bucket
        return [f"canary bucket {bucket}"] if delete_bucket(s3, bucket) else []


_LABELS = {
    "alarm_state": "bucket created -> alarm {alarm_name} in ALARM",
    "alarm_message": "bucket created -> alarm message in the queue",
    "notifier_message": "bucket created -> notifier message (names the bucket) in the queue",
}

_SEEN = {
    "alarm_state": "alarm {alarm_name} entered ALARM",
    "alarm_message": "its message reached the queue",
    "notifier_message": "the notifier's message reached the queue",
}

_MISSING = {
    "alarm_state": "alarm {alarm_name} did not enter ALARM",
    "alarm_message": "no ALARM message of {alarm_name} reached the queue",
    "notifier_message": "no notifier message naming {bucket_name} reached the queue",
}


def _report(p, created_at, latencies, notifier):
    width = max(len(label.format(**p)) for label in _LABELS.values())
    lines = [f"canary bucket {p['bucket_name']} created {_iso(created_at)}"]
    for key, label in _LABELS.items():
        if key == "notifier_message" and not notifier:
            value = "not deployed"
        else:
            value = _fmt(latencies.get(key))
        lines.append(f"{label.format(**p).ljust(width)}  {value}")
    return lines


def main():
    argument_spec = dict(
        action=dict(choices=["start", "wait", "cleanup"], required=True),
        topic_name=dict(),
        topic_arn=dict(),
        queue_name=dict(required=True),
        bucket_name=dict(required=True),
        alarm_name=dict(),
        notifier_function_name=dict(),
        created_at=dict(type="float"),
        timeout_seconds=dict(type="int", default=1200),
        poll_seconds=dict(type="int", default=20),
        ok_wait_seconds=dict(type="int", default=300),
    )
    module = TrailWatchModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[["topic_name", "topic_arn"]],
        mutually_exclusive=[["topic_name", "topic_arn"]],
        required_if=[
            ["action", "start", ["alarm_name"]],
            ["action", "wait", ["alarm_name", "created_at"]],
        ],
    )
    if (
        module.params["timeout_seconds"] < 0
        or module.params["poll_seconds"] < 1
        or module.params["ok_wait_seconds"] < 0
    ):
        module.fail_json(msg="timeout_seconds and ok_wait_seconds must be 0 or more and poll_seconds at least 1")
    action = module.params["action"]

    def work():
        """The step's result; a DrillFailed becomes a failed result that keeps the step's fields (latencies, report,
        removed). Any other error ends the module through run_module, like every module's."""
        with aws_errors(f"TrailWatch drill, step {action}"):
            try:
                return getattr(_Drill(module), action)()
            except DrillFailed as e:
                return dict(e.extra, failed=True, msg=str(e))

    result = run_module(module, work)
    if result.get("failed"):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
