"""Shared by the module tests: modules run in-process with dummy credentials and no AWS setup of the machine."""

import json

import pytest
from ansible.module_utils.common import warnings as ansible_warnings
from moto import mock_aws
from ansible.module_utils.testing import patch_module_args

from ansible_collections.trailwatch.aws.plugins.module_utils._run import TrailWatchModule

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch, tmp_path):
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def mocked_aws():
    """moto's mock_aws for the whole test (the module runs in-process against it)."""
    with mock_aws():
        yield


@pytest.fixture
def run_module(capsys, monkeypatch):
    """run_module(main, args, check_mode=False) -> the module's JSON result (failed results included)."""

    def _run(main, args, check_mode=False):
        args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=True)
        # Warnings are collected process-wide; each run starts with none, as a real module process does.
        monkeypatch.setattr(ansible_warnings, "_global_warnings", {})
        monkeypatch.setattr(ansible_warnings, "_global_deprecations", {})
        with patch_module_args(args), pytest.raises(SystemExit):
            main()
        return json.loads(capsys.readouterr().out)

    return _run


@pytest.fixture
def module_calls(monkeypatch):
    """module_calls(names=None) -> a list that fills with the operations (among names) the modules' clients call."""
    recorders = []

    def record(model, **_kwargs):
        for names, calls in recorders:
            if names is None or model.name in names:
                calls.append(model.name)

    original = TrailWatchModule.client

    def client(self, *args, **kwargs):
        conn = original(self, *args, **kwargs)
        conn.meta.events.register("before-parameter-build.*.*", record)
        return conn

    monkeypatch.setattr(TrailWatchModule, "client", client)

    def start(names=None):
        calls = []
        recorders.append((set(names) if names else None, calls))
        return calls

    return start
