"""Fixtures for the module_utils unit tests: stubbed boto3 clients, no real sleeping, a fake clock.

Every AWS call goes through botocore's ``Stubber`` on a real boto3 client: nothing reaches the network, the
request parameters are checked against the botocore model and an unexpected call fails the test.
"""

import importlib
import runpy
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

# tests/unit/plugins/conftest.py makes ansible_collections.trailwatch importable; pytest skips it when started
# from inside this directory (it only loads conftests below the rootdir), so run it here too (it is idempotent).
runpy.run_path(str(Path(__file__).resolve().parent.parent / "conftest.py"))
cloud = importlib.import_module("ansible_collections.amazon.aws.plugins.module_utils.cloud")

REGION = "us-east-1"
ACCOUNT = "123456789012"


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self, start=1000.0):
        self.now = start
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


class _SleepRecorder:
    """Replaces the ``time`` module inside amazon.aws's cloud.py: AWSRetry backoffs are recorded, not slept."""

    def __init__(self):
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch, tmp_path):
    """Dummy credentials and no user configuration, whatever the developer's shell holds."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture(autouse=True)
def retry_sleeps(monkeypatch):
    """AWSRetry sleeps through ``time.sleep`` in cloud.py: record the waits instead of waiting."""
    recorder = _SleepRecorder()
    monkeypatch.setattr(cloud, "time", recorder)
    return recorder


@pytest.fixture
def fake_clock():
    return FakeClock()


_SESSION = []


def _session():
    """One boto3 session for the whole run: clients share its loaded service models (each client still has its
    own event hooks, so a test that changes them changes nothing else). Created on first use, after aws_env."""
    if not _SESSION:
        _SESSION.append(boto3.session.Session())
    return _SESSION[0]


@pytest.fixture
def stubbed(request):
    """Factory: ``client, stubber = stubbed("kms")``; every queued response must be used by the end of the test.

    (Not checked for tests marked xfail: a known bug may stop the code before it uses what was queued.)
    """
    stubbers = []
    expect_failure = request.node.get_closest_marker("xfail") is not None

    def make(service, region=REGION):
        client = _session().client(
            service, region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        stubber = Stubber(client)
        stubber.activate()
        stubbers.append(stubber)
        return client, stubber

    yield make
    for stubber in stubbers:
        if not expect_failure:
            stubber.assert_no_pending_responses()
        stubber.deactivate()


@pytest.fixture
def record_operations():
    """``calls = record_operations(client)``: a list that fills with every operation name the client performs."""

    def start(client):
        calls = []

        def _record(model, **kwargs):
            calls.append(model.name)

        client.meta.events.register("before-parameter-build.*.*", _record)
        return calls

    return start
