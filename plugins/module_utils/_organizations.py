# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: the AWS Organizations facts an organization trail needs."""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler

from ._common import TrailWatchError
from ._common import retry


class OrganizationsError(TrailWatchError):
    pass


class OrganizationsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = OrganizationsError


@OrganizationsErrorHandler.common_error_handler(
    "read the organization (an organization trail is created from the organization's management account, "
    "with organizations:DescribeOrganization allowed)"
)
@retry()
def describe_organization(client: Any) -> Any:
    return client.describe_organization()["Organization"]


def organization_trail_id(client: Any, account: str) -> Any:
    """o-xxxxxxxxxx of the organization whose management account is ``account``; refuses any other account.

    CloudTrail keeps the management account as the owner of an organization trail that a delegated administrator
    creates (CloudTrail User Guide, "Organization delegated administrator"): its ARN, the key's encryption context
    and the bucket's AWSLogs/<account> path name the management account, while the log group, role, key and alarms
    TrailWatch manages would live in the caller's account. TrailWatch deploys organization trails from the
    management account only (docs/aws-rules.md).
    """
    organization = describe_organization(client)
    management = organization.get("MasterAccountId")
    if management != account:
        raise OrganizationsError(
            message=f"trailwatch_organization_trail: account {account} is not the management account ({management})"
            f" of organization {organization['Id']}; CloudTrail makes the management account the owner of an"
            " organization trail even when a delegated administrator creates it, so run TrailWatch with"
            f" credentials of account {management}, or set trailwatch_organization_trail: false"
        )
    return organization["Id"]
