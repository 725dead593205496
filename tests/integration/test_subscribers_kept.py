"""A run that leaves trailwatch_notify_emails out never takes anyone off the alerts (found by a fresh-user rehearsal
of issue 14: deploying with an address, then running again with only ``trailwatch_watch_presets=cis`` unsubscribed
it silently). Unlisted subscribers are kept and named in the summary; ``trailwatch_purge_subscriptions: true``
removes them, also reported.
"""

import json

import boto3
import pytest

import moto_stand

pytestmark = pytest.mark.integration

REGION = "eu-west-1"  # the region run_playbook deploys to


def _endpoints(moto_endpoint):
    env = moto_stand.playbook_env(moto_endpoint, REGION)
    sns = boto3.client(
        "sns",
        region_name=REGION,
        endpoint_url=moto_endpoint,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    return sorted(s["Endpoint"] for s in sns.list_subscriptions()["Subscriptions"])


def test_a_run_without_the_address_keeps_the_subscriber_until_purge_is_asked(run_playbook, moto_endpoint):
    proc, _calls = run_playbook("playbooks/site.yml", json.dumps({"trailwatch_notify_emails": ["oncall@example.com"]}))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert _endpoints(moto_endpoint) == ["oncall@example.com"]

    proc, calls = run_playbook(
        "playbooks/site.yml", json.dumps({"trailwatch_watch_presets": ["s3_bucket_created"]}), reset=False
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert _endpoints(moto_endpoint) == ["oncall@example.com"]
    assert "sns:Unsubscribe" not in calls["write_operations"], calls["write_operations"]
    assert calls["writes"] == 0, calls["write_operations"]
    assert "not listed   oncall@example.com: kept, they still get the alerts" in output, output[-4000:]

    proc, calls = run_playbook("playbooks/site.yml", json.dumps({"trailwatch_purge_subscriptions": True}), reset=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert _endpoints(moto_endpoint) == []
    assert calls["write_operations"] == ["sns:Unsubscribe"], calls["write_operations"]
    assert "changed      topic" in output, output[-4000:]
