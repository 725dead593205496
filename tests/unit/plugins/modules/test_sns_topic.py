"""trailwatch.aws.sns_topic in-process against moto's mock_aws: encrypted topics (issue 12, item 5) and a topic shared
by two installs (item 4).

What moto cannot show (it has no alias/aws/sns, and accepts any key policy) is pinned with the Stubber in
tests/unit/plugins/module_utils/test_shared_policies.py.
"""

import json
import runpy
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

runpy.run_path(str(Path(__file__).resolve().parent.parent / "conftest.py"))

from ansible_collections.trailwatch.aws.plugins.modules import sns_topic  # noqa: E402

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROOT = {
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "Action": "kms:*",
    "Resource": "*",
}
WRITES = {"CreateTopic", "SetTopicAttributes", "PutKeyPolicy", "Subscribe", "Unsubscribe", "DeleteTopic"}


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def writes(module_calls):
    return module_calls(WRITES)


@pytest.fixture
def run(run_module):
    return lambda args, check_mode=False: run_module(sns_topic.main, args, check_mode)


def customer_key(alias, *statements):
    kms = boto3.client("kms", region_name=REGION)
    policy = {"Version": "2012-10-17", "Statement": [ROOT, *statements]}
    key = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    return key["Arn"]


def key_sids(key_arn):
    policy = json.loads(
        boto3.client("kms", region_name=REGION).get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]
    )
    return [s.get("Sid") for s in policy["Statement"]]


def topic_sids(arn):
    attributes = boto3.client("sns", region_name=REGION).get_topic_attributes(TopicArn=arn)["Attributes"]
    return [s.get("Sid") for s in json.loads(attributes["Policy"])["Statement"]]


def test_created_topic_is_encrypted_with_the_key_and_the_key_lets_alarms_use_it(aws, run, writes):
    key_arn = customer_key("alias/corp")
    args = {"name": "trailwatch-alerts", "kms_master_key_id": "alias/corp", "install_name": "alpha"}
    predicted = run(args, check_mode=True)
    assert predicted["changed"] and writes == []
    first = run(args)
    assert first["changed"] and first["topic"]["kms_master_key_id"] == key_arn
    assert key_sids(key_arn) == ["Enable IAM User Permissions", "TrailWatchCloudWatchAlarmsForAlpha"]
    writes.clear()
    again = run(args)
    assert not again["changed"] and writes == []


def test_same_key_by_another_name_is_no_change(aws, run, writes):
    """SNS returns KmsMasterKeyId as it was set: an alias set by hand is the same key as its ARN."""
    key_arn = customer_key("alias/corp")
    run({"name": "trailwatch-alerts", "kms_master_key_id": "alias/corp"})
    arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:trailwatch-alerts"
    boto3.client("sns", region_name=REGION).set_topic_attributes(
        TopicArn=arn, AttributeName="KmsMasterKeyId", AttributeValue="alias/corp"
    )
    writes.clear()
    again = run({"name": "trailwatch-alerts", "kms_master_key_id": key_arn})
    assert not again["changed"] and writes == []


def test_key_of_trailwatch_that_grants_the_alarms_is_not_written(aws, run, writes):
    from ansible_collections.trailwatch.aws.plugins.module_utils import _policies

    managed = _policies.kms_key_policy("aws", REGION, ACCOUNT, "trailwatch", "aws-cloudtrail-logs-trailwatch")
    key_arn = customer_key("alias/trailwatch", *managed["Statement"][1:])
    result = run({"name": "trailwatch-alerts", "kms_master_key_id": "alias/trailwatch"})
    assert result["changed"] and "PutKeyPolicy" not in writes
    assert "TrailWatchCloudWatchAlarmsForTrailwatch" not in key_sids(key_arn)


def test_key_that_does_not_exist_fails_but_is_predicted_in_check_mode(aws, run, writes):
    args = {"name": "trailwatch-alerts", "kms_master_key_id": "alias/trailwatch"}
    assert run(args, check_mode=True)["changed"] is True
    failed = run(args)
    assert failed["failed"] and "kms_master_key_id: no KMS key answers to 'alias/trailwatch'" in failed["msg"]
    assert writes == []


def test_removal_takes_this_installs_statement_out_of_the_key(aws, run):
    key_arn = customer_key("alias/corp")
    run({"name": "trailwatch-alerts", "kms_master_key_id": "alias/corp", "install_name": "alpha"})
    gone = run({"name": "trailwatch-alerts", "state": "absent", "install_name": "alpha"})
    assert gone["changed"] and gone["topic"] is None
    assert key_sids(key_arn) == ["Enable IAM User Permissions"]


def test_existing_encrypted_topic_shared_by_two_installs(aws, run, writes):
    key_arn = customer_key("alias/corp")
    sns = boto3.client("sns", region_name=REGION)
    arn = sns.create_topic(Name="corp-alerts", Attributes={"KmsMasterKeyId": "alias/corp"})["TopicArn"]
    alpha, beta = {"arn": arn, "install_name": "alpha"}, {"arn": arn, "install_name": "beta"}
    assert run(alpha)["changed"] and run(beta)["changed"]
    assert topic_sids(arn)[-2:] == [
        "TrailWatchCloudWatchAlarmsPublishForAlpha",
        "TrailWatchCloudWatchAlarmsPublishForBeta",
    ]
    assert key_sids(key_arn)[-2:] == ["TrailWatchCloudWatchAlarmsForAlpha", "TrailWatchCloudWatchAlarmsForBeta"]
    writes.clear()
    assert not run(alpha)["changed"] and not run(beta)["changed"] and writes == []
    assert run(dict(alpha, state="absent"))["changed"]
    assert "TrailWatchCloudWatchAlarmsPublishForBeta" in topic_sids(arn)
    assert "TrailWatchCloudWatchAlarmsPublishForAlpha" not in topic_sids(arn)
    assert key_sids(key_arn) == ["Enable IAM User Permissions", "TrailWatchCloudWatchAlarmsForBeta"]
    writes.clear()
    assert not run(beta)["changed"] and writes == []
    # The existing topic's own encryption is never changed.
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["KmsMasterKeyId"] == "alias/corp"


def test_encryption_given_up_takes_this_installs_statement_out_of_the_former_key(aws, run):
    key_arn = customer_key("alias/corp")
    run({"name": "trailwatch-alerts", "kms_master_key_id": "alias/corp", "install_name": "alpha"})
    result = run({"name": "trailwatch-alerts", "kms_master_key_id": "", "install_name": "alpha"})
    assert result["changed"] and result["topic"]["kms_master_key_id"] == ""
    assert key_sids(key_arn) == ["Enable IAM User Permissions"]


@pytest.mark.parametrize(
    "purge, kept, unlisted",
    [
        (False, ["a@example.com", "b@example.com"], ["b@example.com"]),
        (True, ["a@example.com"], []),
    ],
)
def test_unlisted_subscribers_are_named_and_removed_only_when_purge_is_asked(aws, run, writes, purge, kept, unlisted):
    both = [{"protocol": "email", "endpoint": e} for e in ("a@example.com", "b@example.com")]
    run({"name": "trailwatch-alerts", "subscriptions": both})
    writes.clear()
    args = {"name": "trailwatch-alerts", "subscriptions": both[:1], "purge_subscriptions": purge}
    predicted = run(args, check_mode=True)
    assert predicted["changed"] is purge and writes == []
    result = run(args)
    assert result["changed"] is purge
    assert writes == (["Unsubscribe"] if purge else [])
    assert sorted(s["endpoint"] for s in result["topic"]["subscriptions"]) == kept
    assert result["topic"]["unlisted_subscriptions"] == unlisted
