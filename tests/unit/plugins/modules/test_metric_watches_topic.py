"""trailwatch.aws.metric_watches with topic, in-process against moto's mock_aws: the alerts role's one invocation (the
topic by the same code as trailwatch.aws.sns_topic, then the watches that alarm it; on removal the alarms first)."""

import json

import boto3
import pytest

from ansible_collections.trailwatch.aws.plugins.modules import metric_watches
from ansible_collections.trailwatch.aws.plugins.modules import sns_topic

REGION = "us-east-1"
ACCOUNT = "123456789012"
LOG_GROUP = "aws-cloudtrail-logs-trailwatch"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:trailwatch-alerts"
WRITES = {
    "CreateTopic",
    "SetTopicAttributes",
    "PutKeyPolicy",
    "Subscribe",
    "Unsubscribe",
    "DeleteTopic",
    "TagResource",
    "UntagResource",
    "PutMetricFilter",
    "DeleteMetricFilter",
    "PutMetricAlarm",
    "DeleteAlarms",
}
WATCH = {"name": "s3-bucket-created", "pattern": '{ ($.eventName = "CreateBucket") }'}
SUBSCRIBERS = [{"protocol": "email", "endpoint": "oncall@example.com"}]


def args(state="present", **topic):
    return {
        "state": state,
        "log_group_name": LOG_GROUP,
        "name_prefix": "trailwatch-",
        "watches": [WATCH],
        "purge_watches": True,
        "tags": {"team": "security"},
        "topic": dict(
            {
                "name": "trailwatch-alerts",
                "display_name": "TrailWatch",
                "kms_master_key_id": "alias/trailwatch",
                "install_name": "trailwatch",
                "subscriptions": SUBSCRIBERS,
                "tags": {"team": "security"},
            },
            **topic,
        ),
    }


@pytest.fixture
def aws(mocked_aws):
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName=LOG_GROUP)
    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/trailwatch", TargetKeyId=key["KeyId"])
    return key["Arn"]


@pytest.fixture
def run(run_module):
    return lambda a, check_mode=False: run_module(metric_watches.main, a, check_mode)


@pytest.fixture
def calls(module_calls):
    return module_calls()


def writes(calls):
    return [c for c in calls if c in WRITES]


def alarms():
    return boto3.client("cloudwatch", region_name=REGION).describe_alarms()["MetricAlarms"]


def topics():
    return [t["TopicArn"] for t in boto3.client("sns", region_name=REGION).list_topics()["Topics"]]


def test_topic_and_watches_in_one_invocation_then_a_rerun_writes_nothing(aws, run, run_module, calls):
    first = run(args())
    assert first["changed"] and not first.get("failed"), first
    assert first["topic"]["arn"] == TOPIC_ARN and first["topic"]["kms_master_key_id"] == aws
    # moto confirms e-mail subscriptions at once: the pending list is there, empty.
    assert [s["endpoint"] for s in first["topic"]["subscriptions"]] == ["oncall@example.com"]
    assert first["topic"]["pending_confirmations"] == []
    assert first["topic"]["unlisted_subscriptions"] == []
    assert first["changes"][:2] == ["topic", "topic:key"] and "watch:s3-bucket-created" in first["changes"]
    assert first["diff"]["before"]["topic"] == {} and first["diff"]["after"]["topic"] == first["topic"]
    assert first["watches"]["s3-bucket-created"]["alarm"]["AlarmActions"] == [TOPIC_ARN]
    assert [a["AlarmActions"] for a in alarms()] == [[TOPIC_ARN]]
    calls.clear()
    again = run(args())
    assert not again["changed"] and again["changes"] == [] and writes(calls) == [], (again, calls)
    # The topic in exactly the shape sns_topic returns, from the same code.
    alone = run_module(sns_topic.main, args()["topic"])
    assert not alone["changed"] and alone["topic"] == again["topic"]


def test_rerun_learns_the_account_from_the_topic_key_alias_not_from_sts(aws, run, calls):
    run(args())
    calls.clear()
    again = run(args())
    assert not again["changed"]
    assert "GetCallerIdentity" not in calls, calls
    # DescribeKey, GetKeyPolicy, the topic's 3 reads, the watches' 3 reads.
    assert len(calls) == 8, calls


def test_a_key_of_another_account_given_by_arn_teaches_no_account(aws, run, calls):
    """A key ARN may name another account's key (DescribeKey resolves it there): the account comes from STS."""
    other = f"arn:aws:kms:{REGION}:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    failed = run(args(kms_master_key_id=other))
    assert failed["failed"] and "GetCallerIdentity" in calls
    assert "111122223333" not in failed["msg"].replace(other, "")
    calls.clear()
    result = run(args(kms_master_key_id=aws))  # our own key, but by ARN: nothing learned from it
    assert result["changed"] and result["topic"]["arn"] == TOPIC_ARN
    assert "GetCallerIdentity" in calls


def test_check_mode_predicts_the_topic_and_watches_and_writes_nothing(aws, run, calls):
    predicted = run(args(), check_mode=True)
    assert predicted["changed"] and writes(calls) == [], calls
    assert predicted["topic"]["arn"] == TOPIC_ARN and "topic" in predicted["changes"]
    assert predicted["watches"]["s3-bucket-created"]["alarm"]["AlarmActions"] == [TOPIC_ARN]
    assert topics() == [] and alarms() == []


def test_absent_removes_the_alarms_before_the_topic_they_notify(aws, run, calls):
    run(args())
    calls.clear()
    gone = run(args("absent"))
    assert gone["changed"] and gone["topic"] is None, gone
    assert "topic" in gone["changes"] and "watch:s3-bucket-created" in gone["changes"]
    assert writes(calls).index("DeleteAlarms") < writes(calls).index("DeleteTopic"), calls
    assert topics() == [] and alarms() == []
    kms = boto3.client("kms", region_name=REGION)
    policy = json.loads(kms.get_key_policy(KeyId=aws, PolicyName="default")["Policy"])
    assert "TrailWatchCloudWatchAlarmsForTrailwatch" not in [s.get("Sid") for s in policy["Statement"]]
    calls.clear()
    assert not run(args("absent"))["changed"] and writes(calls) == []


@pytest.mark.parametrize(
    "key, message",
    [
        ("alias/missing", "topic.kms_master_key_id: no KMS key answers to 'alias/missing'"),
        ("alias/aws/sns", "topic.kms_master_key_id: alias/aws/sns cannot grant CloudWatch access"),
    ],
)
def test_a_bad_topic_key_fails_before_any_write(aws, run, calls, key, message):
    failed = run(args(kms_master_key_id=key))
    assert failed["failed"] and message in failed["msg"], failed
    assert writes(calls) == [] and topics() == [] and alarms() == []


def test_topic_and_alarm_actions_are_mutually_exclusive(aws, run, calls):
    failed = run(dict(args(), alarm_actions=[TOPIC_ARN]))
    assert failed["failed"] and "mutually exclusive" in failed["msg"] and calls == []
