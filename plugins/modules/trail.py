#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: trail
short_description: A multi-region CloudTrail trail with everything it needs, KMS key, log bucket, log group and role
version_added: 0.1.0
description:
  - Manages everything a trail needs, in this order, the customer managed KMS key (found by its alias, policy of
    M(trailwatch.aws.trail_key), rotation on), the hardened S3 log bucket (as M(trailwatch.aws.trail_bucket)
    makes it), the CloudWatch Logs group (encrypted with the key, with retention), the IAM role CloudTrail assumes
    to write to it (trusted by CloudTrail without conditions, which this role's trust policy does not support;
    permissions limited to the trail's log streams) and the trail
    itself (multi-region, global service events, log file validation, SSE-KMS, logging on) with its management
    event selectors set explicitly.
  - One invocation for all of it, because each module invocation costs about a second while the API calls cost
    milliseconds; each resource's logic lives in its service's module_utils, shared with the single-resource modules.
  - An existing key (O(kms_key_id)) or bucket (O(manage_s3_bucket=false)) is not otherwise changed, but the statements
    CloudTrail and CloudWatch Logs need are merged into its policy by C(Sid), C(TrailWatch<Role>For<Trail>) (the trail
    name in letters and digits), keeping every other statement as it is, also those of other TrailWatch installs
    sharing the bucket or key; with O(state=absent) only this trail's statements are removed again. Statements an
    older version wrote without the trail in their Sid (C(TrailWatchCloudTrailWrite)) are taken over by the trail
    they name. A key policy is never written without a statement that lets the account root manage the key.
  - A role created in the same run takes seconds to propagate in IAM; real CloudTrail answers
    C(InvalidCloudWatchLogsRoleArnException) meanwhile. The module retries such answers for up to two minutes.
  - With O(state=absent) the trail and the role are deleted. Log data is kept unless O(purge_data=true), which
    also deletes the log group, empties and deletes the managed bucket and schedules the managed key's deletion.
  - Why not M(amazon.aws.cloudtrail)? It cannot set event selectors, and it looks trails up with
    C(DescribeTrails), which picks the wrong trail when a second trail exists on some endpoints. This module
    uses C(GetTrail). M(amazon.aws.kms_key) and M(amazon.aws.s3_bucket) need about 15 and 12 API calls to find
    that nothing changed, where this module needs 5 and 6.
author:
  - TrailWatch contributors (@trailwatch)
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
  kms_key_alias:
    description:
      - Alias (C(alias/...)) of the customer managed key TrailWatch manages for the trail and the log group.
      - Mutually exclusive with O(kms_key_id). One of them is required with O(state=present).
    type: str
  kms_key_id:
    description:
      - An existing customer managed key to use (key ARN, key id or alias); the statements CloudTrail and CloudWatch
        Logs need are merged into its key policy (as M(trailwatch.aws.resource_policy_statements) does).
    type: str
  kms_key_deletion_window_days:
    description: Waiting period of the managed key's scheduled deletion when purging.
    type: int
    default: 30
  s3_bucket_name:
    description: Bucket the trail delivers its log files to. Mutually exclusive with O(s3_bucket_name_prefix).
    type: str
  s3_bucket_name_prefix:
    description: Builds the bucket name as C(<prefix>-<account id>-<region>).
    type: str
  manage_s3_bucket:
    description:
      - Whether TrailWatch creates and hardens the bucket. With V(false) the bucket must exist; only TrailWatch's
        statements are merged into its policy.
    type: bool
    default: true
  s3_key_prefix:
    description: Prefix of the log files in the bucket.
    type: str
  organization_trail:
    description:
      - Make the trail an organization trail, with the bucket statement for C(AWSLogs/o-ORGID/*) and the role
        permission for the member accounts' log streams.
      - Run from the organization's management account. Any other account (also a CloudTrail delegated
        administrator) is refused before anything is changed, because CloudTrail keeps the management account as the
        owner of an organization trail that a delegated administrator creates.
    type: bool
    default: false
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
  purge_data:
    description:
      - With O(state=absent), also delete the log group, empty and delete the managed bucket (every object version)
        and schedule the deletion of the managed key.
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
    kms_key_alias: alias/trailwatch
    s3_bucket_name_prefix: trailwatch-logs
    log_group_name: aws-cloudtrail-logs-trailwatch
    role_name: trailwatch-cloudtrail-to-logs
    exclude_management_event_sources: [kms.amazonaws.com, rdsdata.amazonaws.com]
    region: eu-west-1

- name: Trail records all management events (CIS 3.1) into an existing bucket
  trailwatch.aws.trail:
    name: trailwatch
    kms_key_alias: alias/trailwatch
    s3_bucket_name: corp-cloudtrail-logs
    manage_s3_bucket: false
    log_group_name: aws-cloudtrail-logs-trailwatch
    role_name: trailwatch-cloudtrail-to-logs
    read_write_type: All

- name: Trail and role are gone, log data and key too
  trailwatch.aws.trail:
    state: absent
    name: trailwatch
    kms_key_alias: alias/trailwatch
    s3_bucket_name_prefix: trailwatch-logs
    log_group_name: aws-cloudtrail-logs-trailwatch
    role_name: trailwatch-cloudtrail-to-logs
    purge_data: true
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
kms_key:
  description:
    - The key (key_id, key_arn, account, partition, description, key_manager, key_state, enabled, policy,
      rotation_enabled, tags, and alias when managed); rotation_enabled and tags are null for a key given with
      O(kms_key_id), whose policy only TrailWatch reads; key_arn is null in check mode before the key exists; null
      once scheduled for deletion.
  returned: always
  type: dict
s3_bucket:
  description:
    - The bucket (name, policy, public_access_block, versioning, encryption, object_ownership, tags) when managed,
      else its name and policy; null once deleted.
  returned: always
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
objects_deleted:
  description: With O(purge_data), how many object versions and delete markers were deleted.
  returned: when the bucket was purged
  type: int
"""

from ansible_collections.trailwatch.aws.plugins.module_utils._run import TrailWatchModule

from ansible_collections.trailwatch.aws.plugins.module_utils._cloudtrail import ensure_trail_absent
from ansible_collections.trailwatch.aws.plugins.module_utils._cloudtrail import ensure_trail_present
from ansible_collections.trailwatch.aws.plugins.module_utils._cloudtrail import event_selectors
from ansible_collections.trailwatch.aws.plugins.module_utils._cloudtrail import read_trail
from ansible_collections.trailwatch.aws.plugins.module_utils._cloudtrail import trail_settings
from ansible_collections.trailwatch.aws.plugins.module_utils._iam import ensure_role_absent
from ansible_collections.trailwatch.aws.plugins.module_utils._iam import ensure_role_present
from ansible_collections.trailwatch.aws.plugins.module_utils._iam import read_role
from ansible_collections.trailwatch.aws.plugins.module_utils._kms import ensure_key_absent
from ansible_collections.trailwatch.aws.plugins.module_utils._kms import ensure_key_present
from ansible_collections.trailwatch.aws.plugins.module_utils._kms import read_managed_key
from ansible_collections.trailwatch.aws.plugins.module_utils._kms import unusable
from ansible_collections.trailwatch.aws.plugins.module_utils._logs import retention_problem
from ansible_collections.trailwatch.aws.plugins.module_utils._logs import delete_log_group
from ansible_collections.trailwatch.aws.plugins.module_utils._logs import ensure_log_group_present
from ansible_collections.trailwatch.aws.plugins.module_utils._logs import read_log_group
from ansible_collections.trailwatch.aws.plugins.module_utils._organizations import organization_trail_id
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import BYO_BUCKET_ROLES
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import BYO_KEY_LEGACY_ROLES
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import BYO_KEY_ROLES
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import byo_bucket_statements
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import byo_key_statements
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import cloudtrail_role_permissions_policy
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import cloudtrail_role_trust_policy
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import kms_key_policy
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import log_bucket_policy
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import log_group_arn
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import trail_arn
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import InstallOwnership
from ansible_collections.trailwatch.aws.plugins.module_utils._resource_policies import ensure_statements
from ansible_collections.trailwatch.aws.plugins.module_utils._resource_policies import read_resource
from ansible_collections.trailwatch.aws.plugins.module_utils._s3 import ensure_bucket_absent
from ansible_collections.trailwatch.aws.plugins.module_utils._s3 import ensure_bucket_present
from ansible_collections.trailwatch.aws.plugins.module_utils._run import TAG_OPTIONS
from ansible_collections.trailwatch.aws.plugins.module_utils._run import ModuleRun
from ansible_collections.trailwatch.aws.plugins.module_utils._run import UsageError
from ansible_collections.trailwatch.aws.plugins.module_utils._run import converge_module
from ansible_collections.trailwatch.aws.plugins.module_utils._s3 import read_bucket

KEY_DESCRIPTION = "TrailWatch CloudTrail and CloudWatch Logs encryption"


class _Run(ModuleRun):
    """One invocation of the trail module: ModuleRun with the trail's and log group's ARNs."""

    def __init__(self, module):
        super().__init__(module)
        self.extra = {}
        self._org_id = None

    # The account is known only once the first read has answered (learn_identity), hence properties.
    @property
    def org_id(self):
        if self._org_id is None and self.p["organization_trail"]:
            self._org_id = organization_trail_id(self.clients["organizations"], self.account)
        return self._org_id

    @property
    def trail_arn(self):
        return trail_arn(self.partition, self.region, self.account, self.p["name"])

    @property
    def group_arn(self):
        return log_group_arn(self.partition, self.region, self.account, self.p["log_group_name"])

    def owner(self, roles, legacy_roles=None):
        """This trail's statements in a bucket or key policy shared with other TrailWatch installs."""
        identities = (self.trail_arn, self.group_arn)
        return InstallOwnership(self.p["name"], roles, roles if legacy_roles is None else legacy_roles, identities)

    @property
    def bucket_name(self):
        return self.p["s3_bucket_name"] or f"{self.p['s3_bucket_name_prefix']}-{self.account}-{self.region}"


def _read(run):
    """Everything the trail module converges. The key behind our alias and the role read by name are the caller's
    own account's, so their ARNs give the account the bucket name and the policies need without a
    GetCallerIdentity call on a re-run (ModuleRun.learn_identity); a key given by ARN may be another account's."""
    p = run.p
    if p["kms_key_alias"]:
        key = read_managed_key(run.clients["kms"], p["kms_key_alias"])
        run.learn_identity(key and key["key_arn"])
    else:
        key = read_resource(run.clients["kms"], "kms_key", p["kms_key_id"]) if p["kms_key_id"] else None
    role = read_role(run.clients["iam"], p["role_name"])
    run.learn_identity(role and role["arn"])
    if not _bucket_named(p):
        bucket = None
    elif p["manage_s3_bucket"]:
        bucket = read_bucket(run.clients["s3"], run.bucket_name)
    else:
        bucket = read_resource(run.clients["s3"], "s3_bucket", run.bucket_name)
    return {
        "kms_key": key,
        "s3_bucket": bucket,
        "log_group": read_log_group(run.clients["logs"], p["log_group_name"]),
        "role": role,
        "trail": read_trail(run.clients["cloudtrail"], p["name"]),
    }


def _bucket_named(p):
    return bool(p["s3_bucket_name"] or p["s3_bucket_name_prefix"])


def _key(run, before):
    """The key ARN the trail and log group use: the managed key's, or the given key's."""
    p = run.p
    if p["kms_key_alias"]:
        policy = kms_key_policy(run.partition, run.region, run.account, p["name"], p["log_group_name"])
        changed, key, _parts = ensure_key_present(
            run.clients["kms"],
            before,
            p["kms_key_alias"],
            KEY_DESCRIPTION,
            policy,
            run.tags,
            run.purge_tags,
            run.check,
            tagging=run.clients["resourcegroupstaggingapi"] if before is None else None,
        )
        run.changed("kms_key", changed)
        return key["key_arn"], key
    if before is None:
        raise UsageError(
            f"kms_key_id: no KMS key answers to '{p['kms_key_id']}' in {run.region}; give an existing customer "
            "managed key, or let TrailWatch create one with kms_key_alias"
        )
    reason = unusable(before)
    if reason == "aws_managed":
        raise UsageError(
            f"kms_key_id: '{p['kms_key_id']}' is an AWS managed key, whose policy cannot grant CloudTrail; give a"
            " customer managed key, or let TrailWatch create one with kms_key_alias"
        )
    if reason == "pending_deletion":
        raise UsageError(
            f"kms_key_id: '{p['kms_key_id']}' ({before['key_arn']}) is pending deletion and can encrypt nothing;"
            " cancel the key deletion, give another customer managed key, or let TrailWatch create one with"
            " kms_key_alias"
        )
    statements = byo_key_statements(run.partition, run.region, run.account, p["name"], p["log_group_name"])
    owner = run.owner(BYO_KEY_ROLES, BYO_KEY_LEGACY_ROLES)
    merged = ensure_statements(run.clients["kms"], "kms_key", before, statements, owner, run.check)
    run.changed("kms_key:policy", merged["changed"])
    return before["key_arn"], dict(before, policy=merged["policy"])


def _bucket(run, before, key_arn):
    if not run.p["manage_s3_bucket"]:
        if before is None:
            raise UsageError(
                f"s3_bucket_name: bucket {run.bucket_name} does not exist or is not readable; create it first "
                "or let TrailWatch manage it (manage_s3_bucket: true)"
            )
        statements = byo_bucket_statements(
            run.partition, run.region, run.account, run.p["name"], run.bucket_name, run.p["s3_key_prefix"], run.org_id
        )
        owner = run.owner(BYO_BUCKET_ROLES)
        merged = ensure_statements(run.clients["s3"], "s3_bucket", before, statements, owner, run.check)
        run.changed("s3_bucket:policy", merged["changed"])
        return {"name": run.bucket_name, "policy": merged["policy"]}
    policy = log_bucket_policy(
        run.partition, run.region, run.account, run.p["name"], run.bucket_name, run.p["s3_key_prefix"], run.org_id
    )
    changed, bucket, _parts = ensure_bucket_present(
        run.clients["s3"], before, run.bucket_name, run.region, key_arn, policy, run.tags, run.purge_tags, run.check
    )
    run.changed("s3_bucket", changed)
    return bucket


def _present(run, before):
    p = run.p
    key_arn, key = _key(run, before["kms_key"])
    bucket = _bucket(run, before["s3_bucket"], key_arn)

    changed, log_group, _parts = ensure_log_group_present(
        run.clients["logs"],
        before["log_group"],
        p["log_group_name"],
        run.group_arn,
        key_arn,
        p["log_retention_days"],
        run.tags,
        run.purge_tags,
        run.check,
    )
    run.changed("log_group", changed)

    changed, role, _parts = ensure_role_present(
        run.clients["iam"],
        before["role"],
        p["role_name"],
        f"arn:{run.partition}:iam::{run.account}:role/{p['role_name']}",
        cloudtrail_role_trust_policy(),
        cloudtrail_role_permissions_policy(run.partition, run.region, run.account, p["log_group_name"], run.org_id),
        run.tags,
        run.purge_tags,
        run.check,
    )
    run.changed("role", changed)

    settings = trail_settings(
        p["name"], run.bucket_name, p["s3_key_prefix"], key_arn, run.group_arn, role["arn"], p["organization_trail"]
    )
    selectors = event_selectors(p["read_write_type"], p["exclude_management_event_sources"])
    result = ensure_trail_present(
        run.clients["cloudtrail"],
        before["trail"],
        settings,
        selectors,
        run.trail_arn,
        run.tags,
        run.purge_tags,
        run.check,
    )
    run.changes.extend(f"trail:{part}" for part in result.parts)
    trail = result.after
    if result.changed and not run.check:
        # Re-read after a write (docs/architecture.md, "The ensure_* contract"): AWS decides part of the trail.
        # CreateTrail's answer has no home region, and CloudTrail keeps the settings in its own form (read_trail
        # reads an S3KeyPrefix removed with UpdateTrail as None, however it comes back); the logging status and the
        # event selectors come with the one reader. (Should the read not find the trail yet, the prediction stands.)
        # The key, log group and role are reported as written: their writes, with CreateKey's and CreateRole's
        # answers (key ID, key ARN, role ARN), determine every field their readers report. So is the bucket: a new
        # bucket's object ownership is AWS's documented default (BucketOwnerEnforced), and S3 bucket configuration
        # is eventually consistent, so a bucket read right after its writes could report less than was written.
        trail = read_trail(run.clients["cloudtrail"], p["name"]) or trail
    return {"trail": trail, "kms_key": key, "s3_bucket": bucket, "log_group": log_group, "role": role}


def _absent(run, before):
    """Trail and role go; log data (log group, bucket, key) only when purging, and only what TrailWatch manages."""
    p = run.p
    run.changed("trail", ensure_trail_absent(run.clients["cloudtrail"], before["trail"], p["name"], run.check))
    run.changed("role", ensure_role_absent(run.clients["iam"], before["role"], p["role_name"], run.check))
    after = dict(before, trail=None, role=None)
    # Someone else's bucket and key only lose the statements TrailWatch added, purge or not.
    if not p["manage_s3_bucket"] and before["s3_bucket"]:
        owner = run.owner(BYO_BUCKET_ROLES)
        removed = ensure_statements(run.clients["s3"], "s3_bucket", before["s3_bucket"], [], owner, run.check)
        run.changed("s3_bucket:policy", removed["changed"])
        after["s3_bucket"] = dict(before["s3_bucket"], policy=removed["policy"])
    if p["kms_key_id"] and before["kms_key"]:
        owner = run.owner(BYO_KEY_ROLES, BYO_KEY_LEGACY_ROLES)
        removed = ensure_statements(run.clients["kms"], "kms_key", before["kms_key"], [], owner, run.check)
        run.changed("kms_key:policy", removed["changed"])
        after["kms_key"] = dict(before["kms_key"], policy=removed["policy"])
    if not p["purge_data"]:
        return after
    if before["log_group"]:
        run.changed("log_group", True)
        after["log_group"] = None
        if not run.check:
            delete_log_group(run.clients["logs"], p["log_group_name"])
    if p["manage_s3_bucket"] and _bucket_named(p):
        removed, deleted = ensure_bucket_absent(run.clients["s3"], before["s3_bucket"], run.bucket_name, run.check)
        run.changed("s3_bucket", removed)
        if removed.changed:
            after["s3_bucket"] = None
            if deleted is not None:
                run.extra["objects_deleted"] = deleted
    if p["kms_key_alias"]:
        changed = ensure_key_absent(
            run.clients["kms"],
            before["kms_key"],
            p["kms_key_alias"],
            p["kms_key_deletion_window_days"],
            run.check,
            tagging=run.clients["resourcegroupstaggingapi"] if before["kms_key"] is None else None,
        )
        run.changed("kms_key", changed)
        if changed.changed:
            after["kms_key"] = None
    return after


def _validate(module):
    p = module.params
    problem = retention_problem("log_retention_days", p["log_retention_days"])
    if problem:
        module.fail_json(msg=problem)
    alias = p["kms_key_alias"]
    if alias and (not alias.startswith("alias/") or alias.startswith("alias/aws/")):
        module.fail_json(
            msg="kms_key_alias must start with 'alias/' and must not be an AWS managed alias (alias/aws/...)"
        )
    if not 7 <= p["kms_key_deletion_window_days"] <= 30:
        module.fail_json(msg="kms_key_deletion_window_days must be between 7 and 30 (KMS's limits)")
    if p["state"] == "present" and not _bucket_named(p):
        module.fail_json(msg="one of s3_bucket_name or s3_bucket_name_prefix is required with state=present")


def main():
    argument_spec = dict(
        state=dict(choices=["present", "absent"], default="present"),
        name=dict(required=True),
        kms_key_alias=dict(no_log=False),
        kms_key_id=dict(no_log=False),
        kms_key_deletion_window_days=dict(type="int", default=30, no_log=False),
        s3_bucket_name=dict(),
        s3_bucket_name_prefix=dict(),
        manage_s3_bucket=dict(type="bool", default=True),
        s3_key_prefix=dict(no_log=False),
        organization_trail=dict(type="bool", default=False),
        log_group_name=dict(required=True),
        log_retention_days=dict(type="int", default=365),
        role_name=dict(required=True),
        read_write_type=dict(choices=["WriteOnly", "ReadOnly", "All"], default="WriteOnly"),
        exclude_management_event_sources=dict(type="list", elements="str", default=[]),
        purge_data=dict(type="bool", default=False),
        **TAG_OPTIONS,
    )
    module = TrailWatchModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[["kms_key_alias", "kms_key_id"], ["s3_bucket_name", "s3_bucket_name_prefix"]],
        required_if=[["state", "present", ["kms_key_alias", "kms_key_id"], True]],
    )
    _validate(module)
    converge_module(
        module, _Run, _read, _present, _absent, "Cannot merge this trail's statements into a policy it shares"
    )


if __name__ == "__main__":
    main()
