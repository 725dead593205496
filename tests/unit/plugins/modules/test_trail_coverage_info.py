"""trailwatch.aws.trail_coverage_info run in-process against moto's mock_aws (and a denied GetEventSelectors).

Someone else's trail delivers to a log group; the module finds it, reads its selectors and names the watches it
cannot feed, with reads only.
"""

import json
import runpy
from pathlib import Path

import boto3
import pytest
import yaml
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args
from botocore.exceptions import ClientError
from moto import mock_aws

runpy.run_path(str(Path(__file__).resolve().parent.parent / "conftest.py"))

from ansible_collections.trailwatch.aws.plugins.module_utils._run import TrailWatchModule  # noqa: E402
from ansible_collections.trailwatch.aws.plugins.modules import trail_coverage_info  # noqa: E402

REGION = "us-east-1"  # tests/unit/plugins/modules/conftest.py
REPO = Path(__file__).resolve().parents[4]
PRESETS = yaml.safe_load((REPO / "roles" / "alerts" / "vars" / "main.yml").read_text())["trailwatch__presets"]
WATCHES = PRESETS["s3_bucket_created"] + PRESETS["cis"]
GROUP = "org/cloudtrail"
BLIND_ON_ARTICLE = {"root-account-used", "unauthorized-api-calls", "kms-key-disabled-or-deleted"}


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def operations(monkeypatch):
    """Every API operation the module's clients perform."""
    calls = []
    original = TrailWatchModule.client

    def client(self, *args, **kwargs):
        conn = original(self, *args, **kwargs)
        conn.meta.events.register("before-parameter-build.*.*", lambda model, **_kw: calls.append(model.name))
        return conn

    monkeypatch.setattr(TrailWatchModule, "client", client)
    return calls


@pytest.fixture
def run(capsys, monkeypatch):
    def _run(watches=WATCHES, check_mode=False, log_group=GROUP):
        args = dict(log_group_name=log_group, watches=watches, _ansible_check_mode=check_mode)
        monkeypatch.setattr(ansible_warnings, "_global_warnings", {})
        monkeypatch.setattr(ansible_warnings, "_global_deprecations", {})
        with patch_module_args(args), pytest.raises(SystemExit):
            trail_coverage_info.main()
        return json.loads(capsys.readouterr().out)

    return _run


def make_trail(name="org", log_group=GROUP, multi=True, selectors=None, advanced=None):
    """A log group (if missing), a bucket and a trail delivering to the group, with the given selectors."""
    logs = boto3.client("logs", region_name=REGION)
    if not logs.describe_log_groups(logGroupNamePrefix=log_group)["logGroups"]:
        logs.create_log_group(logGroupName=log_group)
    group_arn = logs.describe_log_groups(logGroupNamePrefix=log_group)["logGroups"][0]["arn"]
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=f"{name}-logs")
    cloudtrail = boto3.client("cloudtrail", region_name=REGION)
    cloudtrail.create_trail(
        Name=name,
        S3BucketName=f"{name}-logs",
        IsMultiRegionTrail=multi,
        IncludeGlobalServiceEvents=True,
        CloudWatchLogsLogGroupArn=group_arn,
        CloudWatchLogsRoleArn="arn:aws:iam::123456789012:role/org-cloudtrail-logs",
    )
    if selectors is not None:
        cloudtrail.put_event_selectors(TrailName=name, EventSelectors=selectors)
    if advanced is not None:
        cloudtrail.put_event_selectors(TrailName=name, AdvancedEventSelectors=advanced)


def blind(result):
    return {name for name, watch in result["watches"].items() if watch["status"] == "blind"}


ARTICLE = [
    {
        "ReadWriteType": "WriteOnly",
        "IncludeManagementEvents": True,
        "ExcludeManagementEventSources": ["kms.amazonaws.com", "rdsdata.amazonaws.com"],
    }
]


def test_article_settings_on_an_existing_trail_blind_three_cis_watches(aws, run, operations):
    make_trail(selectors=ARTICLE)
    result = run()
    assert result["changed"] is False
    assert blind(result) == BLIND_ON_ARTICLE
    assert [t["name"] for t in result["trails"]] == ["org"]
    assert result["trails"][0]["event_selectors"][0]["ReadWriteType"] == "WriteOnly"
    text = " ".join(result["errors"])
    assert "trail org: EventSelectors[0] ReadWriteType is WriteOnly" in text
    assert "ExcludeManagementEventSources excludes kms.amazonaws.com" in text
    assert sorted(set(operations)) == ["DescribeLogGroups", "DescribeTrails", "GetEventSelectors"]


def test_a_trail_recording_everything_feeds_every_watch(aws, run):
    make_trail(selectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}])
    result = run(check_mode=True)
    assert result["errors"] == [] and result["caveats"] == []
    assert {w["status"] for w in result["watches"].values()} == {"ok"}


def test_a_trail_without_selectors_records_aws_default(aws, run):
    """moto answers no selector at all for a new trail; AWS answers its default (All management events)."""
    make_trail()
    assert run()["errors"] == []


def test_advanced_selectors(aws, run):
    make_trail(
        advanced=[
            {
                "Name": "management writes",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Management"]},
                    {"Field": "readOnly", "Equals": ["false"]},
                    {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]},
                ],
            }
        ]
    )
    result = run()
    assert blind(result) == BLIND_ON_ARTICLE
    assert "AdvancedEventSelectors[0] (management writes) readOnly Equals false" in " ".join(result["errors"])


def test_single_region_trail(aws, run):
    make_trail(multi=False, selectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}])
    result = run(watches=PRESETS["s3_bucket_created"])
    assert blind(result) == {"s3-bucket-created"}
    assert "single-region trail" in result["errors"][0] and "--is-multi-region-trail" in result["errors"][0]


def test_a_data_watch_on_a_trail_without_data_events(aws, run):
    make_trail(selectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}])
    watch = {
        "name": "objects-read",
        "pattern": '{ ($.eventSource = "s3.amazonaws.com") && ($.eventName = "GetObject") }',
    }
    result = run(watches=[watch])
    assert blind(result) == {"objects-read"}
    accepted = run(watches=[dict(watch, accept_blind_spots=True)])
    assert accepted["errors"] == [] and accepted["watches"]["objects-read"]["status"] == "accepted"
    assert len(accepted["caveats"]) == 1


def test_several_trails_deliver_and_others_do_not_count(aws, run):
    make_trail("reads", selectors=[{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}])
    make_trail("writes", selectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}])
    make_trail("elsewhere", log_group="other/group", selectors=[{"ReadWriteType": "All"}])
    result = run()
    assert sorted(t["name"] for t in result["trails"]) == ["reads", "writes"]
    assert result["errors"] == []


def test_no_trail_and_no_log_group(aws, run):
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName=GROUP)
    result = run(watches=PRESETS["s3_bucket_created"])
    assert result["errors"] and "no trail delivers to log group org/cloudtrail" in result["errors"][0]
    result = run(watches=PRESETS["s3_bucket_created"], log_group="missing/group")
    assert "log group missing/group does not exist in us-east-1" in result["errors"][0]
    assert result["log_group_arn"] == "" and result["trails"] == []


def test_unreadable_selectors_are_a_caveat(aws, run, monkeypatch):
    """An organization trail seen from a member account, or a denied GetEventSelectors: TrailWatch cannot tell."""
    make_trail(selectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}])
    original = TrailWatchModule.client

    def client(self, service, *args, **kwargs):
        conn = original(self, service, *args, **kwargs)

        def deny(model, **_kwargs):
            if model.name == "GetEventSelectors":
                raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "denied"}}, model.name)

        conn.meta.events.register("before-call.*.*", deny)
        return conn

    monkeypatch.setattr(TrailWatchModule, "client", client)
    result = run(watches=PRESETS["s3_bucket_created"])
    assert result["errors"] == []
    assert result["watches"]["s3-bucket-created"]["status"] == "unknown"
    assert "could not be read" in result["caveats"][0]
    assert result["trails"][0]["event_selectors"] is None
