# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Note that this doc fragment is **PRIVATE** to the collection. It can change at any time.
# Do not use it from other collections.


class ModuleDocFragment:
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Returns the state before and after (or as predicted in C(check_mode)) when in diff mode.
    support: full
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change
        and makes no write API call.
    support: full
  action_group:
    description: Use C(group/trailwatch.aws.aws) in C(module_defaults) to set connection defaults for this module.
    support: full
    membership:
      - trailwatch.aws.aws
"""

    # A read-only (_info) module: listed BEFORE trailwatch.aws._attributes, whose check_mode and diff_mode it
    # replaces (when two fragments document the same attribute, ansible-doc keeps the first one's fields).
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    description: Reads only; runs the same in check mode.
    support: full
  diff_mode:
    description: Changes nothing, so there is no diff.
    support: none
"""
