#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: trail_bucket
short_description: The hardened S3 bucket a CloudTrail trail delivers its log files to
version_added: 0.1.0
deprecated:
  removed_in: 2.0.0
  why: >-
    No role, playbook or scenario uses it; M(trailwatch.aws.trail) manages the same bucket together with the trail,
    also for organization trails.
  alternative: Use M(trailwatch.aws.trail) (O(trailwatch.aws.trail#module:s3_bucket_name_prefix)).
description:
  - Creates or converges an S3 bucket for CloudTrail log files, secure by default and not configurable
    otherwise, all four public access blocks on, versioning enabled, default encryption SSE-KMS with the
    given key (S3 Bucket Key on), object ownership C(BucketOwnerEnforced), and a bucket policy that lets
    only the named trail check the ACL and write under C(AWSLogs/<account>/) and denies every request that
    does not use TLS.
  - With O(state=absent) the bucket is emptied (every object version and delete marker) and deleted. This
    deletes log data, so the roles only do it when the user asks to purge.
  - It does not write the statement an organization trail needs (C(AWSLogs/o-ORGID/*)); M(trailwatch.aws.trail)
    with O(trailwatch.aws.trail#module:organization_trail=true) does.
  - Why not M(amazon.aws.s3_bucket)? It needs about 12 API calls to find that nothing changed, where this
    module needs 7, and it does not build the CloudTrail statements.
author:
  - TrailWatch contributors (@trailwatch)
options:
  state:
    description: Whether the bucket should exist (V(present)) or be emptied and deleted (V(absent)).
    type: str
    choices: [present, absent]
    default: present
  name:
    description:
      - Bucket name. Mutually exclusive with O(name_prefix).
    type: str
  name_prefix:
    description:
      - Builds the bucket name as C(<name_prefix>-<account id>-<region>), unique per account and region.
    type: str
  trail_name:
    description: Name of the trail (in the module's region) allowed to write to the bucket.
    type: str
  key_prefix:
    description: Prefix of the trail's log files in the bucket, if the trail uses one.
    type: str
  kms_key_id:
    description:
      - Key that encrypts new objects by default; key ARN, key id or alias name. Required with O(state=present).
      - In check mode a key that does not exist yet is accepted, since an earlier task would create it.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags.modules
  - amazon.aws.boto3
  - trailwatch.aws._attributes
"""

EXAMPLES = r"""
- name: Trail log files land in a private, encrypted, TLS-only bucket
  trailwatch.aws.trail_bucket:
    name_prefix: trailwatch-logs
    trail_name: trailwatch
    kms_key_id: alias/trailwatch
    region: eu-west-1

- name: Log bucket and every log file in it are deleted (only when purging)
  trailwatch.aws.trail_bucket:
    state: absent
    name: trailwatch-logs-123456789012-eu-west-1
"""

RETURN = r"""
bucket:
  description: The bucket as it is after the run (as predicted in check mode); null once deleted.
  returned: always
  type: dict
  contains:
    name:
      description: Bucket name.
      type: str
      sample: trailwatch-logs-123456789012-eu-west-1
    policy:
      description: The bucket policy.
      type: dict
    public_access_block:
      description: The four public access block flags.
      type: dict
    versioning:
      description: Versioning status.
      type: str
      sample: Enabled
    encryption:
      description: Default encryption (C(sse_algorithm), C(kms_key_id), C(bucket_key_enabled)).
      type: dict
    object_ownership:
      description: Object ownership setting.
      type: str
      sample: BucketOwnerEnforced
    tags:
      description: The bucket's tags.
      type: dict
objects_deleted:
  description: With O(state=absent), how many object versions and delete markers were deleted.
  returned: when the bucket was deleted
  type: int
  sample: 42
"""

from ansible_collections.trailwatch.aws.plugins.module_utils._run import TrailWatchModule

from ansible_collections.trailwatch.aws.plugins.module_utils._kms import resolve_key_arn
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import log_bucket_policy
from ansible_collections.trailwatch.aws.plugins.module_utils._run import TAG_OPTIONS
from ansible_collections.trailwatch.aws.plugins.module_utils._run import ModuleRun
from ansible_collections.trailwatch.aws.plugins.module_utils._run import UsageError
from ansible_collections.trailwatch.aws.plugins.module_utils._run import run_module
from ansible_collections.trailwatch.aws.plugins.module_utils._s3 import ensure_bucket_absent
from ansible_collections.trailwatch.aws.plugins.module_utils._s3 import ensure_bucket_present
from ansible_collections.trailwatch.aws.plugins.module_utils._s3 import read_bucket


def _key_arn(run, key_id):
    """ARNs are used as given (no API call); anything else is resolved, a missing key is fatal outside check mode."""
    if key_id.startswith("arn:") and ":key/" in key_id:
        return key_id
    arn = resolve_key_arn(run.clients["kms"], key_id)
    if arn is None and not run.check:
        raise UsageError(f"kms_key_id: no KMS key answers to '{key_id}' in {run.region}; create it first")
    return arn


def _converge(run):
    """The trail module's managed-bucket path (read_bucket, ensure_bucket_present/absent).

    Returns (changed, before, after, extra return values)."""
    p = run.p
    s3 = run.clients["s3"]
    name = p["name"] or f"{p['name_prefix']}-{run.account}-{run.region}"
    before = read_bucket(s3, name)
    if p["state"] == "absent":
        removed, deleted = ensure_bucket_absent(s3, before, name, run.check)
        extra = {"objects_deleted": deleted} if removed.changed and deleted is not None else {}
        return removed.changed, before, None, extra
    policy = log_bucket_policy(run.partition, run.region, run.account, p["trail_name"], name, p["key_prefix"])
    key_arn = _key_arn(run, p["kms_key_id"])
    changed, after, _parts = ensure_bucket_present(
        s3, before, name, run.region, key_arn, policy, run.tags, run.purge_tags, run.check
    )
    return changed, before, after, {}


def main():
    argument_spec = dict(
        state=dict(choices=["present", "absent"], default="present"),
        name=dict(),
        name_prefix=dict(),
        trail_name=dict(),
        key_prefix=dict(no_log=False),
        kms_key_id=dict(),
        **TAG_OPTIONS,
    )
    module = TrailWatchModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[["name", "name_prefix"]],
        required_one_of=[["name", "name_prefix"]],
        required_if=[["state", "present", ["trail_name", "kms_key_id"]]],
    )
    changed, before, after, extra = run_module(module, lambda: _converge(ModuleRun(module)))
    module.exit_json(changed=changed, bucket=after, diff={"before": before or {}, "after": after or {}}, **extra)


if __name__ == "__main__":
    main()
