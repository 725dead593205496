"""playbooks/doctor.yml against moto_server (issue 13): deploy once, then break exactly one link at a time through
direct boto3 calls, run the doctor, and repair. Each broken run fails, names that link as the first broken one of
the watch, and moto's recorder shows zero write calls; the healthy stack passes (also in check mode and with the
bring-your-own variables that make the doctor find the trail by its log group and take the topic by ARN).

One deploy for the whole file; about 15 doctor runs of ~5 s each.
"""

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

import moto_stand

REPO = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
ACCOUNT = "123456789012"
WATCH = "s3-bucket-created"
ALARM = "trailwatch-s3-bucket-created"
GROUP = "aws-cloudtrail-logs-trailwatch"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:trailwatch-alerts"
SITE_VARS = {"trailwatch_notify_emails": ["security@example.com"]}


def playbook(endpoint, name, extra_vars, *args):
    moto_stand.record_start(endpoint)
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), str(REPO / name), "-e", json.dumps(extra_vars), *args],
        cwd=REPO,
        env=moto_stand.playbook_env(endpoint, region=REGION, AWS_DEFAULT_REGION=REGION),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    return proc, moto_stand.record_stop(endpoint)


class Account:
    def __init__(self, endpoint):
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        self.c = {
            s: session.client(s, endpoint_url=endpoint)
            for s in ("cloudtrail", "cloudwatch", "logs", "sns", "kms", "iam", "sqs")
        }

    def key_arn(self):
        return self.c["kms"].describe_key(KeyId="alias/trailwatch")["KeyMetadata"]["Arn"]


@pytest.fixture(scope="module")
def stack(moto_endpoint):
    moto_stand.reset(moto_endpoint)
    proc, _calls = playbook(moto_endpoint, "playbooks/site.yml", SITE_VARS)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    return Account(moto_endpoint)


def _doctor(endpoint, extra=None, *args):
    proc, calls = playbook(endpoint, "playbooks/doctor.yml", dict(SITE_VARS, **(extra or {})), *args)
    return proc, proc.stdout + proc.stderr, calls


def _links(output, mark):
    """The links the printout marks BROKEN (or ok, UNVERIFIED) for the default watch."""
    lines = [line.strip('" ,') for line in output.splitlines()]
    return {line.split()[1] for line in lines if line.startswith(mark + " ")}


def _first_broken(output):
    """The link named in the doctor's failure message for the default watch."""
    marker = f"watch {WATCH}: "
    for line in output.splitlines():
        if "cannot alert" in line and marker in line:
            return line.split(marker, 1)[1].split(" is broken", 1)[0]
    return None


def _assert_healthy(proc, output):
    assert _links(output, "BROKEN") == set(), output
    assert _links(output, "UNVERIFIED") == set(), output
    assert proc.returncode == 0, output


@pytest.mark.integration
def test_healthy_stack_passes_without_writing(stack, moto_endpoint):
    proc, output, calls = _doctor(moto_endpoint)
    _assert_healthy(proc, output)
    assert f"watch {WATCH}: ok (alarm " in output
    for link in ("trail-logging", "delivery-to-logs", "key", "topic-policy", "subscription"):
        assert f"ok         {link}" in output, output
    assert calls["writes"] == 0, calls["write_operations"]
    # Reads only: Describe/Get/List calls, each a handful of times.
    assert calls["total"] <= 30, calls["operations"]


@pytest.mark.integration
def test_healthy_stack_in_check_mode_and_with_bring_your_own_variables(stack, moto_endpoint):
    # trailwatch_trail_create false: the doctor finds the trail by the log group it delivers to.
    extra = {"trailwatch_trail_create": False, "trailwatch_topic_arn": TOPIC}
    proc, output, calls = _doctor(moto_endpoint, extra, "--check")
    _assert_healthy(proc, output)
    assert "trail trailwatch is logging" in output
    assert calls["writes"] == 0, calls["write_operations"]
    assert "cloudtrail:DescribeTrails" in calls["operations"]


@pytest.mark.integration
def test_the_notifier_link_missing_healthy_and_with_failed_events_waiting(stack, moto_endpoint):
    """trailwatch_notifier: true adds the notifier link to the watches it serves: broken without a function, ok once
    site.yml deployed it, broken while an event waits in its failed-events queue."""
    notifier = {"trailwatch_notifier": True}
    proc, output, calls = _doctor(moto_endpoint, notifier)
    assert proc.returncode != 0, output
    assert _links(output, "BROKEN") == {"notifier"}, output
    assert _first_broken(output) == "notifier", output
    assert "function trailwatch-notifier does not exist" in output
    assert calls["writes"] == 0, calls["write_operations"]

    deployed, _calls = playbook(moto_endpoint, "playbooks/site.yml", dict(SITE_VARS, **notifier))
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr
    proc, output, calls = _doctor(moto_endpoint, notifier)
    assert proc.returncode == 0, output
    assert "failed-events queue trailwatch-notifier-failed empty" in output, output
    assert calls["writes"] == 0, calls["write_operations"]
    # ok only once the on-failure destination was read and found to be the queue, and the queue read empty.

    sqs = stack.c["sqs"]
    url = sqs.get_queue_url(QueueName="trailwatch-notifier-failed")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody='{"requestContext": {"condition": "RetriesExhausted"}}')
    try:
        proc, output, calls = _doctor(moto_endpoint, notifier)
    finally:
        sqs.purge_queue(QueueUrl=url)
    assert proc.returncode != 0, output
    assert _first_broken(output) == "notifier", output
    assert "1 event(s) that failed every attempt wait in the failed-events queue" in output, output
    assert calls["writes"] == 0, calls["write_operations"]


def _stop_logging(a):
    a.c["cloudtrail"].stop_logging(Name="trailwatch")
    return lambda: a.c["cloudtrail"].start_logging(Name="trailwatch")


def _single_region(a):
    a.c["cloudtrail"].update_trail(Name="trailwatch", IsMultiRegionTrail=False)
    return lambda: a.c["cloudtrail"].update_trail(Name="trailwatch", IsMultiRegionTrail=True)


def _conditional_trust(a):
    """The trust of an older stack: CloudTrail sends no aws:SourceArn when it assumes the role."""
    iam = a.c["iam"]
    role = "trailwatch-cloudtrail-to-logs"
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    conditional = json.loads(json.dumps(trust))
    conditional["Statement"][0]["Condition"] = {
        "StringEquals": {"aws:SourceArn": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/trailwatch"}
    }
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(conditional))
    return lambda: iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust))


def _management_events_off(a):
    ct = a.c["cloudtrail"]
    selectors = ct.get_event_selectors(TrailName="trailwatch")["EventSelectors"]
    ct.put_event_selectors(
        TrailName="trailwatch",
        EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": False, "DataResources": []}],
    )
    return lambda: ct.put_event_selectors(TrailName="trailwatch", EventSelectors=selectors)


def _schedule_key_deletion(a):
    arn = a.key_arn().rsplit("/", 1)[1]  # moto's ScheduleKeyDeletion takes the key id only
    a.c["kms"].schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)

    def repair():
        a.c["kms"].cancel_key_deletion(KeyId=arn)
        a.c["kms"].enable_key(KeyId=arn)

    return repair


def _strip_logs_from_key_policy(a):
    kms = a.c["kms"]
    arn = a.key_arn()
    policy = json.loads(kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"])
    kept = dict(policy, Statement=[s for s in policy["Statement"] if "logs." not in json.dumps(s.get("Principal"))])
    kms.put_key_policy(KeyId=arn, PolicyName="default", Policy=json.dumps(kept))
    return lambda: kms.put_key_policy(KeyId=arn, PolicyName="default", Policy=json.dumps(policy))


def _delete_filter(a):
    logs = a.c["logs"]
    found = logs.describe_metric_filters(logGroupName=GROUP, filterNamePrefix=ALARM)["metricFilters"][0]
    logs.delete_metric_filter(logGroupName=GROUP, filterName=ALARM)
    return lambda: logs.put_metric_filter(
        logGroupName=GROUP,
        filterName=ALARM,
        filterPattern=found["filterPattern"],
        metricTransformations=found["metricTransformations"],
    )


def _delete_alarm(a):
    cw = a.c["cloudwatch"]
    alarm = cw.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]
    cw.delete_alarms(AlarmNames=[ALARM])
    # Put back as it was read: every field DescribeAlarms answered that PutMetricAlarm takes.
    accepted = cw.meta.service_model.operation_model("PutMetricAlarm").input_shape.members
    return lambda: cw.put_metric_alarm(**{k: v for k, v in alarm.items() if k in accepted})


def _disable_actions(a):
    a.c["cloudwatch"].disable_alarm_actions(AlarmNames=[ALARM])
    return lambda: a.c["cloudwatch"].enable_alarm_actions(AlarmNames=[ALARM])


def _strip_cloudwatch_from_topic_policy(a):
    sns = a.c["sns"]
    policy = json.loads(sns.get_topic_attributes(TopicArn=TOPIC)["Attributes"]["Policy"])
    kept = dict(
        policy, Statement=[s for s in policy["Statement"] if "cloudwatch" not in json.dumps(s.get("Principal"))]
    )
    sns.set_topic_attributes(TopicArn=TOPIC, AttributeName="Policy", AttributeValue=json.dumps(kept))
    return lambda: sns.set_topic_attributes(TopicArn=TOPIC, AttributeName="Policy", AttributeValue=json.dumps(policy))


def _encrypt_topic_with_a_key_cloudwatch_cannot_use(a):
    kms, sns = a.c["kms"], a.c["sns"]
    root_only = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    key = kms.create_key(Policy=json.dumps(root_only))["KeyMetadata"]["Arn"]
    before = sns.get_topic_attributes(TopicArn=TOPIC)["Attributes"].get("KmsMasterKeyId", "")
    sns.set_topic_attributes(TopicArn=TOPIC, AttributeName="KmsMasterKeyId", AttributeValue=key)
    return lambda: sns.set_topic_attributes(TopicArn=TOPIC, AttributeName="KmsMasterKeyId", AttributeValue=before)


def _unsubscribe_everyone(a):
    sns = a.c["sns"]
    subs = sns.list_subscriptions_by_topic(TopicArn=TOPIC)["Subscriptions"]
    for sub in subs:
        sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])

    def repair():
        for sub in subs:
            sns.subscribe(TopicArn=TOPIC, Protocol=sub["Protocol"], Endpoint=sub["Endpoint"])

    return repair


def _delete_log_group(a):
    a.c["logs"].delete_log_group(logGroupName=GROUP)
    return None  # last case: nothing after it needs the group


# (link, how to break it, what the doctor says, links that break with it because they live on the broken thing)
BREAKS = [
    ("trail-logging", _stop_logging, "trail trailwatch is not logging"),
    ("trail-multi-region", _single_region, "records only eu-west-1", {"trail-records-events"}),
    ("trail-records-events", _management_events_off, "records no management events"),
    ("delivery-to-logs", _conditional_trust, "CloudTrail cannot assume role"),
    # The topic is encrypted with TrailWatch's key too (issue 12): it cannot be used for the topic either.
    ("key", _schedule_key_deletion, "is pending deletion", {"topic-key"}),
    ("key", _strip_logs_from_key_policy, f"refuses logs.{REGION}.amazonaws.com kms:Encrypt"),
    ("metric-filter", _delete_filter, f"metric filter {ALARM} is missing"),
    ("alarm", _delete_alarm, f"alarm {ALARM} does not exist", {"alarm-actions"}),
    ("alarm-actions", _disable_actions, "has its actions disabled"),
    ("topic-policy", _strip_cloudwatch_from_topic_policy, "does not let CloudWatch publish"),
    (
        "topic-key",
        _encrypt_topic_with_a_key_cloudwatch_cannot_use,
        "refuses cloudwatch.amazonaws.com kms:GenerateDataKey",
    ),
    ("subscription", _unsubscribe_everyone, "has no confirmed subscription"),
    ("log-group", _delete_log_group, f"log group {GROUP} does not exist", {"metric-filter"}),
]


@pytest.mark.integration
@pytest.mark.parametrize("case", BREAKS, ids=[f"{b[0]}:{b[1].__name__.strip('_')}" for b in BREAKS])
def test_one_broken_link_is_named_and_nothing_is_written(stack, moto_endpoint, case):
    link, breaker, detail = case[:3]
    with_it = case[3] if len(case) > 3 else set()
    repair = breaker(stack)
    try:
        proc, output, calls = _doctor(moto_endpoint)
    finally:
        if repair:
            repair()
    assert proc.returncode != 0, output
    assert _links(output, "BROKEN") == {link} | with_it, output
    assert _first_broken(output) == link, output
    assert detail in output, output
    assert "fix: " in output
    assert "Traceback" not in output
    assert calls["writes"] == 0, calls["write_operations"]


@pytest.mark.integration
def test_bad_input_is_refused_before_any_call(moto_endpoint):
    proc, output, calls = _doctor(moto_endpoint, {"trailwatch_watch_presets": "nonesuch"})
    assert proc.returncode != 0, output
    assert "trailwatch_watch_presets: unknown preset nonesuch" in output, output
    assert calls["total"] == 0, calls["operations"]
