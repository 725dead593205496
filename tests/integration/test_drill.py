"""playbooks/drill.yml against moto_server (issue 6, drill).

moto never produces a CloudTrail event and never evaluates an alarm, so the drill's real outcome there is the
timeout: it must fail with a clear message and leave no canary bucket, no queue and no extra subscription behind.
The success path is shown by standing in for AWS: once the canary bucket exists, the test sets the alarm to ALARM
and publishes the alarm's and the notifier's messages to the topic (moto delivers SNS to SQS), and the drill must
measure them and clean up the same way.
"""

import json
import subprocess
import sys
import threading
import time
from datetime import datetime
from datetime import timezone
from pathlib import Path

import boto3
import pytest

import moto_stand

REPO = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
ALARM = "trailwatch-s3-bucket-created"
SITE_VARS = json.dumps({"trailwatch_notify_emails": ["security@example.com"]})


def _env(endpoint):
    return moto_stand.playbook_env(endpoint, REGION, AWS_DEFAULT_REGION=REGION)


def _playbook(endpoint, playbook, extra_vars, timeout=300, options=()):
    """Runs a playbook against the moto_server as it is (no reset), with the API calls recorded."""
    moto_stand.record_start(endpoint)
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), str(REPO / playbook), "-e", extra_vars, *options],
        cwd=REPO,
        env=_env(endpoint),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    return proc, moto_stand.record_stop(endpoint)


class Account:
    """boto3 clients on the moto_server, and what the drill could leave behind."""

    def __init__(self, endpoint):
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        self.c = {s: session.client(s, endpoint_url=endpoint) for s in ("s3", "sqs", "sns", "cloudwatch")}

    @property
    def topic_arn(self):
        return next(
            t["TopicArn"] for t in self.c["sns"].list_topics()["Topics"] if t["TopicArn"].endswith(":trailwatch-alerts")
        )

    def buckets(self):
        return sorted(b["Name"] for b in self.c["s3"].list_buckets()["Buckets"])

    def queues(self):
        return self.c["sqs"].list_queues().get("QueueUrls", [])

    def subscriptions(self):
        subs = self.c["sns"].list_subscriptions_by_topic(TopicArn=self.topic_arn)["Subscriptions"]
        return sorted((s["Protocol"], s["Endpoint"]) for s in subs)


@pytest.fixture
def deployed(run_playbook, moto_endpoint):
    """A fresh account with site.yml deployed; returns the account and what exists before the drill."""
    proc, _calls = run_playbook("playbooks/site.yml", SITE_VARS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    account = Account(moto_endpoint)
    return account, {"buckets": account.buckets(), "queues": account.queues(), "subs": account.subscriptions()}


def _assert_nothing_left(account, before):
    assert account.buckets() == before["buckets"]
    assert not [b for b in account.buckets() if "-canary-" in b]
    assert account.queues() == before["queues"] == []
    assert account.subscriptions() == before["subs"] == [("email", "security@example.com")]


@pytest.mark.integration
def test_drill_times_out_with_a_clear_message_and_leaves_nothing_behind(deployed, moto_endpoint):
    account, before = deployed
    proc, calls = _playbook(moto_endpoint, "playbooks/drill.yml", json.dumps({"trailwatch_drill_timeout_seconds": 5}))
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "TrailWatch drill timed out after 5 s" in output
    assert f"alarm {ALARM} did not enter ALARM" in output
    assert "Cleaned up: subscription arn:aws:sns:" in output
    assert "Traceback" not in output
    # It did create the canary, the queue and the subscription, and removed each of them.
    writes = calls["write_operations"]
    for made, removed in (("sqs:CreateQueue", "sqs:DeleteQueue"), ("sns:Subscribe", "sns:Unsubscribe")):
        assert made in writes and removed in writes, writes
    assert "s3:PUT" in writes and "s3:DELETE" in writes, writes
    _assert_nothing_left(account, before)


@pytest.mark.integration
def test_drill_on_an_account_without_trailwatch_creates_nothing(run_playbook):
    proc, calls = run_playbook("playbooks/drill.yml", json.dumps({"trailwatch_drill_timeout_seconds": 5}))
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    # The doctor runs first and stops the drill: no trail, no topic.
    assert "TrailWatch drill stopped before creating anything" in output
    assert "trail-logging is broken" in output
    assert calls["writes"] == 0, calls["write_operations"]


@pytest.mark.integration
def test_drill_bad_timeout_fails_before_any_aws_call(run_playbook):
    proc, calls = run_playbook("playbooks/drill.yml", json.dumps({"trailwatch_drill_timeout_seconds": "soon"}))
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "trailwatch_drill_timeout_seconds" in output
    assert calls["total"] == 0


def _stand_in_for_aws(account, stop, notifier_bucket=True):
    """Once the canary bucket and the queue's subscription exist, does what AWS would: alarm, messages."""
    while not stop.is_set():
        canary = [b for b in account.buckets() if "-canary-" in b]
        subscribed = [s for s in account.subscriptions() if s[0] == "sqs"]
        if canary and subscribed:
            break
        time.sleep(0.2)
    else:
        return
    time.sleep(2)  # a measurable latency
    account.c["cloudwatch"].set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="drill stand-in")
    changed = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
    account.c["sns"].publish(
        TopicArn=account.topic_arn,
        Subject=f'ALARM: "{ALARM}" in EU (Ireland)',
        Message=json.dumps(
            {"AlarmName": ALARM, "NewStateValue": "ALARM", "OldStateValue": "OK", "StateChangeTime": changed}
        ),
    )
    if notifier_bucket:
        account.c["sns"].publish(
            TopicArn=account.topic_arn,
            Subject=f"[TrailWatch] New S3 bucket: {canary[0]} ({REGION})",
            Message=f"New S3 bucket {canary[0]}",
            MessageAttributes={
                "trailwatch_event": {"DataType": "String", "StringValue": "CreateBucket"},
                "bucket": {"DataType": "String", "StringValue": canary[0]},
            },
        )


def _deploy_a_notifier_function(endpoint):
    """A function named like the notifier: the drill then waits for the notifier's message too (moto cannot run it,
    the stand-in publishes that message)."""
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    iam = session.client("iam", endpoint_url=endpoint)
    role = iam.create_role(RoleName="trailwatch-notifier", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    session.client("lambda", endpoint_url=endpoint).create_function(
        FunctionName="trailwatch-notifier",
        Runtime="python3.12",
        Role=role,
        Handler="notifier.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )


@pytest.mark.integration
@pytest.mark.parametrize("notifier", [False, True], ids=["alarm-only", "with-notifier"])
def test_drill_measures_the_chain_and_cleans_up(deployed, moto_endpoint, notifier):
    account, before = deployed
    if notifier:
        _deploy_a_notifier_function(moto_endpoint)
    stop = threading.Event()
    helper = threading.Thread(target=_stand_in_for_aws, args=(account, stop, notifier), daemon=True)
    helper.start()
    try:
        proc, _calls = _playbook(
            moto_endpoint,
            "playbooks/drill.yml",
            json.dumps({"trailwatch_drill_timeout_seconds": 120, "trailwatch_drill_poll_seconds": 1}),
        )
    finally:
        stop.set()
        helper.join(timeout=10)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    # The cleanup command is shown before the canary is created (the doctor found nothing broken).
    shown = output.index("interrupted? clean up with: ansible-playbook playbooks/drill.yml -e trailwatch_drill_id=")
    assert output.index("Queue listens on the topic, then the canary bucket is created") > shown
    assert "TrailWatch drill in eu-west-1: the chain works" in output
    assert f"bucket created -> alarm {ALARM} in ALARM" in output
    assert "bucket created -> alarm message in the queue" in output
    notifier_line = [line for line in output.splitlines() if "notifier message (names the bucket)" in line]
    assert notifier_line, output
    if notifier:
        assert "not deployed" not in notifier_line[0] and "not seen" not in notifier_line[0]
    else:
        # site.yml alone deploys no notifier: its line says so rather than waiting for it.
        assert "not deployed" in notifier_line[0]
    assert "cleaned up: subscription arn:aws:sns:" in output
    _assert_nothing_left(account, before)


@pytest.mark.integration
def test_drill_cleanup_only_removes_what_an_interrupted_drill_left(deployed, moto_endpoint):
    account, before = deployed
    # What an interrupted drill with id abcd1234 leaves: a canary bucket, a queue, its subscription.
    account.c["s3"].create_bucket(
        Bucket="trailwatch-canary-abcd1234", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    url = account.c["sqs"].create_queue(QueueName="trailwatch-drill-abcd1234")["QueueUrl"]
    arn = account.c["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    account.c["sns"].subscribe(TopicArn=account.topic_arn, Protocol="sqs", Endpoint=arn)
    proc, calls = _playbook(
        moto_endpoint,
        "playbooks/drill.yml",
        json.dumps({"trailwatch_drill_id": "abcd1234", "trailwatch_drill_cleanup_only": True}),
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "canary bucket trailwatch-canary-abcd1234" in output
    assert "s3:PUT" not in calls["write_operations"]
    _assert_nothing_left(account, before)


@pytest.mark.integration
def test_drill_in_check_mode_says_what_it_would_create_and_writes_nothing(deployed, moto_endpoint):
    """Found by a fresh-user rehearsal: --check crashed in the wait step (no canary, no created_at)."""
    account, before = deployed
    proc, calls = _playbook(
        moto_endpoint, "playbooks/drill.yml", json.dumps({"trailwatch_drill_timeout_seconds": 60}), options=["--check"]
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "CHECK MODE, nothing was created: the drill would create" in output
    assert calls["writes"] == 0, calls["write_operations"]
    _assert_nothing_left(account, before)


@pytest.mark.integration
def test_drill_stops_at_a_broken_link_before_creating_anything(deployed, moto_endpoint):
    account, before = deployed
    account.c["cloudwatch"].disable_alarm_actions(AlarmNames=[ALARM])
    proc, calls = _playbook(moto_endpoint, "playbooks/drill.yml", json.dumps({"trailwatch_drill_timeout_seconds": 60}))
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "TrailWatch drill stopped before creating anything" in output
    assert (
        "watch s3-bucket-created: alarm-actions is broken (alarm trailwatch-s3-bucket-created has its actions" in output
    )
    # Nothing was created, so there is nothing to clean up: no drill id, no cleanup command.
    assert "interrupted? clean up with:" not in output
    assert calls["writes"] == 0, calls["write_operations"]
    _assert_nothing_left(account, before)


@pytest.mark.integration
def test_drill_waits_for_an_alarm_already_in_alarm_and_refuses_when_it_stays(deployed, moto_endpoint):
    account, before = deployed
    account.c["cloudwatch"].set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="a bucket a minute ago")
    extra = {"trailwatch_drill_ok_wait_seconds": 3, "trailwatch_drill_poll_seconds": 1}
    proc, calls = _playbook(moto_endpoint, "playbooks/drill.yml", json.dumps(extra))
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert f"alarm {ALARM} has been in ALARM since" in output
    assert "did not return to OK within 3 s" in output
    # Nothing was created, so nothing was removed either.
    for made in ("sqs:CreateQueue", "sns:Subscribe", "s3:PUT"):
        assert made not in calls["write_operations"], calls["write_operations"]
    _assert_nothing_left(account, before)


@pytest.mark.integration
def test_drill_refuses_a_wait_longer_than_the_assumed_role_credentials(run_playbook):
    extra = {
        "trailwatch_assume_role_arn": "arn:aws:iam::111111111111:role/trailwatch-deployer",
        "trailwatch_drill_timeout_seconds": 3300,
    }
    proc, calls = run_playbook("playbooks/drill.yml", json.dumps(extra))
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "must be at most 3000 with trailwatch_assume_role_arn (got 3300 + 300)" in output
    assert calls["total"] == 0


@pytest.mark.integration
def test_a_cleanup_failure_is_reported_with_the_drill_failure(deployed, moto_endpoint):
    """The drill fails (its canary bucket name is taken) and its cleanup fails too (an object under an Object Lock
    legal hold in that bucket): the report names both, and the cleanup command; the queue and subscription go."""
    account, before = deployed
    s3, bucket = account.c["s3"], "trailwatch-canary-abcd5678"
    s3.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}, ObjectLockEnabledForBucket=True
    )
    s3.put_object(Bucket=bucket, Key="held", Body=b"x")
    version = s3.list_object_versions(Bucket=bucket)["Versions"][0]["VersionId"]
    s3.put_object_legal_hold(Bucket=bucket, Key="held", VersionId=version, LegalHold={"Status": "ON"})
    try:
        proc, _calls = _playbook(moto_endpoint, "playbooks/drill.yml", json.dumps({"trailwatch_drill_id": "abcd5678"}))
        output = proc.stdout + proc.stderr
        assert proc.returncode != 0, output
        failure = next(line for line in output.splitlines() if "Cleanup failed too: " in line)
        assert "BucketAlreadyOwnedByYou" in failure.split("Cleanup failed too: ")[0], failure
        assert "canary bucket trailwatch-canary-abcd5678" in failure and "object lock" in failure.lower(), failure
        assert "Remove the rest with: ansible-playbook playbooks/drill.yml -e trailwatch_drill_id=abcd5678" in failure
        assert "Traceback" not in output
        assert account.queues() == [] and account.subscriptions() == before["subs"]
    finally:
        s3.put_object_legal_hold(Bucket=bucket, Key="held", VersionId=version, LegalHold={"Status": "OFF"})
        s3.delete_object(Bucket=bucket, Key="held", VersionId=version)
        s3.delete_bucket(Bucket=bucket)
    _assert_nothing_left(account, before)
