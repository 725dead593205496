#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: trail_coverage_info
short_description: Whether the trails delivering to a log group record the events each watch counts
version_added: 0.2.0
description:
  - Finds the trails whose CloudWatch Logs delivery goes to O(log_group_name) (C(DescribeTrails) with shadow and
    organization trails), reads their event selectors (C(GetEventSelectors), basic C(EventSelectors) or
    C(AdvancedEventSelectors)) and decides for every watch whether the events its filter pattern counts reach the
    log group - management or data events, C(ReadWriteType) / C(readOnly), excluded event sources, single-region
    trails, global service events (IAM, STS, sign-in, CloudFront need C(IncludeGlobalServiceEvents)).
  - Read-only; C(changed) is always false. It fails only when AWS cannot be read; the watches a trail cannot feed
    are returned in RV(errors) for the caller to act on (the C(trailwatch.aws.trail) role fails the run with them
    when C(trailwatch_trail_create=false), before anything is written).
  - How the events a pattern needs are derived, and what TrailWatch cannot decide (RV(caveats)), is described in
    the C(trailwatch.aws.trail) role's README (section "Coverage check").
  - "IAM actions: C(logs:DescribeLogGroups), C(cloudtrail:DescribeTrails), C(cloudtrail:GetEventSelectors)."
author:
  - TrailWatch contributors (@trailwatch)
options:
  log_group_name:
    description: The log group the watches' metric filters are on (in O(region)).
    type: str
    required: true
  watches:
    description:
      - The watches, as for M(trailwatch.aws.metric_watches); this module reads C(name), C(pattern) and
        C(accept_blind_spots) of each and ignores the other keys.
      - A watch with C(accept_blind_spots=true) has what its trail drops reported in RV(caveats), not RV(errors).
    type: list
    elements: dict
    required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - trailwatch.aws._attributes.info_module
  - trailwatch.aws._attributes
"""

EXAMPLES = r"""
- name: Someone else's trail records what the CIS watches count
  trailwatch.aws.trail_coverage_info:
    log_group_name: org-baseline/cloudtrail
    watches:
      - name: kms-key-disabled
        pattern: '{ ($.eventSource = "kms.amazonaws.com") && ($.eventName = "DisableKey") }'
      - name: s3-object-read
        pattern: '{ ($.eventSource = "s3.amazonaws.com") && ($.eventName = "GetObject") }'
        accept_blind_spots: true
  register: coverage

- name: No watch is blind
  ansible.builtin.assert:
    that: coverage.errors | length == 0
    fail_msg: "{{ coverage.errors | join('; ') }}"
"""

RETURN = r"""
log_group_arn:
  description: ARN of the log group, empty when it does not exist.
  returned: always
  type: str
  sample: arn:aws:logs:eu-west-1:123456789012:log-group:org-baseline/cloudtrail
trails:
  description: The trails delivering to the log group, with the settings the check read.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Trail name.
      type: str
    arn:
      description: Trail ARN.
      type: str
    home_region:
      description: The trail's home region.
      type: str
    is_multi_region:
      description: C(IsMultiRegionTrail).
      type: bool
    include_global_service_events:
      description: C(IncludeGlobalServiceEvents).
      type: bool
    is_organization_trail:
      description: C(IsOrganizationTrail).
      type: bool
    event_selectors:
      description: C(EventSelectors) as GetEventSelectors answered; null when they could not be read.
      type: list
      elements: dict
    advanced_event_selectors:
      description: C(AdvancedEventSelectors) as GetEventSelectors answered.
      type: list
      elements: dict
watches:
  description:
    - Per watch name, its C(status) - V(ok), V(blind) (a trail setting drops events it counts), V(accepted) (blind,
      with C(accept_blind_spots)) or V(unknown) (only findings TrailWatch cannot decide) - and its C(findings),
      each C({setting, reason, fix, certain}).
  returned: always
  type: dict
  sample:
    kms-key-disabled-or-deleted:
      status: blind
      findings:
        - setting: "trail org: EventSelectors[0] ExcludeManagementEventSources holds kms.amazonaws.com"
          reason: so the trail drops every kms.amazonaws.com management event, and this watch counts them
          fix: remove kms.amazonaws.com from ExcludeManagementEventSources in EventSelectors[0] of trail org
          certain: true
errors:
  description: One line per blind watch and setting (watch, setting, what it drops, the fix); empty when none is.
  returned: always
  type: list
  elements: str
caveats:
  description:
    - What TrailWatch cannot decide, and the blind spots accepted with C(accept_blind_spots).
    - Each is also shown as a warning.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.trailwatch.aws.plugins.module_utils._run import TrailWatchModule

from ansible_collections.trailwatch.aws.plugins.module_utils._cloudtrail import describe_trails
from ansible_collections.trailwatch.aws.plugins.module_utils._cloudtrail import get_selector_lists
from ansible_collections.trailwatch.aws.plugins.module_utils._cloudtrail import trails_delivering_to
from ansible_collections.trailwatch.aws.plugins.module_utils._common import TrailWatchError
from ansible_collections.trailwatch.aws.plugins.module_utils._coverage import coverage_report
from ansible_collections.trailwatch.aws.plugins.module_utils._coverage import merge_recordings
from ansible_collections.trailwatch.aws.plugins.module_utils._coverage import no_trail
from ansible_collections.trailwatch.aws.plugins.module_utils._coverage import recording_from_trail
from ansible_collections.trailwatch.aws.plugins.module_utils._logs import describe_log_group


def read_trails(module, log_group_arn):
    """[(DescribeTrails entry, EventSelectors, AdvancedEventSelectors, why unreadable)] of the trails delivering
    to the log group; the selectors are read in each trail's home region, and are None when they cannot be read."""
    result = []
    clients = {}
    for trail in trails_delivering_to(describe_trails(module.client("cloudtrail")), log_group_arn):
        home = trail.get("HomeRegion") or module.region
        if home not in clients:
            clients[home] = module.client("cloudtrail", region=home)
        try:
            selectors, advanced = get_selector_lists(clients[home], trail["TrailARN"])
            result.append((trail, selectors, advanced, ""))
        except TrailWatchError as e:  # an organization trail seen from a member account, a denied read, ...
            result.append((trail, None, None, f"its event selectors could not be read ({e})"))
    return result


def main():
    argument_spec = dict(
        log_group_name=dict(required=True),
        watches=dict(type="list", elements="dict", required=True),
    )
    module = TrailWatchModule(argument_spec=argument_spec, supports_check_mode=True)
    name = module.params["log_group_name"]
    region = module.region
    try:
        group = describe_log_group(module.client("logs"), name)
        trails = read_trails(module, group["arn"]) if group else []
    except TrailWatchError as e:
        module.fail_json_aws_error(e)
    if group is None:
        recording = no_trail(name, region, f"log group {name} does not exist in {region}")
    elif not trails:
        recording = no_trail(name, region)
    else:
        recording = merge_recordings([recording_from_trail(t, s, a, u) for t, s, a, u in trails])
    report = coverage_report(module.params["watches"], recording)
    for warning in report["warnings"]:
        module.warn(warning)
    group_arn = (group or {}).get("arn", "")
    module.exit_json(
        changed=False,
        log_group_arn=group_arn[:-2] if group_arn.endswith(":*") else group_arn,
        trails=[_trail_view(t, s, a) for t, s, a, _u in trails],
        watches=report["watches"],
        errors=report["errors"],
        caveats=report["warnings"],
    )


def _trail_view(trail, selectors, advanced):
    return {
        "name": trail.get("Name"),
        "arn": trail.get("TrailARN"),
        "home_region": trail.get("HomeRegion"),
        "is_multi_region": bool(trail.get("IsMultiRegionTrail")),
        "include_global_service_events": bool(trail.get("IncludeGlobalServiceEvents")),
        "is_organization_trail": bool(trail.get("IsOrganizationTrail")),
        "event_selectors": selectors,
        "advanced_event_selectors": advanced,
    }


if __name__ == "__main__":
    main()
