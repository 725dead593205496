"""A moto_server shared by the playbook-level tests, with its request recorder."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "helpers"))

import moto_stand  # noqa: E402


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory):
    state = tmp_path_factory.mktemp("moto")
    endpoint = moto_stand.start(state)
    yield endpoint
    moto_stand.stop(state)


@pytest.fixture
def run_playbook(moto_endpoint):
    """Runs a playbook of this repository against the moto_server; returns (completed process, recorded calls)."""

    def run(playbook, extra_vars, setup=None, reset=True):
        """setup(env), if given, prepares the account after the reset and before the recording starts;
        reset=False keeps what earlier runs (and the test) left on the stand."""
        if reset:
            moto_stand.reset(moto_endpoint)
        env = moto_stand.playbook_env(moto_endpoint)
        if setup is not None:
            setup(env)
        moto_stand.record_start(moto_endpoint)
        bin_dir = Path(sys.executable).parent
        proc = subprocess.run(
            [str(bin_dir / "ansible-playbook"), str(REPO / playbook), "-e", extra_vars],
            cwd=REPO,
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return proc, moto_stand.record_stop(moto_endpoint)

    return run


def pytest_configure(config):
    config.addinivalue_line("markers", "integration: runs playbooks against a local moto_server")
