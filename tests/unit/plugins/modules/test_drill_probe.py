"""trailwatch.aws.drill_probe in-process against moto's mock_aws: what the drill refuses before creating anything, and
a cleanup that attempts every part and names what it could not remove (issue 13, "The drill must not lie either")."""

import runpy
from pathlib import Path

import boto3
import pytest

runpy.run_path(str(Path(__file__).resolve().parent.parent / "conftest.py"))

from ansible_collections.trailwatch.aws.plugins.modules import drill_probe  # noqa: E402

REGION = "us-east-1"
ACCOUNT = "123456789012"
WRITES = {"CreateQueue", "Subscribe", "CreateBucket", "PutObject", "DeleteQueue", "Unsubscribe", "DeleteBucket"}
BUCKET = "trailwatch-canary-abcd1234"
QUEUE = "trailwatch-drill-abcd1234"


@pytest.fixture
def run(run_module, mocked_aws):
    return lambda args, check_mode=False: run_module(
        drill_probe.main, dict({"queue_name": QUEUE, "bucket_name": BUCKET}, **args), check_mode
    )


def test_a_topic_in_another_account_is_refused_before_anything_is_created(run, module_calls):
    writes = module_calls(WRITES)
    other = f"arn:aws:sns:{REGION}:210987654321:trailwatch-alerts"
    result = run({"action": "start", "topic_arn": other, "alarm_name": "trailwatch-s3-bucket-created"})
    assert result["failed"]
    assert f"topic {other} is in account 210987654321, the drill runs in {ACCOUNT}" in result["msg"]
    assert "the drill created nothing" in result["msg"]
    assert writes == []


def test_cleanup_attempts_every_part_and_names_the_one_it_could_not_remove(run):
    sns, sqs, s3 = (boto3.client(s, region_name=REGION) for s in ("sns", "sqs", "s3"))
    topic = sns.create_topic(Name="trailwatch-alerts")["TopicArn"]
    url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    # The bucket cannot be emptied: one object version is under an Object Lock legal hold.
    s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    s3.put_object(Bucket=BUCKET, Key="held", Body=b"x")
    version = s3.list_object_versions(Bucket=BUCKET)["Versions"][0]["VersionId"]
    s3.put_object_legal_hold(Bucket=BUCKET, Key="held", VersionId=version, LegalHold={"Status": "ON"})

    result = run({"action": "cleanup", "topic_name": "trailwatch-alerts"})
    assert result["failed"]
    assert result["msg"].startswith("TrailWatch drill cleanup left things behind: canary bucket " + BUCKET)
    assert "DeleteObjects refused 1 object version(s)" in result["msg"]
    assert result["removed"] == [result["removed"][0], f"queue {QUEUE}"]
    assert result["removed"][0].startswith("subscription arn:aws:sns:")
    assert sqs.list_queues().get("QueueUrls", []) == []
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_check_mode_says_what_each_step_would_do_and_writes_nothing(run, module_calls):
    """Every module supports check mode (issue 10): start and cleanup read, predict, and write nothing."""
    sns, cloudwatch = boto3.client("sns", region_name=REGION), boto3.client("cloudwatch", region_name=REGION)
    topic = sns.create_topic(Name="trailwatch-alerts")["TopicArn"]
    cloudwatch.put_metric_alarm(
        AlarmName="trailwatch-s3-bucket-created",
        MetricName="S3BucketCreated",
        Namespace="TrailWatch",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[topic],
    )
    writes = module_calls(WRITES)
    args = {"topic_name": "trailwatch-alerts", "alarm_name": "trailwatch-s3-bucket-created"}
    start = run(dict(args, action="start"), check_mode=True)
    assert start["changed"] and not start.get("failed"), start
    assert start["would_create"] == [f"queue {QUEUE}", "its subscription to the topic", f"bucket {BUCKET}"]
    wait = run(dict(args, action="wait", created_at=0.0), check_mode=True)
    assert not wait["changed"] and not wait.get("failed"), wait
    assert run(dict(args, action="cleanup"), check_mode=True) == dict(
        run(dict(args, action="cleanup"), check_mode=True), changed=False, removed=[]
    )
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    cleanup = run(dict(args, action="cleanup"), check_mode=True)
    assert cleanup["changed"] and cleanup["removed"] == [f"canary bucket {BUCKET}"], cleanup
    assert writes == []
    assert boto3.client("s3", region_name=REGION).head_bucket(Bucket=BUCKET)
