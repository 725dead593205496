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
import os
import runpy
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "helpers"))
# tests/unit/plugins/conftest.py makes ansible_collections.trailwatch importable
runpy.run_path(str(REPO / "tests" / "unit" / "plugins" / "conftest.py"))

import moto_stand  # noqa: E402
from ansible_collections.trailwatch.aws.plugins.module_utils import _coverage as coverage  # noqa: E402

pytestmark = pytest.mark.integration

REGION = "eu-west-1"  # the region run_playbook deploys to
CIS = ["s3_bucket_created", "cis"]
ARTICLE = {
    "trailwatch_read_write_type": "WriteOnly",
    "trailwatch_exclude_management_event_sources": ["kms.amazonaws.com", "rdsdata.amazonaws.com"],
}
S3_GET = '{ ($.eventSource = "s3.amazonaws.com") && ($.eventName = "GetObject") }'


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
    cloudtrail = boto3.client(
        "cloudtrail",
        region_name=REGION,
        endpoint_url=moto_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    trail = cloudtrail.get_trail(Name="trailwatch")["Trail"]
    selectors = cloudtrail.get_event_selectors(TrailName="trailwatch")
    assert selectors["EventSelectors"] == [
        {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}
    ]
    # the trail as deployed, read back, feeds every watch deployed on its log group (the coverage check's own API)
    logs = boto3.client(
        "logs",
        region_name=REGION,
        endpoint_url=moto_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    filters = logs.describe_metric_filters(logGroupName="aws-cloudtrail-logs-trailwatch")["metricFilters"]
    assert len(filters) == 15
    recording = coverage.recording_from_trail(
        trail,
        selectors.get("EventSelectors") or [],
        selectors.get("AdvancedEventSelectors") or [],
    )
    watches = [{"name": f["filterName"], "pattern": f["filterPattern"]} for f in filters]
    assert coverage.coverage_report(watches, recording)["errors"] == []


@pytest.fixture
def run_on_existing_trail(moto_endpoint):
    """Someone else's trail with the given selectors, then site.yml with trailwatch_trail_create: false, recorded."""

    def run(selectors, extra_vars):
        moto_stand.reset(moto_endpoint)
        env = dict(
            os.environ,
            AWS_ENDPOINT_URL=moto_endpoint,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION=REGION,
            ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections"),
            ANSIBLE_NOCOLOR="1",
        )
        env.pop("AWS_PROFILE", None)
        helper = REPO / "tests" / "helpers" / "existing_trail.py"
        subprocess.run(
            [sys.executable, str(helper), "create", "--region", REGION], env=env, check=True, capture_output=True
        )
        cloudtrail = boto3.client(
            "cloudtrail",
            region_name=REGION,
            endpoint_url=moto_endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        cloudtrail.put_event_selectors(TrailName="org-baseline-trail", **selectors)
        moto_stand.record_start(moto_endpoint)
        extra = dict(extra_vars, trailwatch_trail_create=False, trailwatch_log_group_name="org-baseline/cloudtrail")
        proc = subprocess.run(
            [
                str(Path(sys.executable).parent / "ansible-playbook"),
                str(REPO / "playbooks" / "site.yml"),
                "-e",
                json.dumps(extra),
            ],
            cwd=REPO,
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return proc, moto_stand.record_stop(moto_endpoint)

    return run


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
    run_on_existing_trail, selectors, settings
):
    proc, calls = run_on_existing_trail(selectors, {"trailwatch_watch_presets": CIS})
    text = output(proc)
    assert proc.returncode != 0, text[-3000:]
    assert "Watches the existing trail cannot feed" in text
    assert "Watch kms-key-disabled-or-deleted: trail org-baseline-trail" in text
    for setting in settings:
        assert setting in text, setting
    assert calls["writes"] == 0, calls["write_operations"]
    assert "cloudtrail:GetEventSelectors" in calls["operations"]
