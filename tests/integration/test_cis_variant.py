"""The CloudTrail.1 / CIS 3.1 variant: read and write management events, nothing excluded.

site.yml with trailwatch_read_write_type=All and no excluded event sources deploys against the moto_server, then
tests/helpers/stack_checks.py checks the whole stack for that variant (--read-write-type All, --exclude '' for
"no exclusions") and every check must be ok.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import moto_stand

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"  # the region run_playbook deploys to
CIS_VARS = {"trailwatch_read_write_type": "All", "trailwatch_exclude_management_event_sources": []}


def test_cis_variant_records_all_management_events(run_playbook, moto_endpoint):
    proc, _calls = run_playbook("playbooks/site.yml", json.dumps(CIS_VARS))
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-5000:]

    env = moto_stand.playbook_env(moto_endpoint, REGION)
    checks = subprocess.run(
        [
            sys.executable,
            str(REPO / "tests" / "helpers" / "stack_checks.py"),
            "--expect",
            "present",
            "--region",
            REGION,
            "--read-write-type",
            "All",
            "--exclude",
            "",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert checks.returncode == 0, checks.stdout + checks.stderr
    results = json.loads(checks.stdout)
    assert results
    failed = [check for check in results if not check["ok"]]
    assert not failed, json.dumps(failed, indent=1)
    names = [check["check"] for check in results]
    assert "trail records All management events" in names, names
