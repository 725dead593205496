#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: trail_bucket
short_description: The hardened S3 bucket a CloudTrail trail delivers its log files to
version_added: 0.1.0
description:
  - Creates or converges an S3 bucket for CloudTrail log files, secure by default and not configurable
    otherwise, all four public access blocks on, versioning enabled, default encryption SSE-KMS with the
    given key (S3 Bucket Key on), object ownership C(BucketOwnerEnforced), and a bucket policy that lets
    only the named trail check the ACL and write under C(AWSLogs/<account>/) and denies every request that
    does not use TLS.
  - With O(state=absent) the bucket is emptied (every object version and delete marker) and deleted. This
    deletes log data, so the roles only do it when the user asks to purge.
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

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.trailwatch.aws.plugins.module_utils._common import TrailWatchError
from ansible_collections.trailwatch.aws.plugins.module_utils._common import caller_identity
from ansible_collections.trailwatch.aws.plugins.module_utils._kms import resolve_key_arn
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import log_bucket_policy
from ansible_collections.trailwatch.aws.plugins.module_utils._s3 import ensure_bucket_absent
from ansible_collections.trailwatch.aws.plugins.module_utils._s3 import ensure_bucket_present
from ansible_collections.trailwatch.aws.plugins.module_utils._s3 import read_bucket


def _key_arn(module, key_id):
    """ARNs are used as given (no API call); anything else is resolved, a missing key is fatal outside check mode."""
    if key_id.startswith("arn:") and ":key/" in key_id:
        return key_id
    arn = resolve_key_arn(module.client("kms"), key_id)
    if arn is None and not module.check_mode:
        module.fail_json(msg=f"kms_key_id: no KMS key answers to '{key_id}' in {module.region}; create it first")
    return arn


def main():
    argument_spec = dict(
        state=dict(choices=["present", "absent"], default="present"),
        name=dict(),
        name_prefix=dict(),
        trail_name=dict(),
        key_prefix=dict(no_log=False),
        kms_key_id=dict(),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[["name", "name_prefix"]],
        required_one_of=[["name", "name_prefix"]],
        required_if=[["state", "present", ["trail_name", "kms_key_id"]]],
    )
    params = module.params
    s3 = module.client("s3")
    try:
        account, partition = caller_identity(module.client("sts"))
        name = params["name"] or f"{params['name_prefix']}-{account}-{module.region}"
        before = read_bucket(s3, name)
        result = {}
        if params["state"] == "absent":
            changed, deleted = ensure_bucket_absent(s3, before, name, module.check_mode)
            after = None
            if changed and deleted is not None:
                result["objects_deleted"] = deleted
        else:
            policy = log_bucket_policy(
                partition, module.region, account, params["trail_name"], name, params["key_prefix"]
            )
            changed, after = ensure_bucket_present(
                s3,
                before,
                name,
                module.region,
                _key_arn(module, params["kms_key_id"]),
                policy,
                params["tags"] or {},
                params["purge_tags"] if params["tags"] is not None else False,
                module.check_mode,
            )
    except TrailWatchError as e:
        module.fail_json_aws_error(e)

    module.exit_json(changed=changed, bucket=after, diff={"before": before or {}, "after": after or {}}, **result)


if __name__ == "__main__":
    main()
