#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: resource_policy_statements
short_description: Merges TrailWatch's statements into the policy of an existing S3 bucket, KMS key or SNS topic
version_added: 0.1.0
description:
  - For a bucket, key or topic that TrailWatch did not create, adds the statements TrailWatch needs to the
    resource policy that is already there, and removes them again, without touching anyone else's statements.
  - A statement belongs to TrailWatch if and only if its C(Sid) starts with O(statement_prefix). Such statements
    are replaced when they differ from O(statements) and removed when they are not in O(statements), whoever wrote
    them. Every other statement, with another C(Sid) or with none, is kept exactly as it is and where it is, even
    when its content equals one of O(statements).
  - Statements are compared by meaning, not by spelling (list order, a string versus a one-element list, the
    order of condition keys), so a second run with the same statements changes nothing and makes no write call.
  - Key policies (O(resource_type=kms_key)) always keep a statement that allows the account root C(kms:*) on the
    key, without which nobody could manage the key (KMS refuses such a policy). If no other statement grants it,
    the module adds its own C(Sid=<statement_prefix>AccountRoot) statement, warns about it and returns
    RV(root_statement_guarded=true); with O(state=absent) that statement then stays.
  - A bucket left without statements has its bucket policy deleted. A topic left without statements gets the
    owner's default back, written as C(Sid=__default_statement_ID) granting the account root the default topic
    actions (SNS always keeps a topic policy).
author:
  - TrailWatch contributors (@trailwatch)
options:
  state:
    description:
      - V(present) adds or updates O(statements) and removes other statements with the prefix.
      - V(absent) removes every statement with the prefix and nothing else.
    type: str
    choices: [present, absent]
    default: present
  resource_type:
    description: What O(resource) names.
    type: str
    choices: [s3_bucket, kms_key, sns_topic]
    required: true
  resource:
    description:
      - The bucket name (or bucket ARN) for V(s3_bucket).
      - The key id, key ARN, alias name (C(alias/...)) or alias ARN for V(kms_key).
      - The topic ARN for V(sns_topic).
      - The resource must exist; the module never creates one.
    type: str
    required: true
  statements:
    description:
      - The policy statements TrailWatch needs on the resource, as dictionaries in the IAM policy grammar.
      - Every statement needs a C(Sid) of its own starting with O(statement_prefix). This is checked before any
        AWS call.
      - Required with O(state=present); an empty list removes all statements with the prefix. Ignored with
        O(state=absent).
    type: list
    elements: dict
  statement_prefix:
    description:
      - The C(Sid) prefix that marks a statement as TrailWatch's.
      - Use a longer prefix (for example V(TrailWatchAlerts)) when several callers manage statements on the same
        resource, or each run removes the statements of the other.
    type: str
    default: TrailWatch
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - trailwatch.aws._attributes
"""

EXAMPLES = r"""
- name: The existing log bucket lets CloudTrail write, and keeps its other statements
  trailwatch.aws.resource_policy_statements:
    resource_type: s3_bucket
    resource: corp-audit-logs
    statements:
      - Sid: TrailWatchCloudTrailAclCheck
        Effect: Allow
        Principal:
          Service: cloudtrail.amazonaws.com
        Action: s3:GetBucketAcl
        Resource: arn:aws:s3:::corp-audit-logs
        Condition:
          StringEquals:
            aws:SourceArn: arn:aws:cloudtrail:eu-west-1:123456789012:trail/trailwatch
      - Sid: TrailWatchCloudTrailWrite
        Effect: Allow
        Principal:
          Service: cloudtrail.amazonaws.com
        Action: s3:PutObject
        Resource: arn:aws:s3:::corp-audit-logs/AWSLogs/123456789012/*
        Condition:
          StringEquals:
            s3:x-amz-acl: bucket-owner-full-control
            aws:SourceArn: arn:aws:cloudtrail:eu-west-1:123456789012:trail/trailwatch

- name: The existing key lets CloudWatch alarms publish to a topic encrypted with it (statements from the filter)
  trailwatch.aws.resource_policy_statements:
    resource_type: kms_key
    resource: alias/corp-security
    statements: "{{ my_key_statements }}"
    region: eu-west-1

- name: The existing topic no longer carries TrailWatch's statements
  trailwatch.aws.resource_policy_statements:
    state: absent
    resource_type: sns_topic
    resource: arn:aws:sns:eu-west-1:123456789012:security-alerts
"""

RETURN = r"""
policy:
  description:
    - The resource policy after the run (as predicted in check mode).
    - Null for a bucket without bucket policy.
  returned: always
  type: dict
  sample:
    Version: "2012-10-17"
    Statement:
      - Sid: ReadOnlyForAuditors
        Effect: Allow
        Principal:
          AWS: arn:aws:iam::123456789012:role/auditor
        Action: s3:GetObject
        Resource: arn:aws:s3:::corp-audit-logs/*
      - Sid: TrailWatchCloudTrailAclCheck
        Effect: Allow
        Principal:
          Service: cloudtrail.amazonaws.com
        Action: s3:GetBucketAcl
        Resource: arn:aws:s3:::corp-audit-logs
resource_id:
  description: The bucket name, the key ARN (also when an alias was given) or the topic ARN.
  returned: always
  type: str
  sample: arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
statements_added:
  description: Sids of the statements that were not in the policy before.
  returned: always
  type: list
  elements: str
  sample: [TrailWatchCloudTrailWrite]
statements_updated:
  description: Sids of TrailWatch's statements whose content changed.
  returned: always
  type: list
  elements: str
  sample: []
statements_removed:
  description: Sids of TrailWatch's statements that were removed.
  returned: always
  type: list
  elements: str
  sample: []
root_statement_guarded:
  description:
    - For a key, whether the module's own account root statement is in the policy because no other statement
      lets the account root manage the key. Always false for buckets and topics.
  returned: always
  type: bool
  sample: false
"""

from ansible_collections.trailwatch.aws.plugins.module_utils._run import TrailWatchModule

from ansible_collections.trailwatch.aws.plugins.module_utils._common import TrailWatchError
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import PolicyMergeError
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import validate_statements
from ansible_collections.trailwatch.aws.plugins.module_utils._resource_policies import RESOURCE_TYPES
from ansible_collections.trailwatch.aws.plugins.module_utils._resource_policies import bucket_name
from ansible_collections.trailwatch.aws.plugins.module_utils._resource_policies import ensure_statements
from ansible_collections.trailwatch.aws.plugins.module_utils._resource_policies import key_region
from ansible_collections.trailwatch.aws.plugins.module_utils._resource_policies import parse_topic_arn
from ansible_collections.trailwatch.aws.plugins.module_utils._resource_policies import read_resource

SERVICES = {"s3_bucket": "s3", "kms_key": "kms", "sns_topic": "sns"}


def missing_message(resource_type, resource):
    if resource_type == "s3_bucket":
        return (
            f"bucket {bucket_name(resource)} does not exist or is not yours: create it first or set"
            " trailwatch_log_bucket_create: true"
        )
    if resource_type == "kms_key":
        return (
            f"KMS key {resource} does not exist in this account and region (check the key id, ARN or alias and the"
            " region): create the key first or let TrailWatch create its own"
        )
    return (
        f"topic {resource} does not exist in this account and region (check the ARN): create the topic first or"
        " let TrailWatch create its own"
    )


def validate(module):
    """Everything that can be refused without asking AWS."""
    params = module.params
    statements = params["statements"] if params["state"] == "present" else []
    try:
        validate_statements(statements, params["statement_prefix"])
    except PolicyMergeError as e:
        module.fail_json(msg=f"statements: {e}")
    if params["resource_type"] == "sns_topic" and parse_topic_arn(params["resource"]) is None:
        module.fail_json(
            msg=f"resource {params['resource']!r} is not a topic ARN: give the topic as"
            " arn:aws:sns:REGION:ACCOUNT:NAME for resource_type sns_topic"
        )
    return statements


def client_for(module):
    resource_type, resource = module.params["resource_type"], module.params["resource"]
    region = None
    if resource_type == "sns_topic":
        region = parse_topic_arn(resource)[1]
    elif resource_type == "kms_key":
        region = key_region(resource)
    if region:
        return module.client(SERVICES[resource_type], region=region)
    return module.client(SERVICES[resource_type])


def main():
    argument_spec = dict(
        state=dict(choices=["present", "absent"], default="present"),
        resource_type=dict(choices=list(RESOURCE_TYPES), required=True),
        resource=dict(required=True),
        statements=dict(type="list", elements="dict"),
        statement_prefix=dict(default="TrailWatch"),
    )
    module = TrailWatchModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["statements"])],
        supports_check_mode=True,
    )
    params = module.params
    resource_type = params["resource_type"]
    statements = validate(module)

    client = client_for(module)
    try:
        current = read_resource(client, resource_type, params["resource"])
        if current is None:
            module.fail_json(msg=missing_message(resource_type, params["resource"]))
        if resource_type == "kms_key" and current["key_manager"] == "AWS":
            module.fail_json(
                msg=f"KMS key {params['resource']} is an AWS managed key, whose policy cannot be changed:"
                " use a customer managed key"
            )
        if resource_type == "kms_key" and current["key_state"] == "PendingDeletion":
            module.fail_json(
                msg=f"KMS key {params['resource']} is pending deletion: cancel the deletion first or use another key"
            )
        result = ensure_statements(
            client, resource_type, current, statements, params["statement_prefix"], module.check_mode
        )
    except PolicyMergeError as e:
        module.fail_json(msg=f"statements: {e}")
    except TrailWatchError as e:
        module.fail_json_aws_error(e)

    if result["root_statement_guarded"] and result["statements_added"]:
        root_sid = params["statement_prefix"] + "AccountRoot"
        if root_sid in result["statements_added"] and root_sid not in {s["Sid"] for s in statements}:
            module.warn(
                f"no statement of the key policy let the account root manage the key, so {root_sid} was added:"
                " without it nobody could change the key policy again"
            )
    before = current["policy"]
    module.exit_json(
        changed=result["changed"],
        diff={"before": before or {}, "after": result["policy"] or {}},
        policy=result["policy"],
        resource_id=current["resource_id"],
        statements_added=result["statements_added"],
        statements_updated=result["statements_updated"],
        statements_removed=result["statements_removed"],
        root_statement_guarded=result["root_statement_guarded"],
    )


if __name__ == "__main__":
    main()
