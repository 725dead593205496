"""_iam with botocore's Stubber: reading the role CloudTrail assumes, in both policy document encodings."""

import datetime
import json
from urllib.parse import quote

import pytest
from botocore.handlers import json_decode_policies

from ansible_collections.trailwatch.aws.plugins.module_utils import _iam
from ansible_collections.trailwatch.aws.plugins.module_utils import _policies

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = "trailwatch-cloudtrail-to-logs"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
TRUST = _policies.cloudtrail_role_trust_policy()
PERMISSIONS = _policies.cloudtrail_role_permissions_policy("aws", REGION, ACCOUNT, "aws-cloudtrail-logs-trailwatch")
TAGS = {"team": "security"}


def encoded(document):
    """How the IAM API itself sends a policy document: URL-encoded JSON."""
    return quote(json.dumps(document))


def aws_role(trust):
    return {
        "Path": "/",
        "RoleName": ROLE,
        "RoleId": "AROAEXAMPLEEXAMPLE1",
        "Arn": ROLE_ARN,
        "CreateDate": datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC),
        "AssumeRolePolicyDocument": trust,
        "Tags": [{"Key": "team", "Value": "security"}],
    }


@pytest.fixture
def iam(stubbed):
    return stubbed("iam")


@pytest.fixture
def raw_iam(stubbed):
    """An IAM client without botocore's decoding hook: policy documents arrive as the API sends them."""
    client, stub = stubbed("iam")
    client.meta.events.unregister("after-call.iam", json_decode_policies)
    return client, stub


def stub_read(stub):
    stub.add_response("get_role", {"Role": aws_role(encoded(TRUST))}, {"RoleName": ROLE})
    stub.add_response(
        "get_role_policy",
        {"RoleName": ROLE, "PolicyName": _iam.INLINE_POLICY_NAME, "PolicyDocument": encoded(PERMISSIONS)},
        {"RoleName": ROLE, "PolicyName": _iam.INLINE_POLICY_NAME},
    )


EXPECTED = {"name": ROLE, "arn": ROLE_ARN, "trust_policy": TRUST, "permissions_policy": PERMISSIONS, "tags": TAGS}


@pytest.mark.parametrize(
    "value, document",
    [
        (TRUST, TRUST),
        (encoded(TRUST), TRUST),
        (json.dumps(TRUST), TRUST),
        (
            quote(json.dumps({"Statement": [{"Resource": "arn:aws:logs:*:*:log-group:a b"}]})),
            {"Statement": [{"Resource": "arn:aws:logs:*:*:log-group:a b"}]},
        ),
    ],
    ids=["dict", "url-encoded", "plain-json", "encoded-space"],
)
def test_document_decoding(value, document):
    assert _iam._document(value) == document


def test_read_role_decodes_url_encoded_documents(raw_iam):
    client, stub = raw_iam
    stub_read(stub)
    assert _iam.read_role(client, ROLE) == EXPECTED


def test_read_role_with_documents_boto3_already_decoded(iam):
    client, stub = iam
    stub.add_response("get_role", {"Role": aws_role(encoded(TRUST))}, {"RoleName": ROLE})
    assert client.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"] == TRUST  # botocore's hook decoded it
    stub_read(stub)
    assert _iam.read_role(client, ROLE) == EXPECTED


def test_read_role_of_a_missing_role_is_none(iam):
    client, stub = iam
    stub.add_client_error(
        "get_role",
        "NoSuchEntity",
        f"The role with name {ROLE} cannot be found.",
        404,
        expected_params={"RoleName": ROLE},
    )
    assert _iam.read_role(client, ROLE) is None


def test_read_role_without_its_inline_policy(iam):
    client, stub = iam
    stub.add_response("get_role", {"Role": aws_role(encoded(TRUST))}, {"RoleName": ROLE})
    stub.add_client_error("get_role_policy", "NoSuchEntity", "not found", 404)
    assert _iam.read_role(client, ROLE) == dict(EXPECTED, permissions_policy=None)


def test_up_to_date_role_makes_no_write_call(iam):
    client, stub = iam
    stub_read(stub)
    current = _iam.read_role(client, ROLE)
    changed, after, parts = _iam.ensure_role_present(
        client, current, ROLE, ROLE_ARN, TRUST, PERMISSIONS, TAGS, True, False
    )
    assert (changed, parts) == (False, [])
    assert after == EXPECTED


def test_missing_inline_policy_is_put_back(iam):
    client, stub = iam
    stub.add_response(
        "put_role_policy",
        {},
        {"RoleName": ROLE, "PolicyName": _iam.INLINE_POLICY_NAME, "PolicyDocument": json.dumps(PERMISSIONS)},
    )
    changed, _unused, _unused = _iam.ensure_role_present(
        client, dict(EXPECTED, permissions_policy=None), ROLE, ROLE_ARN, TRUST, PERMISSIONS, TAGS, True, False
    )
    assert changed is True


def test_new_role_reports_created(iam, record_operations):
    client, stub = iam
    calls = record_operations(client)
    stub.add_response("create_role", {"Role": aws_role(encoded(TRUST))}, None)
    stub.add_response("put_role_policy", {}, None)
    changed, after, parts = _iam.ensure_role_present(
        client, None, ROLE, "predicted", TRUST, PERMISSIONS, TAGS, True, False
    )
    assert (changed, parts) == (True, ["created"])
    assert after["arn"] == ROLE_ARN
    assert calls == ["CreateRole", "PutRolePolicy"]


def test_new_role_in_check_mode_makes_no_call(iam):
    client, _unused = iam
    changed, after, parts = _iam.ensure_role_present(client, None, ROLE, ROLE_ARN, TRUST, PERMISSIONS, TAGS, True, True)
    assert (changed, parts) == (True, ["created"])
    assert after == EXPECTED


def test_absent_deletes_inline_policy_then_role(iam, record_operations):
    client, stub = iam
    calls = record_operations(client)
    stub.add_client_error("delete_role_policy", "NoSuchEntity", "already gone", 404)
    stub.add_response("delete_role", {}, {"RoleName": ROLE})
    assert _iam.ensure_role_absent(client, EXPECTED, ROLE, False).changed is True
    assert calls == ["DeleteRolePolicy", "DeleteRole"]
    assert _iam.ensure_role_absent(client, None, ROLE, False).changed is False


# What TrailWatch wrote before: the trust limited to the trail with aws:SourceArn, which this role's trust policy
# does not support (CloudTrail User Guide, "Role policy document for CloudTrail to use CloudWatch Logs for
# monitoring"; prowler issue 4714: delivery to CloudWatch Logs broke after adding it).
OLDER_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "TrailWatchCloudTrailAssume",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceArn": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/trailwatch"}},
        }
    ],
}


def test_trust_of_an_older_stack_is_repaired_once(iam, record_operations):
    client, stub = iam
    calls = record_operations(client)
    stub.add_response("update_assume_role_policy", {}, {"RoleName": ROLE, "PolicyDocument": json.dumps(TRUST)})
    older = dict(EXPECTED, trust_policy=OLDER_TRUST)
    changed, after, _created = _iam.ensure_role_present(
        client, older, ROLE, ROLE_ARN, TRUST, PERMISSIONS, TAGS, True, False
    )
    assert changed is True and after["trust_policy"] == TRUST
    # The next run finds the repaired trust: nothing to do.
    changed, _after, _created = _iam.ensure_role_present(
        client, dict(EXPECTED), ROLE, ROLE_ARN, TRUST, PERMISSIONS, TAGS, True, False
    )
    assert changed is False
    assert calls == ["UpdateAssumeRolePolicy"]
    assert all("Condition" not in statement for statement in TRUST["Statement"])
