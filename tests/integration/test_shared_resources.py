"""Two TrailWatch installs sharing one existing bucket, key and topic (issue 12, item 4), against moto_server.

The account already has a bucket, a key and an encrypted topic of its own (tests/helpers/byo_fixture.py), each with
foreign statements, plus the statements an older TrailWatch version wrote for a third trail, ``gamma``, with the
Sids of that version (TrailWatchCloudTrailWrite, ...). Installs ``alpha`` and ``beta`` (different trailwatch_name,
so different trails) bring all three:

1. alpha, then beta, converge; each run keeps the other install's statements;
2. re-running alpha changes nothing and makes no write call;
3. removing alpha (teardown.yml) leaves beta converged: its re-run changes nothing and writes nothing;
4. at the end the policies hold the foreign statements, beta's, and gamma's trail-specific old statements (gamma
   never ran the new version: its bucket grants stay), and nothing of alpha's.

Before per-install Sids, step 1 replaced alpha's statements with beta's, step 2 flipped them back, and step 3 took
beta's grants away.
"""

import json
import runpy
from pathlib import Path

import boto3
import byo_fixture  # tests/helpers, put on sys.path by conftest.py
import moto_stand
import pytest

REPO = Path(__file__).resolve().parents[2]
runpy.run_path(str(REPO / "tests" / "unit" / "plugins" / "conftest.py"))

from ansible_collections.trailwatch.aws.plugins.module_utils import _policies  # noqa: E402

pytestmark = pytest.mark.integration

REGION = "eu-west-1"
ACCOUNT = "123456789012"


@pytest.fixture
def stand(moto_endpoint, monkeypatch):
    moto_stand.reset(moto_endpoint)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return moto_endpoint


def converged(run_playbook, playbook, extra_vars):
    """The playbook on the stand as the test left it; returns (process, recorded calls)."""
    proc, calls = run_playbook(playbook, json.dumps(extra_vars), reset=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return proc, calls


def unchanged(proc, calls):
    return "changed=0 " in proc.stdout and calls["writes"] == 0


def legacy(statements):
    """Statements as the version before per-install Sids wrote them: TrailWatch<Role>."""
    return [dict(s, Sid=s["Sid"].split(_policies.INSTALL_SEPARATOR)[0]) for s in statements]


def add_statements(policy_text, statements):
    policy = json.loads(policy_text)
    policy["Statement"] = policy["Statement"] + statements
    return json.dumps(policy)


def test_two_installs_share_a_bucket_a_key_and_a_topic(stand, run_playbook):
    session = boto3.session.Session(region_name=REGION)
    s3, kms, sns = (session.client(name) for name in ("s3", "kms", "sns"))
    state = byo_fixture.create(REGION)
    bucket, key, topic = state["bucket"], state["key_arn"], state["topic_arn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="KmsMasterKeyId", AttributeValue=key)

    # What the older version left for trail gamma (the last install that ran it).
    group = "aws-cloudtrail-logs-gamma"
    gamma_bucket = legacy(_policies.byo_bucket_statements("aws", REGION, ACCOUNT, "gamma", bucket))
    gamma_key = legacy(_policies.byo_key_statements("aws", REGION, ACCOUNT, "gamma", group))
    gamma_key += legacy(_policies.topic_key_statements("aws", REGION, ACCOUNT, "gamma"))
    gamma_topic = legacy(_policies.byo_topic_statements("aws", REGION, ACCOUNT, topic, "gamma"))
    s3.put_bucket_policy(
        Bucket=bucket, Policy=add_statements(s3.get_bucket_policy(Bucket=bucket)["Policy"], gamma_bucket)
    )
    key_policy = kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=add_statements(key_policy, gamma_key))
    topic_policy = sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"]
    sns.set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=add_statements(topic_policy, gamma_topic)
    )

    byo = {
        "trailwatch_log_bucket_create": False,
        "trailwatch_log_bucket_name": bucket,
        "trailwatch_kms_key_create": False,
        "trailwatch_kms_key_arn": key,
        "trailwatch_topic_arn": topic,
    }
    alpha = dict(byo, trailwatch_name="alpha", trailwatch_notify_emails=["alpha@example.com"])
    beta = dict(byo, trailwatch_name="beta", trailwatch_notify_emails=["beta@example.com"])

    converged(run_playbook, "playbooks/site.yml", alpha)
    converged(run_playbook, "playbooks/site.yml", beta)
    again = converged(run_playbook, "playbooks/site.yml", alpha)
    assert unchanged(*again), again[1]["write_operations"]

    converged(run_playbook, "playbooks/teardown.yml", alpha)
    after = converged(run_playbook, "playbooks/site.yml", beta)
    assert unchanged(*after), after[1]["write_operations"]

    policies = {
        "bucket": json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]),
        "key": json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]),
        "topic": json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"]),
    }
    sids = {name: [s.get("Sid") for s in policy["Statement"]] for name, policy in policies.items()}
    foreign = {name: [s.get("Sid") for s in statements] for name, statements in state["foreign"].items()}
    assert sids["bucket"] == foreign["bucket"] + [
        "TrailWatchCloudTrailAclCheck",  # gamma's, kept: they name gamma's trail
        "TrailWatchCloudTrailWrite",
        "TrailWatchCloudTrailAclCheckForBeta",
        "TrailWatchCloudTrailWriteForBeta",
    ]
    assert sids["key"] == foreign["key"] + [
        "TrailWatchCloudTrailEncrypt",  # gamma's trail
        "TrailWatchCloudTrailDescribe",
        "TrailWatchCloudWatchLogs",  # gamma's log group
        "TrailWatchCloudTrailEncryptForBeta",
        "TrailWatchCloudTrailDescribeForBeta",
        "TrailWatchAccountReadersDecryptForBeta",
        "TrailWatchCloudWatchLogsForBeta",
        "TrailWatchCloudWatchAlarmsForBeta",  # the topic's key lets beta's alarms publish
    ]
    assert sids["topic"] == foreign["topic"] + ["TrailWatchCloudWatchAlarmsPublishForBeta"]
    emails = [
        s["Endpoint"]
        for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        if s["Protocol"] == "email"
    ]
    assert emails == ["beta@example.com"]
