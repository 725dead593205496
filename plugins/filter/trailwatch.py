# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the TrailWatch roles use to check and shape their input on the controller, before any AWS call."""

from ansible.errors import AnsibleFilterError

from ansible_collections.trailwatch.aws.plugins.module_utils._watches import validation_errors


def watch_errors(watches):
    """Every problem of a trailwatch_watches list, each naming the watch; empty when the list is usable."""
    if not isinstance(watches, list) or not all(isinstance(w, dict) for w in watches):
        return ["trailwatch_watches must be a list of {name, pattern, ...} dicts"]
    if not watches:
        return ["trailwatch_watches is empty: give at least one watch"]
    return validation_errors(watches)


def email_subscriptions(emails, others=None):
    """trailwatch_notify_emails plus trailwatch_subscriptions as the subscriptions of trailwatch.aws.sns_topic."""
    if not isinstance(emails, list):
        raise AnsibleFilterError("trailwatch_notify_emails must be a list of e-mail addresses")
    return [{"protocol": "email", "endpoint": e} for e in emails] + list(others or [])


class FilterModule:
    def filters(self):
        return {"watch_errors": watch_errors, "email_subscriptions": email_subscriptions}
