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
  - An encrypted topic (O(kms_master_key_id), or an existing topic's own key) is only usable by CloudWatch alarms when
    its key lets the CloudWatch service principal use it. The key is resolved with C(DescribeKey); an AWS managed key
    (C(alias/aws/sns), by any of its names) is refused, since its policy cannot grant CloudWatch and the alarms would
    fail silently. Into a customer managed key's policy the module merges the statement CloudWatch needs
    (C(TrailWatchCloudWatchAlarmsFor<Install>), see O(install_name)) unless a statement that no TrailWatch install may
    take away already grants it (the TrailWatch key's own C(TrailWatchCloudWatchAlarms)); when the key policy cannot
    be read or written the module fails, naming the statement to add.
  - E-mail subscriptions stay pending until the recipient confirms them. A pending subscription is reported
    in RV(topic.pending_confirmations) and never subscribed again, so a re-run sends no new confirmation mail.
    SNS cannot remove a pending subscription; it expires by itself after three days.
  - With O(arn), an existing topic is used instead; it is never created, changed otherwise or deleted. Only the
    statement that lets CloudWatch alarms publish is merged into its policy (by C(Sid), every other statement kept,
    also those of other TrailWatch installs sharing the topic), and only the listed subscriptions are added;
    O(state=absent) removes just that install's statements and those subscriptions. Its encryption is not changed.
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
      - Customer managed KMS key (key id, key ARN, alias or alias ARN) that encrypts the topic TrailWatch manages
        (Security Hub SNS.1). The topic is set to the key's ARN. An AWS managed key (C(alias/aws/sns)) is refused.
        Empty means unencrypted. Ignored with O(arn), since an existing topic keeps its own encryption.
      - Whoever publishes to an encrypted topic needs C(kms:GenerateDataKey*) and C(kms:Decrypt) on the key (the
        notifier's role gets them); subscribers such as e-mail and unencrypted SQS queues need nothing.
    type: str
    default: ""
  install_name:
    description:
      - Name of the TrailWatch install (C(trailwatch_name)) whose statements this is. It is part of their C(Sid),
        so that installs sharing a topic or a key keep each other's statements, and O(state=absent) removes only
        its own.
    type: str
    default: trailwatch
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
    kms_master_key_id:
      description: The key that encrypts the topic, as SNS holds it (the key ARN when TrailWatch set it); empty if none.
      type: str
      sample: arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    subscriptions:
      description: Subscriptions (protocol, endpoint, subscription_arn, pending_confirmation).
      type: list
      elements: dict
    pending_confirmations:
      description: Endpoints whose subscription still waits for confirmation.
      type: list
      elements: str
      sample: [me@example.com]
    unlisted_subscriptions:
      description:
        - Endpoints subscribed to the topic that are not in O(subscriptions), confirmed or pending. With
          O(purge_subscriptions=false) (and always on an existing topic given by O(arn)) they are kept; with
          O(purge_subscriptions=true) only pending ones remain, because SNS cannot remove a pending subscription.
      type: list
      elements: str
      sample: [former-oncall@example.com]
    tags:
      description: The topic's tags.
      type: dict
"""

import json

from ansible_collections.trailwatch.aws.plugins.module_utils._run import TrailWatchModule

from ansible_collections.trailwatch.aws.plugins.module_utils._kms import resolve_key_arn
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import TOPIC_KEY_ROLES
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import TOPIC_ROLES
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import byo_topic_statements
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import topic_arn
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import topic_key_statements
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import topic_policy
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import InstallOwnership
from ansible_collections.trailwatch.aws.plugins.module_utils._resource_policies import ensure_statements
from ansible_collections.trailwatch.aws.plugins.module_utils._resource_policies import ensure_topic_key
from ansible_collections.trailwatch.aws.plugins.module_utils._resource_policies import read_resource
from ansible_collections.trailwatch.aws.plugins.module_utils._run import TAG_OPTIONS
from ansible_collections.trailwatch.aws.plugins.module_utils._run import ModuleRun
from ansible_collections.trailwatch.aws.plugins.module_utils._run import UsageError
from ansible_collections.trailwatch.aws.plugins.module_utils._run import run_module
from ansible_collections.trailwatch.aws.plugins.module_utils._sns import ensure_subscriptions
from ansible_collections.trailwatch.aws.plugins.module_utils._sns import ensure_topic_absent
from ansible_collections.trailwatch.aws.plugins.module_utils._sns import ensure_topic_present
from ansible_collections.trailwatch.aws.plugins.module_utils._sns import read_topic


def _with_pending(topic, wanted=None):
    """The topic with its derived lists: endpoints pending confirmation, and endpoints not in O(subscriptions)."""
    if topic is not None:
        topic["pending_confirmations"] = sorted(
            s["endpoint"] for s in topic["subscriptions"] if s["pending_confirmation"]
        )
        topic["unlisted_subscriptions"] = sorted(
            s["endpoint"] for s in topic["subscriptions"] if not _listed(s, wanted or [])
        )
    return topic


class _Run(ModuleRun):
    """One invocation of the sns_topic module (the KMS client is made only when a key is involved)."""

    @property
    def sns(self):
        return self.clients["sns"]

    @property
    def kms(self):
        return self.clients["kms"]

    def topic_key(self, key_id, present):
        """The topic's key lets the alarms use it (present) or no longer holds this install's statement.

        Returns ensure_topic_key's result, or None when no key answers to key_id.
        """
        install = self.p["install_name"]
        statements = topic_key_statements(self.partition, self.region, self.account, install) if present else []
        owner = InstallOwnership(install, TOPIC_KEY_ROLES)
        return ensure_topic_key(self.kms, key_id, statements, owner, self.check)


def _existing_topic(run):
    """Someone else's topic: merge our publish statement and our subscriptions in, or take them out again."""
    module, p, sns = run.module, run.p, run.sns
    arn = p["arn"]
    before = _with_pending(read_topic(sns, arn), p["subscriptions"])
    if before is None:
        raise UsageError(
            f"arn: topic {arn} does not exist or is not readable; create it first or let "
            "TrailWatch create one (give name instead of arn)"
        )
    present = p["state"] == "present"
    key_changed = False
    if before["kms_master_key_id"]:
        key = run.topic_key(before["kms_master_key_id"], present)
        if key is None and present:
            raise UsageError(
                f"arn: topic {arn} is encrypted with KMS key {before['kms_master_key_id']}, which does not exist"
                " or is not readable: nothing can publish to the topic; fix its encryption first"
            )
        key_changed = bool(key and key["changed"])
    install = p["install_name"]
    statements = byo_topic_statements(run.partition, module.region, run.account, arn, install) if present else []
    owner = InstallOwnership(install, TOPIC_ROLES, TOPIC_ROLES)
    merged = ensure_statements(sns, "sns_topic", read_resource(sns, "sns_topic", arn), statements, owner, run.check)
    if present:
        subs_changed, subscriptions, _parts = ensure_subscriptions(
            sns, arn, before["subscriptions"], p["subscriptions"], False, run.check
        )
    else:
        # Only the listed subscriptions go; the topic's other subscribers are its owner's.
        listed = before["subscriptions"]
        keep = [s for s in listed if not _listed(s, p["subscriptions"])]
        subs_changed, subscriptions, _parts = ensure_subscriptions(sns, arn, listed, keep, True, run.check)
    changed = merged["changed"] or subs_changed or key_changed
    after = dict(before, policy=merged["policy"], subscriptions=subscriptions)
    if changed and not run.check:
        after = read_topic(sns, arn)
    return changed, before, _with_pending(after, p["subscriptions"])


def _listed(subscription, wanted):
    return any(
        w["protocol"] == subscription["protocol"] and w["endpoint"].lower() == subscription["endpoint"].lower()
        for w in wanted
    )


def _managed_topic_key(run, before):
    """The KmsMasterKeyId to set on the topic TrailWatch manages, its key made usable by the alarms; changed."""
    wanted = run.p["kms_master_key_id"]
    current = (before or {}).get("kms_master_key_id") or ""
    if not wanted:
        # An encryption given up: the former key no longer needs this install's statement.
        return "", bool(current) and bool((run.topic_key(current, False) or {}).get("changed"))
    key = run.topic_key(wanted, True)
    if key is None:
        if not run.check:
            raise UsageError(
                f"kms_master_key_id: no KMS key answers to '{wanted}' in {run.module.region}; give an existing"
                " customer managed key (TrailWatch's own key exists once the trail role ran), or '' for none"
            )
        return wanted, True  # check mode before the key exists: the trail role creates it first
    if current in (wanted, key["key_arn"]):
        return current, key["changed"]
    # SNS returns the key as it was set (alias, id or ARN): the same key by another name is no change.
    if current and resolve_key_arn(run.kms, current) == key["key_arn"]:
        return current, key["changed"]
    if current:
        # Another key encrypted the topic so far: it no longer needs this install's statement.
        run.topic_key(current, False)
    return key["key_arn"], key["changed"]


def _managed_topic(run):
    module, p, sns = run.module, run.p, run.sns
    arn = topic_arn(run.partition, module.region, run.account, p["name"])
    before = _with_pending(read_topic(sns, arn), p["subscriptions"])
    if p["state"] == "absent":
        changed = False
        if before is not None and before["kms_master_key_id"]:
            key = run.topic_key(before["kms_master_key_id"], False)
            changed = bool(key and key["changed"])
        removed = ensure_topic_absent(sns, before, run.check)
        return changed or removed.changed, before, None
    key_id, key_changed = _managed_topic_key(run, before)
    attributes = {
        "DisplayName": p["display_name"],
        "KmsMasterKeyId": key_id,
        "Policy": json.dumps(topic_policy(run.partition, module.region, run.account, p["name"])),
    }
    changed, after, _parts = ensure_topic_present(
        sns,
        before,
        arn,
        p["name"],
        attributes,
        p["tags"] or {},
        p["purge_tags"] if p["tags"] is not None else False,
        p["subscriptions"],
        p["purge_subscriptions"],
        run.check,
    )
    if changed and not run.check:
        # Whether SNS holds a new subscription as pending is only known by asking it.
        after = read_topic(sns, arn)
    return changed or key_changed, before, _with_pending(after, p["subscriptions"])


def main():
    argument_spec = dict(
        state=dict(choices=["present", "absent"], default="present"),
        name=dict(),
        arn=dict(),
        display_name=dict(default=""),
        kms_master_key_id=dict(default="", no_log=False),
        install_name=dict(default="trailwatch"),
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
        **TAG_OPTIONS,
    )
    module = TrailWatchModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[["name", "arn"]],
        required_one_of=[["name", "arn"]],
    )
    p = module.params
    if p["arn"] and not (p["arn"].startswith("arn:") and p["arn"].split(":")[2:3] == ["sns"]):
        module.fail_json(msg=f"arn: '{p['arn']}' is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")
    # The AWS managed key by its alias is refused before any call; by its id or ARN, after DescribeKey.
    if p["kms_master_key_id"] in ("alias/aws/sns",) or p["kms_master_key_id"].endswith(":alias/aws/sns"):
        module.fail_json(
            msg="kms_master_key_id: alias/aws/sns cannot grant CloudWatch access, so alarms would fail silently; "
            "use a customer managed key"
        )
    if not p["install_name"]:
        module.fail_json(msg="install_name: give the TrailWatch install's name (trailwatch_name)")

    def work():
        return _existing_topic(_Run(module)) if p["arn"] else _managed_topic(_Run(module))

    changed, before, after = run_module(module, work, "Cannot merge this install's statements into a policy it shares")
    module.exit_json(changed=changed, topic=after, diff={"before": before or {}, "after": after or {}})


if __name__ == "__main__":
    main()
