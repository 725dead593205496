#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: trail
short_description: A multi-region CloudTrail trail delivering to CloudWatch Logs, with explicit event selectors
version_added: 0.1.0
description:
  - Manages everything a trail needs to deliver to CloudWatch Logs, in this order, the log group
    (encrypted with the key, with retention), the IAM role CloudTrail assumes to write to it (trust limited to
    this trail, permissions limited to the trail's log streams) and the trail itself (multi-region, global
    service events, log file validation, SSE-KMS, logging on) with its management event selectors set
    explicitly.
  - A role created in the same run takes seconds to propagate in IAM; real CloudTrail answers
    C(InvalidCloudWatchLogsRoleArnException) meanwhile. The module retries such answers for up to two minutes.
  - With O(state=absent) the trail and the role are deleted. The log group (log data) is kept unless
    O(purge_log_group=true).
  - Why not M(amazon.aws.cloudtrail)? It cannot set event selectors, and it looks trails up with
    C(DescribeTrails), which picks the wrong trail when a second trail exists on some endpoints. This module
    uses C(GetTrail).
author:
  - TrailWatch contributors
options:
  state:
    description: Whether the trail should exist.
    type: str
    choices: [present, absent]
    default: present
  name:
    description: Trail name.
    type: str
    required: true
  s3_bucket_name:
    description: Bucket the trail delivers its log files to. Required with O(state=present).
    type: str
  s3_key_prefix:
    description: Prefix of the log files in the bucket.
    type: str
  kms_key_id:
    description:
      - Key that encrypts the log files and the log group; key ARN, key id or alias. Required with O(state=present).
    type: str
  log_group_name:
    description: CloudWatch Logs group the trail delivers to.
    type: str
    required: true
  log_retention_days:
    description: Retention of the log group, a value CloudWatch Logs accepts.
    type: int
    default: 365
  role_name:
    description: Name of the IAM role CloudTrail assumes to write to the log group.
    type: str
    required: true
  read_write_type:
    description: Which management events are recorded.
    type: str
    choices: [WriteOnly, ReadOnly, All]
    default: WriteOnly
  exclude_management_event_sources:
    description:
      - Event sources whose management events are not recorded, C(kms.amazonaws.com) and C(rdsdata.amazonaws.com).
    type: list
    elements: str
    default: []
  purge_log_group:
    description: With O(state=absent), also delete the log group and the log events in it.
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags.modules
  - amazon.aws.boto3
  - trailwatch.aws._attributes
"""

EXAMPLES = r"""
- name: Every region's write events reach CloudWatch Logs
  trailwatch.aws.trail:
    name: trailwatch
    s3_bucket_name: trailwatch-logs-123456789012-eu-west-1
    kms_key_id: alias/trailwatch
    log_group_name: aws-cloudtrail-logs-trailwatch
    role_name: trailwatch-cloudtrail-to-logs
    exclude_management_event_sources: [kms.amazonaws.com, rdsdata.amazonaws.com]
    region: eu-west-1

- name: Trail records all management events (CIS 3.1)
  trailwatch.aws.trail:
    name: trailwatch
    s3_bucket_name: trailwatch-logs-123456789012-eu-west-1
    kms_key_id: alias/trailwatch
    log_group_name: aws-cloudtrail-logs-trailwatch
    role_name: trailwatch-cloudtrail-to-logs
    read_write_type: All
"""

RETURN = r"""
trail:
  description: The trail after the run (as predicted in check mode); null once deleted.
  returned: always
  type: dict
  contains:
    name:
      description: Trail name.
      type: str
    arn:
      description: Trail ARN (home region).
      type: str
      sample: arn:aws:cloudtrail:eu-west-1:123456789012:trail/trailwatch
    settings:
      description: The CreateTrail parameters in force.
      type: dict
    is_logging:
      description: Whether the trail is logging.
      type: bool
    event_selectors:
      description: The event selectors.
      type: list
      elements: dict
    tags:
      description: The trail's tags.
      type: dict
log_group:
  description: The log group (name, arn, kms_key_id, retention_in_days, tags); null once deleted.
  returned: always
  type: dict
role:
  description: The IAM role (name, arn, trust_policy, permissions_policy, tags); null once deleted.
  returned: always
  type: dict
changes:
  description: Which parts changed, as C(<resource>) or C(<resource>:<part>).
  returned: always
  type: list
  elements: str
  sample: ["trail:event_selectors"]
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.trailwatch.aws.plugins.module_utils._cloudtrail import ensure_trail_absent
from ansible_collections.trailwatch.aws.plugins.module_utils._cloudtrail import ensure_trail_present
from ansible_collections.trailwatch.aws.plugins.module_utils._cloudtrail import event_selectors
from ansible_collections.trailwatch.aws.plugins.module_utils._cloudtrail import read_trail
from ansible_collections.trailwatch.aws.plugins.module_utils._cloudtrail import trail_settings
from ansible_collections.trailwatch.aws.plugins.module_utils._common import TrailWatchError
from ansible_collections.trailwatch.aws.plugins.module_utils._common import caller_identity
from ansible_collections.trailwatch.aws.plugins.module_utils._iam import ensure_role_absent
from ansible_collections.trailwatch.aws.plugins.module_utils._iam import ensure_role_present
from ansible_collections.trailwatch.aws.plugins.module_utils._iam import read_role
from ansible_collections.trailwatch.aws.plugins.module_utils._kms import resolve_key_arn
from ansible_collections.trailwatch.aws.plugins.module_utils._logs import RETENTION_DAYS
from ansible_collections.trailwatch.aws.plugins.module_utils._logs import delete_log_group
from ansible_collections.trailwatch.aws.plugins.module_utils._logs import ensure_log_group_present
from ansible_collections.trailwatch.aws.plugins.module_utils._logs import read_log_group
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import cloudtrail_role_permissions_policy
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import cloudtrail_role_trust_policy
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import log_group_arn
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import trail_arn


def _present(module, clients, account, partition, before):
    p = module.params
    region = module.region
    check = module.check_mode
    tags = p["tags"] or {}
    purge = p["purge_tags"] if p["tags"] is not None else False
    changes = []

    key_arn = p["kms_key_id"]
    if not (key_arn.startswith("arn:") and ":key/" in key_arn):
        key_arn = resolve_key_arn(clients["kms"], p["kms_key_id"])
        if key_arn is None and not check:
            module.fail_json(msg=f"kms_key_id: no KMS key answers to '{p['kms_key_id']}' in {region}; create it first")

    group_arn = log_group_arn(partition, region, account, p["log_group_name"])
    changed, log_group = ensure_log_group_present(
        clients["logs"],
        before["log_group"],
        p["log_group_name"],
        group_arn,
        key_arn,
        p["log_retention_days"],
        tags,
        purge,
        check,
    )
    if changed:
        changes.append("log_group")

    role_arn = f"arn:{partition}:iam::{account}:role/{p['role_name']}"
    changed, role, _created = ensure_role_present(
        clients["iam"],
        before["role"],
        p["role_name"],
        role_arn,
        cloudtrail_role_trust_policy(partition, region, account, p["name"]),
        cloudtrail_role_permissions_policy(partition, region, account, p["log_group_name"]),
        tags,
        purge,
        check,
    )
    if changed:
        changes.append("role")

    settings = trail_settings(p["name"], p["s3_bucket_name"], p["s3_key_prefix"], key_arn, group_arn, role["arn"])
    selectors = event_selectors(p["read_write_type"], p["exclude_management_event_sources"])
    changed, trail, parts = ensure_trail_present(
        clients["cloudtrail"],
        before["trail"],
        settings,
        selectors,
        trail_arn(partition, region, account, p["name"]),
        tags,
        purge,
        check,
    )
    changes.extend(f"trail:{part}" for part in parts)
    return changes, {"trail": trail, "log_group": log_group, "role": role}


def _absent(module, clients, before):
    p = module.params
    check = module.check_mode
    changes = []
    if ensure_trail_absent(clients["cloudtrail"], before["trail"], p["name"], check):
        changes.append("trail")
    if ensure_role_absent(clients["iam"], before["role"], p["role_name"], check):
        changes.append("role")
    after = {"trail": None, "role": None, "log_group": before["log_group"]}
    if p["purge_log_group"] and before["log_group"]:
        changes.append("log_group")
        after["log_group"] = None
        if not check:
            delete_log_group(clients["logs"], p["log_group_name"])
    return changes, after


def main():
    argument_spec = dict(
        state=dict(choices=["present", "absent"], default="present"),
        name=dict(required=True),
        s3_bucket_name=dict(),
        s3_key_prefix=dict(no_log=False),
        kms_key_id=dict(),
        log_group_name=dict(required=True),
        log_retention_days=dict(type="int", default=365),
        role_name=dict(required=True),
        read_write_type=dict(choices=["WriteOnly", "ReadOnly", "All"], default="WriteOnly"),
        exclude_management_event_sources=dict(type="list", elements="str", default=[]),
        purge_log_group=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[["state", "present", ["s3_bucket_name", "kms_key_id"]]],
    )
    if module.params["log_retention_days"] not in RETENTION_DAYS:
        module.fail_json(
            msg=f"log_retention_days: {module.params['log_retention_days']} is not a value CloudWatch Logs accepts; "
            f"use one of {', '.join(map(str, RETENTION_DAYS))}"
        )

    clients = {name: module.client(name) for name in ("logs", "iam", "cloudtrail", "kms")}
    try:
        before = {
            "log_group": read_log_group(clients["logs"], module.params["log_group_name"]),
            "role": read_role(clients["iam"], module.params["role_name"]),
            "trail": read_trail(clients["cloudtrail"], module.params["name"]),
        }
        if module.params["state"] == "absent":
            changes, after = _absent(module, clients, before)
        else:
            account, partition = caller_identity(module.client("sts"))
            changes, after = _present(module, clients, account, partition, before)
    except TrailWatchError as e:
        module.fail_json_aws_error(e)

    module.exit_json(changed=bool(changes), changes=changes, diff={"before": before, "after": after}, **after)


if __name__ == "__main__":
    main()
