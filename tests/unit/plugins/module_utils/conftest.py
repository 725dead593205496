"""Fixtures for the module_utils unit tests: stubbed boto3 clients, no real sleeping, a fake clock.

Every AWS call goes through botocore's ``Stubber`` on a real boto3 client: nothing reaches the network, the
request parameters are checked against the botocore model and an unexpected call fails the test.
"""

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils import cloud

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


@pytest.fixture
def stubbed():
    """Factory: ``client, stubber = stubbed("kms")``; every queued response must be used by the end of the test."""
    stubbers = []

    def make(service, region=REGION):
        client = boto3.session.Session().client(
            service, region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        stubber = Stubber(client)
        stubber.activate()
        stubbers.append(stubber)
        return client, stubber

    yield make
    for stubber in stubbers:
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
