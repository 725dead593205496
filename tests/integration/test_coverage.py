"""The coverage check through playbooks/site.yml (issue 12, item 2: watches the trail can never feed).

- The cis preset on the article's trail settings, set explicitly: the run fails before any AWS call, naming the
  variables and the watches.
- The cis preset with the trail settings left to TrailWatch: the trail records All management events, nothing
  excluded, and read back from moto it feeds every deployed watch.
- A watch on data events fails before any AWS call, naming the watch.
- Someone else's trail (trailwatch_trail_create: false) that drops what the cis watches count: the run fails after
  reading it, before any write call.
moto's request recorder proves "before any (write) call".
"""

import json
import runpy
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

REPO = Path(__file__).resolve().parents[2]
# tests/unit/plugins/conftest.py makes ansible_collections.trailwatch importable
runpy.run_path(str(REPO / "tests" / "unit" / "plugins" / "conftest.py"))

from ansible_collections.trailwatch.aws.plugins.module_utils import _coverage as coverage  # noqa: E402

pytestmark = pytest.mark.integration

REGION = "eu-west-1"  # the region run_playbook deploys to
CIS = ["s3_bucket_created", "cis"]
ARTICLE = {
    "trailwatch_read_write_type": "WriteOnly",
    "trailwatch_exclude_management_event_sources": ["kms.amazonaws.com", "rdsdata.amazonaws.com"],
}
S3_GET = '{ ($.eventSource = "s3.amazonaws.com") && ($.eventName = "GetObject") }'


def client(service, endpoint):
    return boto3.client(
        service, region_name=REGION, endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def output(proc):
    return proc.stdout + proc.stderr


def test_cis_on_the_article_settings_fails_before_any_call(run_playbook):
    proc, calls = run_playbook("playbooks/site.yml", json.dumps(dict(ARTICLE, trailwatch_watch_presets=CIS)))
    text = output(proc)
    assert proc.returncode != 0, text[-3000:]
    for needle in (
        "Watches the trail cannot feed",
        "Watch kms-key-disabled-or-deleted: trailwatch_exclude_management_event_sources excludes kms.amazonaws.com",
        "Watch unauthorized-api-calls: trailwatch_read_write_type is WriteOnly",
        "accept_blind_spots",
    ):
        assert needle in text, needle
    assert "Traceback" not in text
    assert calls["total"] == 0, calls["operations"]


def test_a_data_event_watch_fails_before_any_call(run_playbook):
    extra = {"trailwatch_watches": [{"name": "objects-read", "pattern": S3_GET}]}
    proc, calls = run_playbook("playbooks/site.yml", json.dumps(extra))
    text = output(proc)
    assert proc.returncode != 0, text[-3000:]
    assert "Watch objects-read: " in text and "data events" in text
    assert calls["total"] == 0, calls["operations"]


def test_cis_with_trailwatch_settings_ends_with_a_trail_that_feeds_every_watch(run_playbook, moto_endpoint):
    proc, _calls = run_playbook("playbooks/site.yml", json.dumps({"trailwatch_watch_presets": CIS}))
    assert proc.returncode == 0, output(proc)[-5000:]
    cloudtrail = client("cloudtrail", moto_endpoint)
    trail = cloudtrail.get_trail(Name="trailwatch")["Trail"]
    selectors = cloudtrail.get_event_selectors(TrailName="trailwatch")
    assert selectors["EventSelectors"] == [
        {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}
    ]
    # the trail as deployed, read back, feeds every watch deployed on its log group (the coverage check's own API)
    filters = client("logs", moto_endpoint).describe_metric_filters(logGroupName="aws-cloudtrail-logs-trailwatch")
    watches = [{"name": f["filterName"], "pattern": f["filterPattern"]} for f in filters["metricFilters"]]
    assert len(watches) == 15
    recording = coverage.recording_from_trail(trail, selectors["EventSelectors"], [])
    assert coverage.coverage_report(watches, recording)["errors"] == []


def existing_trail(endpoint, selectors):
    """run_playbook's setup: someone else's trail delivering to its own log group, with these selectors."""

    def setup(env):
        helper = REPO / "tests" / "helpers" / "existing_trail.py"
        subprocess.run(
            [sys.executable, str(helper), "create", "--region", REGION], env=env, check=True, capture_output=True
        )
        client("cloudtrail", endpoint).put_event_selectors(TrailName="org-baseline-trail", **selectors)

    return setup


EXISTING = {"trailwatch_trail_create": False, "trailwatch_log_group_name": "org-baseline/cloudtrail"}
EXISTING_CASES = [
    (
        "basic selectors",
        {
            "EventSelectors": [
                {
                    "ReadWriteType": "WriteOnly",
                    "IncludeManagementEvents": True,
                    "ExcludeManagementEventSources": ["kms.amazonaws.com"],
                }
            ]
        },
        ["EventSelectors[0] ReadWriteType is WriteOnly", "EventSelectors[0] ExcludeManagementEventSources excludes"],
    ),
    (
        "advanced selectors",
        {
            "AdvancedEventSelectors": [
                {
                    "Name": "writes",
                    "FieldSelectors": [
                        {"Field": "eventCategory", "Equals": ["Management"]},
                        {"Field": "readOnly", "Equals": ["false"]},
                        {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]},
                    ],
                }
            ]
        },
        ["AdvancedEventSelectors[0] (writes) readOnly Equals false", "eventSource NotEquals kms.amazonaws.com"],
    ),
]


@pytest.mark.parametrize("selectors, settings", [c[1:] for c in EXISTING_CASES], ids=[c[0] for c in EXISTING_CASES])
def test_an_existing_trail_that_drops_what_cis_counts_fails_before_any_write(
    run_playbook, moto_endpoint, selectors, settings
):
    extra = json.dumps(dict(EXISTING, trailwatch_watch_presets=CIS))
    proc, calls = run_playbook("playbooks/site.yml", extra, setup=existing_trail(moto_endpoint, selectors))
    text = output(proc)
    assert proc.returncode != 0, text[-3000:]
    assert "Watches the existing trail cannot feed" in text
    assert "Watch kms-key-disabled-or-deleted: trail org-baseline-trail" in text
    for setting in settings:
        assert setting in text, setting
    assert calls["writes"] == 0, calls["write_operations"]
    assert "cloudtrail:GetEventSelectors" in calls["operations"]
