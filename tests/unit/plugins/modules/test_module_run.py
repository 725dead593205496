"""What every module invocation shares (_run.py): one boto3 session for all clients, the caller's identity learned
from an ARN the module reads anyway, and the trail module's re-run without sts:GetCallerIdentity."""

import boto3
import pytest

from ansible_collections.trailwatch.aws.plugins.module_utils import _run
from ansible_collections.trailwatch.aws.plugins.module_utils._run import ModuleRun
from ansible_collections.trailwatch.aws.plugins.module_utils._run import TrailWatchModule
from ansible_collections.trailwatch.aws.plugins.modules import trail

TRAIL_ARGS = {
    "name": "trailwatch",
    "s3_bucket_name_prefix": "trailwatch-logs",
    "kms_key_alias": "alias/trailwatch",
    "log_group_name": "aws-cloudtrail-logs-trailwatch",
    "role_name": "trailwatch-cloudtrail-to-logs",
}


class _Module:
    """What ModuleRun reads of a module; clients come from moto's mock through a plain boto3 session."""

    params = {}
    check_mode = False
    region = "us-east-1"

    def client(self, name):
        return boto3.session.Session().client(name, region_name=self.region)


@pytest.mark.parametrize(
    "arns, identity",
    [
        (["arn:aws:iam::111122223333:role/trailwatch-cloudtrail-to-logs"], ("111122223333", "aws")),
        (["arn:aws-cn:kms:cn-north-1:111122223333:key/1234abcd"], ("111122223333", "aws-cn")),
        (
            ["arn:aws-us-gov:iam::111122223333:role/r", "arn:aws:iam::444455556666:role/r"],
            ("111122223333", "aws-us-gov"),
        ),
        ([None, "arn:aws:iam::111122223333:role/r"], ("111122223333", "aws")),
        # Not an ARN, or an ARN without an account (an S3 bucket's): nothing learned, STS answers.
        (["alias/trailwatch", "arn:aws:s3:::bucket"], ("123456789012", "aws")),
        ([None], ("123456789012", "aws")),
    ],
)
def test_identity_comes_from_the_first_own_arn_else_from_sts(mocked_aws, module_calls, arns, identity):
    calls = module_calls()
    run = ModuleRun(_Module())
    sts_calls = []
    run.clients["sts"].meta.events.register("before-call.sts.*", lambda **kw: sts_calls.append(kw["model"].name))
    for arn in arns:
        run.learn_identity(arn)
    assert (run.account, run.partition) == identity
    assert (run.account, run.partition) == identity  # asked twice, answered once
    assert len(sts_calls) == (0 if identity[0] != "123456789012" else 1)
    assert calls == []  # _Module's clients are not the module's: nothing else was called


def test_trail_rerun_learns_the_account_from_its_key_and_role(mocked_aws, run_module, module_calls):
    calls = module_calls()
    first = run_module(trail.main, TRAIL_ARGS)
    assert first["changed"], first
    first_calls = list(calls)
    calls.clear()
    again = run_module(trail.main, TRAIL_ARGS)
    assert not again["changed"], again
    assert "GetCallerIdentity" in first_calls  # nothing existed yet: STS is asked
    assert "GetCallerIdentity" not in calls, calls
    assert again["trail"]["arn"].split(":")[4] == "123456789012"


def test_clients_of_one_invocation_share_one_session(mocked_aws, run_module, monkeypatch):
    sessions = []
    original = boto3.session.Session.__init__

    def counting(self, *args, **kwargs):
        sessions.append(kwargs.get("profile_name"))
        original(self, *args, **kwargs)

    monkeypatch.setattr(boto3.session.Session, "__init__", counting)
    result = run_module(trail.main, TRAIL_ARGS)
    assert result["changed"], result
    # The trail module uses kms, s3, logs, iam, cloudtrail, sts and the tagging API: one session for all.
    assert sessions == [None]


def test_a_client_has_the_collections_user_agent_and_the_endpoint_given(monkeypatch):
    made = {}

    class _Session:
        def __init__(self, profile_name=None):
            made["profile"] = profile_name

        def client(self, service, **kwargs):
            made.update(kwargs, service=service)
            return "client"

    monkeypatch.setattr(_run.boto3.session, "Session", _Session)
    module = TrailWatchModule.__new__(TrailWatchModule)
    module._sessions = {}
    monkeypatch.setattr(
        _run,
        "get_aws_connection_info",
        lambda _m: ("eu-west-1", "http://127.0.0.1:5000", {"profile_name": "audit", "aws_config": {"retries": {}}}),
    )
    assert module.client("sts") == "client"
    assert made["profile"] == "audit"
    assert (made["service"], made["region_name"], made["endpoint_url"]) == ("sts", "eu-west-1", "http://127.0.0.1:5000")
    assert "trailwatch.aws" in made["config"].user_agent_extra
    assert made["config"].retries == {}
