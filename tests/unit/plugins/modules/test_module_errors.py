"""The read-only and drill modules end through _run.run_module like every module: an AWS error from a call they make
themselves is reported with what was being done and the AWS error code (fail_json_aws)."""

import runpy
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

runpy.run_path(str(Path(__file__).resolve().parent.parent / "conftest.py"))

from ansible_collections.trailwatch.aws.plugins.modules import alert_chain_info  # noqa: E402
from ansible_collections.trailwatch.aws.plugins.modules import drill_probe  # noqa: E402


def _refused(*_args, **_kwargs):
    raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "DescribeAlarms")


CASES = [
    (
        drill_probe,
        "_Drill.alarm",
        {
            "action": "start",
            "topic_name": "trailwatch-alerts",
            "alarm_name": "trailwatch-s3-bucket-created",
            "queue_name": "trailwatch-drill-abcd1234",
            "bucket_name": "trailwatch-canary-abcd1234",
        },
        "TrailWatch drill, step start",
    ),
    (
        alert_chain_info,
        "read_chain",
        {
            "log_group_name": "trailwatch",
            "topic_name": "trailwatch-alerts",
            "name_prefix": "trailwatch",
            "watches": [{"name": "s3-bucket-created", "pattern": '{ ($.eventName = "CreateBucket") }'}],
        },
        "TrailWatch doctor: read the alert chain",
    ),
]


@pytest.mark.parametrize("module, target, args, doing", CASES, ids=["drill_probe", "alert_chain_info"])
def test_an_aws_error_of_the_modules_own_calls_fails_with_what_was_done_and_the_code(
    run_module, mocked_aws, monkeypatch, module, target, args, doing
):
    owner, _dot, name = target.rpartition(".")
    monkeypatch.setattr(getattr(module, owner) if owner else module, name, _refused)
    if module is drill_probe:  # the drill reads the alarm once the topic exists
        boto3.client("sns", region_name="us-east-1").create_topic(Name="trailwatch-alerts")
    result = run_module(module.main, args)
    assert result["failed"]
    assert result["msg"].startswith(doing + ": "), result["msg"]
    assert result["error"]["code"] == "AccessDenied"
