#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: sns_topic
short_description: An SNS topic CloudWatch alarms may publish to, with its subscriptions
version_added: 0.1.0
description:
  - Creates or converges a standard SNS topic with a policy that keeps the account in control of the topic and
    lets CloudWatch alarms of the same account (and only those) publish to it, optional KMS encryption, tags
    and subscriptions.
  - E-mail subscriptions stay pending until the recipient confirms them. A pending subscription is reported
    in RV(topic.pending_confirmations) and never subscribed again, so a re-run sends no new confirmation mail.
    SNS cannot remove a pending subscription; it expires by itself after three days.
  - With O(arn), an existing topic is used instead; it is never created, changed otherwise or deleted. Only the
    statement that lets CloudWatch alarms publish is merged into its policy (by C(Sid), every other statement kept),
    and only the listed subscriptions are added; O(state=absent) removes just that statement and those
    subscriptions.
  - Why a module of our own? The amazon.aws collection has no SNS topic module and C(community.aws) is not a dependency.
author:
  - TrailWatch contributors (@trailwatch)
options:
  state:
    description: Whether the topic should exist. Deleting a topic removes its subscriptions.
    type: str
    choices: [present, absent]
    default: present
  name:
    description: Name of the topic TrailWatch manages. One of O(name) and O(arn) is required.
    type: str
  arn:
    description: ARN of an existing topic to use (bring your own topic).
    type: str
  display_name:
    description: Display name, used as the sender name of e-mails.
    type: str
    default: ""
  kms_master_key_id:
    description:
      - Customer managed KMS key that encrypts the topic (SNS.1). Its key policy must let
        C(cloudwatch.amazonaws.com) use it; C(alias/aws/sns) cannot, so it is refused. Empty means unencrypted.
    type: str
    default: ""
  subscriptions:
    description: Subscriptions the topic must have.
    type: list
    elements: dict
    default: []
    suboptions:
      protocol:
        description: Delivery protocol.
        type: str
        required: true
        choices: [email, email-json, sqs, https, http, lambda, sms, application, firehose]
      endpoint:
        description: Address, URL or ARN for the protocol.
        type: str
        required: true
  purge_subscriptions:
    description: Remove confirmed subscriptions that are not listed in O(subscriptions).
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags.modules
  - amazon.aws.boto3
  - trailwatch.aws._attributes
"""

EXAMPLES = r"""
- name: Alarms reach the platform team by e-mail
  trailwatch.aws.sns_topic:
    name: trailwatch-alerts
    subscriptions:
      - protocol: email
        endpoint: platform@example.com
  register: topic

- name: Someone still has to click the confirmation link
  ansible.builtin.debug:
    msg: "Waiting for {{ topic.topic.pending_confirmations | join(', ') }}"
  when: topic.topic.pending_confirmations | length > 0
"""

RETURN = r"""
topic:
  description: The topic after the run (as predicted in check mode); null once deleted.
  returned: always
  type: dict
  contains:
    arn:
      description: Topic ARN.
      type: str
      sample: arn:aws:sns:eu-west-1:123456789012:trailwatch-alerts
    name:
      description: Topic name.
      type: str
    policy:
      description: The topic policy.
      type: dict
    subscriptions:
      description: Subscriptions (protocol, endpoint, subscription_arn, pending_confirmation).
      type: list
      elements: dict
    pending_confirmations:
      description: Endpoints whose subscription still waits for confirmation.
      type: list
      elements: str
      sample: [me@example.com]
    tags:
      description: The topic's tags.
      type: dict
"""

import json

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.trailwatch.aws.plugins.module_utils._common import TrailWatchError
from ansible_collections.trailwatch.aws.plugins.module_utils._common import caller_identity
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import byo_topic_statements
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import topic_arn
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import topic_policy
from ansible_collections.trailwatch.aws.plugins.module_utils._resource_policies import ensure_statements
from ansible_collections.trailwatch.aws.plugins.module_utils._resource_policies import read_resource
from ansible_collections.trailwatch.aws.plugins.module_utils._sns import ensure_subscriptions
from ansible_collections.trailwatch.aws.plugins.module_utils._sns import ensure_topic_absent
from ansible_collections.trailwatch.aws.plugins.module_utils._sns import ensure_topic_present
from ansible_collections.trailwatch.aws.plugins.module_utils._sns import read_topic


def _with_pending(topic):
    if topic is not None:
        topic["pending_confirmations"] = sorted(
            s["endpoint"] for s in topic["subscriptions"] if s["pending_confirmation"]
        )
    return topic


def _existing_topic(module, sns):
    """Someone else's topic: merge our publish statement and our subscriptions in, or take them out again."""
    p = module.params
    arn = p["arn"]
    try:
        account, partition = caller_identity(module.client("sts"))
        before = _with_pending(read_topic(sns, arn))
        if before is None:
            module.fail_json(
                msg=f"arn: topic {arn} does not exist or is not readable; create it first or let "
                "TrailWatch create one (give name instead of arn)"
            )
        present = p["state"] == "present"
        statements = byo_topic_statements(partition, module.region, account, arn) if present else []
        merged = ensure_statements(
            sns, "sns_topic", read_resource(sns, "sns_topic", arn), statements, "TrailWatch", module.check_mode
        )
        if present:
            subs_changed, subscriptions = ensure_subscriptions(
                sns, arn, before["subscriptions"], p["subscriptions"], False, module.check_mode
            )
        else:
            # Only the listed subscriptions go; the topic's other subscribers are its owner's.
            listed = before["subscriptions"]
            keep = [s for s in listed if not _listed(s, p["subscriptions"])]
            subs_changed, subscriptions = ensure_subscriptions(sns, arn, listed, keep, True, module.check_mode)
        changed = merged["changed"] or subs_changed
        after = dict(before, policy=merged["policy"], subscriptions=subscriptions)
        if changed and not module.check_mode:
            after = read_topic(sns, arn)
        after = _with_pending(after)
    except TrailWatchError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=changed, topic=after, diff={"before": before, "after": after})


def _listed(subscription, wanted):
    return any(
        w["protocol"] == subscription["protocol"] and w["endpoint"].lower() == subscription["endpoint"].lower()
        for w in wanted
    )


def main():
    argument_spec = dict(
        state=dict(choices=["present", "absent"], default="present"),
        name=dict(),
        arn=dict(),
        display_name=dict(default=""),
        kms_master_key_id=dict(default=""),
        subscriptions=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                protocol=dict(
                    required=True,
                    choices=["email", "email-json", "sqs", "https", "http", "lambda", "sms", "application", "firehose"],
                ),
                endpoint=dict(required=True),
            ),
        ),
        purge_subscriptions=dict(type="bool", default=True),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[["name", "arn"]],
        required_one_of=[["name", "arn"]],
    )
    p = module.params
    if p["arn"] and not (p["arn"].startswith("arn:") and p["arn"].split(":")[2:3] == ["sns"]):
        module.fail_json(msg=f"arn: '{p['arn']}' is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")
    if p["kms_master_key_id"] in ("alias/aws/sns",) or p["kms_master_key_id"].endswith(":alias/aws/sns"):
        module.fail_json(
            msg="kms_master_key_id: alias/aws/sns cannot grant CloudWatch access, so alarms would fail silently; "
            "use a customer managed key"
        )

    sns = module.client("sns")
    if p["arn"]:
        _existing_topic(module, sns)
    try:
        account, partition = caller_identity(module.client("sts"))
        arn = topic_arn(partition, module.region, account, p["name"])
        before = _with_pending(read_topic(sns, arn))
        if p["state"] == "absent":
            changed = ensure_topic_absent(sns, before, module.check_mode)
            after = None
        else:
            attributes = {
                "DisplayName": p["display_name"],
                "KmsMasterKeyId": p["kms_master_key_id"],
                "Policy": json.dumps(topic_policy(partition, module.region, account, p["name"])),
            }
            changed, after = ensure_topic_present(
                sns,
                before,
                arn,
                p["name"],
                attributes,
                p["tags"] or {},
                p["purge_tags"] if p["tags"] is not None else False,
                p["subscriptions"],
                p["purge_subscriptions"],
                module.check_mode,
            )
            if changed and not module.check_mode:
                # Whether SNS holds a new subscription as pending is only known by asking it.
                after = read_topic(sns, arn)
            after = _with_pending(after)
    except TrailWatchError as e:
        module.fail_json_aws_error(e)

    module.exit_json(changed=changed, topic=after, diff={"before": before or {}, "after": after or {}})


if __name__ == "__main__":
    main()
