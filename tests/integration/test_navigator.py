"""`ansible-navigator run playbooks/site.yml --mode stdout --ee false` works with the project's settings (issue 14).

No container: ansible-navigator.yml points it at ansible.cfg (collections path, inventory) and turns off the
per-run artifact file. Against the moto_server, from the repository root with .venv's tools first on PATH, as after
`source .venv/bin/activate`.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import moto_stand

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_ansible_navigator_runs_site_without_a_container(moto_endpoint):
    moto_stand.reset(moto_endpoint)
    env = dict(
        os.environ,
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        AWS_ENDPOINT_URL=moto_endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="eu-west-1",
        ANSIBLE_NOCOLOR="1",
    )
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "ANSIBLE_COLLECTIONS_PATH",
        "ANSIBLE_CONFIG",
    ):
        env.pop(name, None)
    before = set((REPO / "playbooks").iterdir())
    proc = subprocess.run(
        [str(BIN / "ansible-navigator"), "run", "playbooks/site.yml", "--mode", "stdout", "--ee", "false"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert "localhost" in output and "failed=0" in output, output[-3000:]
    assert "trail        arn:aws:cloudtrail:eu-west-1:123456789012:trail/trailwatch" in output, output[-3000:]
    assert set((REPO / "playbooks").iterdir()) == before  # no playbook artifact left beside the playbook
