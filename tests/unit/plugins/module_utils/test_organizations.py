"""_organizations with botocore's Stubber: an organization trail only from the management account (issue 12, item 8).

CloudTrail keeps the management account as the owner of an organization trail that a delegated administrator
creates (CloudTrail User Guide, "Organization delegated administrator"), while TrailWatch builds the trail ARN,
the key's encryption-context pattern and the bucket's AWSLogs/<account> path from the account it runs in. moto has
no delegated administrator whose DescribeOrganization answers from a member account: the Stubber shows it.
"""

import pytest

from ansible_collections.trailwatch.aws.plugins.module_utils import _organizations

MANAGEMENT = "111111111111"
DELEGATED = "222222222222"
ORG = "o-a1b2c3d4e5"


def organization(master):
    return {
        "Organization": {
            "Id": ORG,
            "Arn": f"arn:aws:organizations::{master}:organization/{ORG}",
            "FeatureSet": "ALL",
            "MasterAccountArn": f"arn:aws:organizations::{master}:account/{ORG}/{master}",
            "MasterAccountId": master,
            "MasterAccountEmail": "root@example.com",
        }
    }


@pytest.fixture
def organizations(stubbed):
    return stubbed("organizations")


def test_management_account_gets_the_organization_id(organizations):
    client, stub = organizations
    stub.add_response("describe_organization", organization(MANAGEMENT), {})
    assert _organizations.organization_trail_id(client, MANAGEMENT) == ORG


def test_delegated_administrator_is_refused(organizations):
    client, stub = organizations
    stub.add_response("describe_organization", organization(MANAGEMENT), {})
    with pytest.raises(_organizations.OrganizationsError) as raised:
        _organizations.organization_trail_id(client, DELEGATED)
    message = str(raised.value)
    assert message.startswith("trailwatch_organization_trail: account 222222222222 is not the management account")
    assert f"credentials of account {MANAGEMENT}" in message and "trailwatch_organization_trail: false" in message


def test_account_outside_any_organization_gets_the_aws_error(organizations):
    client, stub = organizations
    stub.add_client_error("describe_organization", "AWSOrganizationsNotInUseException", "not in an organization", 400)
    with pytest.raises(_organizations.OrganizationsError, match="read the organization"):
        _organizations.organization_trail_id(client, DELEGATED)
