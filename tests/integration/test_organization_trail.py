"""trailwatch_organization_trail: the trail is an organization trail, and the bucket and role allow the members."""

import json
import subprocess
import sys
from pathlib import Path

import boto3
import moto_stand  # tests/helpers, put on sys.path by conftest.py
import pytest

REPO = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"


def _playbook(endpoint, extra_vars):
    env = moto_stand.playbook_env(endpoint, REGION)
    command = [str(Path(sys.executable).parent / "ansible-playbook"), str(REPO / "playbooks/site.yml")]
    return subprocess.run(
        command + ["-e", json.dumps(extra_vars)],
        cwd=REPO,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.integration
def test_organization_trail(moto_endpoint):
    moto_stand.reset(moto_endpoint)
    session = boto3.session.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")

    def client(name):
        return session.client(name, endpoint_url=moto_endpoint)

    org_id = client("organizations").create_organization(FeatureSet="ALL")["Organization"]["Id"]

    first = _playbook(moto_endpoint, {"trailwatch_organization_trail": True})
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    again = _playbook(moto_endpoint, {"trailwatch_organization_trail": True})
    assert again.returncode == 0 and "changed=0 " in again.stdout, again.stdout[-3000:]

    trail = client("cloudtrail").get_trail(Name="trailwatch")["Trail"]
    assert trail["IsOrganizationTrail"] is True

    bucket = f"trailwatch-logs-123456789012-{REGION}"
    policy = json.loads(client("s3").get_bucket_policy(Bucket=bucket)["Policy"])
    write = next(s for s in policy["Statement"] if s["Sid"] == "TrailWatchCloudTrailWrite")
    assert sorted(write["Resource"]) == sorted(
        [f"arn:aws:s3:::{bucket}/AWSLogs/123456789012/*", f"arn:aws:s3:::{bucket}/AWSLogs/{org_id}/*"]
    )

    role_policy = client("iam").get_role_policy(
        RoleName="trailwatch-cloudtrail-to-logs", PolicyName="trailwatch-cloudtrail-to-logs"
    )["PolicyDocument"]
    streams = role_policy["Statement"][0]["Resource"]
    group = f"arn:aws:logs:{REGION}:123456789012:log-group:aws-cloudtrail-logs-trailwatch"
    assert sorted(streams) == sorted(
        [f"{group}:log-stream:123456789012_CloudTrail_{REGION}*", f"{group}:log-stream:{org_id}_*"]
    )
