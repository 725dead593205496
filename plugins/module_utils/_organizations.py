# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: the AWS Organizations facts an organization trail needs."""

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler

from ._common import TrailWatchError
from ._common import retry


class OrganizationsError(TrailWatchError):
    pass


class OrganizationsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = OrganizationsError


@OrganizationsErrorHandler.common_error_handler(
    "read the organization (an organization trail is created from the management account or a delegated "
    "administrator, with organizations:DescribeOrganization allowed)"
)
@retry()
def organization_id(client):
    """o-xxxxxxxxxx of the organization the caller's account belongs to."""
    return client.describe_organization()["Organization"]["Id"]
