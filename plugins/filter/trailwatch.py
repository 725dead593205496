# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the TrailWatch roles use to check and shape their input on the controller, before any AWS call."""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.trailwatch.aws.plugins.module_utils._coverage import coverage_report
from ansible_collections.trailwatch.aws.plugins.module_utils._coverage import recording_from_variables
from ansible_collections.trailwatch.aws.plugins.module_utils._coverage import trail_defaults
from ansible_collections.trailwatch.aws.plugins.module_utils._watches import validation_errors


def _is_watch_list(watches):
    return isinstance(watches, list) and all(isinstance(w, dict) for w in watches)


def effective_watches(watches, catalog, presets):
    """The watches a run manages: the named presets' watches, then trailwatch_watches merged in by name.

    A user watch with a preset's name overrides the fields it sets (threshold, period, ...); `enabled: false`
    drops the watch, so its filter and alarm are removed on the next run.
    """
    if not _is_watch_list(watches):
        raise AnsibleFilterError("trailwatch_watches must be a list of {name, pattern, ...} dicts")
    merged = {}
    for preset in presets or []:
        for watch in (catalog or {}).get(preset, []):
            merged[watch["name"]] = dict(watch)
    for watch in watches:
        name = watch.get("name")
        overrides = {k: v for k, v in watch.items() if v is not None}
        merged[name] = dict(merged.get(name, {}), **overrides)
    result = []
    for watch in merged.values():
        try:
            enabled = boolean(watch.pop("enabled", True), strict=True)
        except TypeError as e:
            raise AnsibleFilterError(
                f"trailwatch_watches: enabled of watch {watch.get('name')} must be true or false"
            ) from e
        if enabled:
            result.append(watch)
    return result


def watch_errors(watches, catalog=None, presets=None):
    """Every problem of trailwatch_watch_presets and trailwatch_watches; empty when both are usable."""
    unknown = [p for p in presets or [] if p not in (catalog or {})]
    if unknown:
        return [
            f"trailwatch_watch_presets: unknown preset {', '.join(map(str, unknown))}; "
            f"choose from {', '.join(sorted(catalog or {}))}"
        ]
    if _is_watch_list(watches):
        names = [w.get("name") for w in watches]
        twice = sorted({str(n) for n in names if names.count(n) > 1})
        if twice:
            # Presets merge with watches by name; within trailwatch_watches itself a name may appear once.
            return [f"trailwatch_watches: watch name {', '.join(twice)} is used twice"]
    try:
        effective = effective_watches(watches, catalog, presets)
    except AnsibleFilterError as e:
        return [str(e)]
    if not effective:
        return ["trailwatch_watches: no watch is left (give a watch or a preset in trailwatch_watch_presets)"]
    return [f"trailwatch_watches: {error}" for error in validation_errors(effective)]


def _checked_watches(watches, catalog, presets):
    """(the effective watches, []) when the input is usable, else (None, its problems); never raises."""
    try:
        problems = watch_errors(watches, catalog, presets)
        return (None, problems) if problems else (effective_watches(watches, catalog, presets), [])
    except Exception as e:  # anything unusable (a threshold that is text, ...): the roles' validation names it
        return None, [f"trailwatch_watches: {e}"]


def trail_recording_defaults(watches, catalog=None, presets=None):
    """The trail role's defaults: {read_write_type, exclude_management_event_sources}.

    The article's WriteOnly and [kms.amazonaws.com, rdsdata.amazonaws.com] while they feed every watch, else what
    the watches need (All and [] with the cis preset). Never raises: with unusable watches it answers the article's
    settings, and the validation tasks name the problem.
    """
    effective, _problems = _checked_watches(watches, catalog, presets)
    return trail_defaults(effective or [])


def watch_coverage(watches, catalog, presets, read_write_type, exclude_sources, region):
    """The coverage check of the trail TrailWatch creates: {errors, warnings}, one line per watch and setting.

    errors: watches the trail settings keep from their events (unless the watch sets accept_blind_spots), or the
    watch input's own problems; warnings: what cannot be decided, and accepted blind spots.
    """
    effective, problems = _checked_watches(watches, catalog, presets)
    if problems:
        return {"errors": problems, "warnings": []}
    report = coverage_report(effective, recording_from_variables(read_write_type, exclude_sources or [], region))
    return {"errors": report["errors"], "warnings": report["warnings"]}


def email_subscriptions(emails, others=None):
    """trailwatch_notify_emails plus trailwatch_subscriptions as the subscriptions of trailwatch.aws.sns_topic."""
    if not isinstance(emails, list):
        raise AnsibleFilterError("trailwatch_notify_emails must be a list of e-mail addresses")
    return [{"protocol": "email", "endpoint": e} for e in emails] + list(others or [])


class FilterModule:
    def filters(self):
        return {
            "effective_watches": effective_watches,
            "watch_errors": watch_errors,
            "email_subscriptions": email_subscriptions,
            "trail_recording_defaults": trail_recording_defaults,
            "watch_coverage": watch_coverage,
        }
