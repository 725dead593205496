#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: trail_key
short_description: The customer managed KMS key that encrypts a CloudTrail trail and its log group
version_added: 0.1.0
deprecated:
  removed_in: 2.0.0
  why: >-
    No role, playbook or scenario uses it; M(trailwatch.aws.trail) manages the same key together with the trail.
  alternative: Use M(trailwatch.aws.trail) (O(trailwatch.aws.trail#module:kms_key_alias)).
description:
  - Creates or converges a symmetric customer managed KMS key, found by its alias, whose key policy lets
    CloudTrail encrypt the log files of one trail, lets principals of the account decrypt them, lets the
    regional CloudWatch Logs service encrypt one log group and lets CloudWatch alarms publish to a topic
    encrypted with the key. Key rotation is always enabled.
  - The key policy always keeps the account root statement; without it the key would be locked out.
  - With O(state=absent) the alias is deleted and the key is scheduled for deletion (never deleted at once).
  - Why not M(amazon.aws.kms_key)? It needs about 15 API calls to find that nothing changed, where this
    module needs 5, and it cannot build the CloudTrail and CloudWatch Logs statements for you.
author:
  - TrailWatch contributors (@trailwatch)
options:
  state:
    description: Whether the key should be usable (V(present)) or scheduled for deletion (V(absent)).
    type: str
    choices: [present, absent]
    default: present
  alias:
    description: The key's alias, C(alias/) included.
    type: str
    required: true
  trail_name:
    description: Name of the trail (in the module's region) allowed to encrypt with the key.
    type: str
    required: true
  log_group_name:
    description: Name of the CloudWatch Logs group allowed to use the key.
    type: str
    required: true
  description:
    description: Description given to a new key.
    type: str
    default: TrailWatch CloudTrail and CloudWatch Logs encryption
  deletion_window_days:
    description: Waiting period, in days, of a scheduled deletion.
    type: int
    default: 30
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags.modules
  - amazon.aws.boto3
  - trailwatch.aws._attributes
"""

EXAMPLES = r"""
- name: Trail logs are encrypted with a customer managed key
  trailwatch.aws.trail_key:
    alias: alias/trailwatch
    trail_name: trailwatch
    log_group_name: aws-cloudtrail-logs-trailwatch
    region: eu-west-1
    tags:
      team: platform

- name: Key is scheduled for deletion in 30 days
  trailwatch.aws.trail_key:
    state: absent
    alias: alias/trailwatch
    trail_name: trailwatch
    log_group_name: aws-cloudtrail-logs-trailwatch
"""

RETURN = r"""
key:
  description: The key as it is after the run (as predicted in check mode); null once scheduled for deletion.
  returned: always
  type: dict
  contains:
    key_id:
      description: Key id; null in check mode before the key exists.
      type: str
      sample: 1234abcd-12ab-34cd-56ef-1234567890ab
    key_arn:
      description: Key ARN; null in check mode before the key exists.
      type: str
      sample: arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    alias:
      description: The alias.
      type: str
      sample: alias/trailwatch
    policy:
      description: The key policy.
      type: dict
    rotation_enabled:
      description: Whether automatic rotation is on.
      type: bool
      sample: true
    tags:
      description: The key's tags.
      type: dict
"""

from ansible_collections.trailwatch.aws.plugins.module_utils._run import TrailWatchModule

from ansible_collections.trailwatch.aws.plugins.module_utils._kms import ensure_key_absent
from ansible_collections.trailwatch.aws.plugins.module_utils._kms import ensure_key_present
from ansible_collections.trailwatch.aws.plugins.module_utils._kms import read_managed_key
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import kms_key_policy
from ansible_collections.trailwatch.aws.plugins.module_utils._run import TAG_OPTIONS
from ansible_collections.trailwatch.aws.plugins.module_utils._run import ModuleRun
from ansible_collections.trailwatch.aws.plugins.module_utils._run import run_module


def _converge(run):
    """The trail module's key path (read_managed_key, ensure_key_present/absent); (changed, before, after)."""
    p = run.p
    kms = run.clients["kms"]
    before = read_managed_key(kms, p["alias"])
    tagging = run.clients["resourcegroupstaggingapi"] if before is None else None
    if p["state"] == "absent":
        removed = ensure_key_absent(kms, before, p["alias"], p["deletion_window_days"], run.check, tagging)
        return removed.changed, before, None
    policy = kms_key_policy(run.partition, run.region, run.account, p["trail_name"], p["log_group_name"])
    changed, after, _parts = ensure_key_present(
        kms, before, p["alias"], p["description"], policy, run.tags, run.purge_tags, run.check, tagging
    )
    return changed, before, after


def main():
    argument_spec = dict(
        state=dict(choices=["present", "absent"], default="present"),
        alias=dict(required=True),
        trail_name=dict(required=True),
        log_group_name=dict(required=True),
        description=dict(default="TrailWatch CloudTrail and CloudWatch Logs encryption"),
        deletion_window_days=dict(type="int", default=30),
        **TAG_OPTIONS,
    )
    module = TrailWatchModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if not params["alias"].startswith("alias/") or params["alias"].startswith("alias/aws/"):
        module.fail_json(msg="alias must start with 'alias/' and must not be an AWS managed alias (alias/aws/...)")
    if not 7 <= params["deletion_window_days"] <= 30:
        module.fail_json(msg="deletion_window_days must be between 7 and 30 (KMS's limits)")

    changed, before, after = run_module(module, lambda: _converge(ModuleRun(module)))
    result = {"changed": changed, "key": after}
    if params["state"] == "absent" and before:
        result["deletion_window_days"] = params["deletion_window_days"]
    module.exit_json(**result, diff={"before": before or {}, "after": after or {}})


if __name__ == "__main__":
    main()
