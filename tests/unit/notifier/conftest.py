"""pytest setup for the notifier Lambda code: import path, dummy AWS credentials, clean caches.

The Lambda sources live in ``roles/notifier/files/lambda`` (deployed as one zip); they are put on ``sys.path`` so
the tests import them the way the Lambda runtime does (``import notifier``, ``import lock``).
Every test runs with dummy credentials in us-east-1 and without ``AWS_ENDPOINT_URL*``: moto's in-process mock
(``moto.mock_aws``) must intercept the calls, never a moto_server or a real endpoint left in the environment.
"""

import os
import runpy
import sys
from pathlib import Path

import pytest

# The state table comes from the module's own spec (plugins/module_utils/_dynamodb.py): make it importable.
runpy.run_path(str(Path(__file__).resolve().parents[1] / "plugins" / "conftest.py"))

LAMBDA_DIR = Path(__file__).resolve().parents[3] / "roles" / "notifier" / "files" / "lambda"
if str(LAMBDA_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDA_DIR))

import trailwatch_common

# Configuration of the two functions: each test starts without any of it and sets what it needs.
FUNCTION_ENV = (
    "TOPIC_ARN",
    "STATE_TABLE",
    "NOTIFY_LANGUAGE",
    "TAG_NEW_BUCKETS",
    "LOCK_LINK",
    "LOCK_URL",
    "LOCK_SECRET_PARAMETER",
    "LOCK_LINK_TTL_SECONDS",
    "LOCK_MODE",
    "LOCK_DAYS",
    "LOG_LEVEL",
)
UNSET = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN")


@pytest.fixture(autouse=True)
def aws_test_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name in UNSET or name in FUNCTION_ENV:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")  # the Lambda runtime sets it; a developer's shell must not leak in
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    trailwatch_common.reset_caches()
    yield
    trailwatch_common.reset_caches()
