"""Many accounts as a platform team runs them (issue 14): a profile plus AssumeRole, nothing secret in the output at
-vvv, and check mode looking at each target account (one deployment serves the three checks).

Two accounts on one moto_server (AssumeRole into account N acts in account N). The caller's credentials come from a
profile only (AWS_PROFILE exported, as the README's real-account step does, and the profile named in
trailwatch_aws_connection, as its many-accounts example does): amazon.aws refuses a profile next to keys, so the
assumed role's keys must replace it. The run deploys the notifier with its lock link, so that the SSM lock secret
exists too; then its -vvv output is searched for every secret the run handled: each account's temporary secret key
and session token, and each lock secret.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

import moto_stand

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ACCOUNTS = {"account-a": "111111111111", "account-b": "222222222222"}
REGION = "eu-west-1"


def _role(account):
    return f"arn:aws:iam::{account}:role/TrailWatchDeployer"


@pytest.fixture
def stand(moto_endpoint, tmp_path):
    """The moto_server, reset, with an inventory of two accounts and a profile holding the caller's keys."""
    moto_stand.reset(moto_endpoint)
    hosts = "\n".join(f"    {host}:\n      trailwatch_assume_role_arn: {_role(a)}" for host, a in ACCOUNTS.items())
    (tmp_path / "accounts.yml").write_text(
        "all:\n  vars:\n    ansible_connection: local\n"
        '    ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
        f"    trailwatch_region: {REGION}\n  hosts:\n{hosts}\n"
    )
    (tmp_path / "config").write_text(f"[profile org-security]\nregion = {REGION}\n")
    (tmp_path / "credentials").write_text(
        "[org-security]\naws_access_key_id = testing\naws_secret_access_key = caller-secret-never-printed\n"
    )
    (tmp_path / "secrets").mkdir()
    return moto_endpoint, tmp_path


def _env(endpoint, tmp_path, profile):
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_REGION=REGION, ANSIBLE_NOCOLOR="1")
    env["ANSIBLE_COLLECTIONS_PATH"] = str(REPO / ".venv" / "collections")
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ):
        env.pop(name, None)
    if profile:
        env.update(
            AWS_CONFIG_FILE=str(tmp_path / "config"),
            AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
            AWS_PROFILE="org-security",
        )
    else:
        env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    return env


def _play(stand, playbook, *args, profile=True):
    endpoint, tmp_path = stand
    return subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(tmp_path / "accounts.yml"), str(REPO / playbook), *args],
        cwd=REPO,
        env=_env(endpoint, tmp_path, profile),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _recap(output):
    """{host: (changed, failed)} from the PLAY RECAP."""
    recap = {}
    for line in output.split("PLAY RECAP")[-1].splitlines():
        parts = line.split()
        if parts and parts[0] in ACCOUNTS:
            fields = dict(p.split("=") for p in parts[2:] if "=" in p)
            recap[parts[0]] = (int(fields["changed"]), int(fields["failed"]))
    return recap


def _lock_secret(endpoint, account):
    caller = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    creds = boto3.client("sts", endpoint_url=endpoint, region_name=REGION, **caller).assume_role(
        RoleArn=_role(account), RoleSessionName="test"
    )["Credentials"]
    ssm = boto3.client(
        "ssm",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    return ssm.get_parameter(Name="/trailwatch/lock-link-secret", WithDecryption=True)["Parameter"]["Value"]


def test_profile_and_assumed_role_deploy_every_account_no_secret_is_printed_check_mode_reads_each(stand):
    endpoint, tmp_path = stand
    connection = {"profile": "org-security", "endpoint_url": endpoint}
    extra = {
        "trailwatch_aws_connection": connection,
        "trailwatch_notifier": True,
        "trailwatch_lock_link": True,
        "trailwatch_test_secrets_dir": str(tmp_path / "secrets"),
    }
    proc = _play(stand, "tests/integration/playbooks/site_keeping_credentials.yml", "-vvv", "-e", json.dumps(extra))
    output = proc.stdout + proc.stderr
    assert "Passing both a profile and access tokens is not supported" not in output
    assert proc.returncode == 0, output[-5000:]
    assert _recap(output) == {host: (_recap(output)[host][0], 0) for host in ACCOUNTS}

    secrets = {"the caller's secret key": "caller-secret-never-printed"}
    for host, account in ACCOUNTS.items():
        used = json.loads((tmp_path / "secrets" / f"{host}.json").read_text())
        assert used["profile"] == "" and used["endpoint_url"] == endpoint  # the profile gave way to the role's keys
        secrets[f"{host} secret key"] = used["secret_key"]
        secrets[f"{host} session token"] = used["session_token"]
        secrets[f"{host} lock secret"] = _lock_secret(endpoint, account)
    assert all(len(value) >= 16 for value in secrets.values()), secrets
    printed = [name for name, value in secrets.items() if value in output]
    assert not printed, f"printed at -vvv: {printed}"

    # Check mode looks at each target account. The caller's own account (123456789012 on moto) has no TrailWatch: a
    # dry run that looked there would predict a full creation. Each target account is deployed: nothing to predict.
    proc = _play(stand, "playbooks/site.yml", "--check", profile=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert _recap(proc.stdout) == {host: (0, 0) for host in ACCOUNTS}, proc.stdout[-3000:]
    assert proc.stdout.count("would create nothing") == len(ACCOUNTS), proc.stdout[-3000:]
    for account in ACCOUNTS.values():
        assert f"arn:aws:cloudtrail:{REGION}:{account}:trail/trailwatch" in proc.stdout
    proc = _play(stand, "playbooks/teardown.yml", "--check", profile=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert proc.stdout.count("notifier_function, notifier_role") == len(ACCOUNTS), proc.stdout[-3000:]
    assert proc.stdout.count("topic, watch:s3-bucket-created, trail, role") == len(ACCOUNTS), proc.stdout[-3000:]
