# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the TrailWatch roles use to check and shape their input on the controller, before any AWS call.

One validation serves every entry point (``site.yml``, ``teardown.yml``, a role included on its own, its ``validate``
entry point under any spelling): :func:`checked_input` takes the TrailWatch variables a task can see, converts them the
way the roles' ``meta/argument_specs.yml`` converts them (the same Ansible converters, so ``on`` is a boolean there and
here), accepts the forms people type for list and mapping variables on the command line, and returns the converted
values with every problem, one line each, naming the variable, the value and the fix.
"""

import hashlib
import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import yaml
from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.validation import check_type_bool
from ansible.module_utils.common.validation import check_type_dict
from ansible.module_utils.common.validation import check_type_float
from ansible.module_utils.common.validation import check_type_int
from ansible.module_utils.common.validation import check_type_str
from ansible.module_utils.parsing.convert_bool import boolean


# Every task that uses one of these filters loads this file in its own worker process, and Ansible's collection loader
# compiles a collection's module_utils from source there each time (no bytecode cache): the watch schema and
# validation (_watches, with the pattern parser) and the coverage check (_coverage) are imported when first used, so
# that the tasks that only shape a result or a connection do not pay for them.


def _watches():
    from ansible_collections.trailwatch.aws.plugins.module_utils import _watches as watches

    return watches


def _coverage():
    from ansible_collections.trailwatch.aws.plugins.module_utils import _coverage as coverage

    return coverage


_COLLECTION = Path(__file__).resolve().parents[2]
ROLES = ("trail", "alerts", "notifier")

# Variables of the playbooks (site.yml, teardown.yml, drill.yml), not of a role.
PLAYBOOK_OPTIONS = {
    "trailwatch_notifier": {"type": "bool"},
    "trailwatch_aws_connection": {"type": "dict"},
    "trailwatch_assume_role_arn": {"type": "str"},
    "trailwatch_hosts": {"type": "str"},
}
# Values of trailwatch_aws_connection never appear in a message: it may hold keys.
_SECRET_VARIABLES = frozenset({"trailwatch_aws_connection"})

# The services TrailWatch calls in the home region; trailwatch_region must be a region botocore knows for each.
# Endpoint prefixes as in botocore's endpoints data (CloudWatch is "monitoring").
REGION_SERVICES = ("cloudtrail", "kms", "s3", "logs", "sns", "monitoring", "lambda", "ssm")

# Tag rules every service TrailWatch tags accepts (CloudTrail, KMS, S3, CloudWatch Logs, IAM, SNS, CloudWatch,
# Lambda, SSM): see docs/aws-rules.md. TAG_LIMIT is 50 tags per resource less the one TrailWatch adds to its key.
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
TAG_LIMIT = 49
TAG_EXTRA_CHARACTERS = frozenset("_.:/=+-@")
TAG_RESERVED_PREFIXES = ("aws:", "trailwatch:")

_EXAMPLES = {
    "list": '-e {name}=a,b or -e \'{{"{name}": ["a", "b"]}}\'',
    "list_of_dicts": "-e '{{\"{name}\": [{{...}}, {{...}}]}}' (JSON extra vars)",
    "dict": '-e {name}=key=value,other=value or -e \'{{"{name}": {{"key": "value"}}}}\'',
}
_TYPE_WORDS = {"bool": "true or false", "int": "a whole number", "float": "a number", "str": "a text"}


@lru_cache(maxsize=None)
def _role_yaml(role, kind):
    path = _COLLECTION / "roles" / role / kind
    if not path.exists():
        return {}
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@lru_cache(maxsize=None)
def input_spec():
    """Every TrailWatch variable with its type, choices and sub-options: the roles' main argument specs and the
    playbooks' own variables. Defaults and descriptions are left out (the roles' defaults/main.yml are the defaults)."""
    spec = {}
    for role in ROLES:
        options = (_role_yaml(role, "meta/argument_specs.yml").get("argument_specs") or {}).get("main", {})
        for name, option in (options.get("options") or {}).items():
            # A variable several roles declare (trailwatch_watches: the trail role reads the watches too) is checked
            # with its most detailed declaration: sub-options and choices win over a bare type.
            option = _without_docs(option)
            known = spec.get(name, {})
            if len(option.get("options") or {}) + len(option.get("choices") or []) > len(
                known.get("options") or {}
            ) + len(known.get("choices") or []):
                spec[name] = option
            else:
                spec.setdefault(name, option)
    for name, option in PLAYBOOK_OPTIONS.items():
        spec.setdefault(name, dict(option))
    # The fields of a watch are those of the watch schema in module_utils/_watches.py, the one definition the
    # metric_watches module uses too (the roles' argument specs declare the same: a unit test compares them).
    spec["trailwatch_watches"] = {
        "type": "list",
        "elements": "dict",
        "options": _watches().watch_input_options(with_defaults=False),
    }
    return spec


def _without_docs(option):
    kept = {k: v for k, v in option.items() if k not in ("default", "description", "version_added")}
    if "options" in kept:
        kept["options"] = {name: _without_docs(sub) for name, sub in kept["options"].items()}
    return kept


@lru_cache(maxsize=None)
def _literal_defaults():
    """The roles' defaults that are plain values (not templates): what a role would use for a variable the task
    validating it cannot see, because another role's defaults are not loaded there."""
    defaults = {}
    for role in ROLES:
        for name, value in (_role_yaml(role, "defaults/main.yml") or {}).items():
            if "{{" not in json.dumps(value):
                defaults.setdefault(name, value)
    return defaults


@lru_cache(maxsize=None)
def _preset_catalog():
    return (_role_yaml("alerts", "vars/main.yml") or {}).get("trailwatch__presets") or {}


def converted_input(value, name):
    """``value`` of the TrailWatch variable ``name`` converted as checked_input converts it (``"cis"`` is ``["cis"]``
    for a list variable); unchanged when it cannot be converted: checked_input reports that."""
    option = input_spec().get(name)
    if option is None:
        return value
    converted, problem = _convert(name, option, value)
    return value if problem else converted


def input_names(names):
    """The TrailWatch input variables among ``names`` (for example the output of the varnames lookup)."""
    spec = input_spec()
    return [n for n in names if n in spec]


# ---------------------------------------------------------------------------------------------------------------
# Conversion: what people type, into what the argument spec declares.


def _shown(name, value):
    if name in _SECRET_VARIABLES:
        return "a value that is not a mapping"
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 60 else text[:57] + "...'"


def _as_list(name, option, value):
    """A list from a list, a JSON list, a comma-separated text or a single value; ``(value, problem)``."""
    if value is None:
        return [], None
    if isinstance(value, (list, tuple)):
        return list(value), None
    example = _EXAMPLES["list_of_dicts" if option.get("elements") == "dict" else "list"].format(name=name)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError as e:
                return None, f"{name}: {_shown(name, value)} is not a JSON list ({e.msg}); pass a list: {example}"
            if isinstance(parsed, list):
                return parsed, None
        if option.get("elements") == "dict":
            return None, f"{name} must be a list of mappings (got {_shown(name, value)}); pass it as {example}"
        return [item.strip() for item in text.split(",") if item.strip()], None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and option.get("elements") != "dict":
        return [str(value)], None
    return None, f"{name} must be a list (got {_shown(name, value)}); pass it as {example}"


def _as_dict(name, value):
    if value is None:
        return {}, None
    if isinstance(value, dict):
        return dict(value), None
    example = _EXAMPLES["dict"].format(name=name)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return {}, None
        try:
            parsed = json.loads(text) if text.startswith("{") else check_type_dict(text)
        except (ValueError, TypeError):
            parsed = None
        if isinstance(parsed, dict):
            return parsed, None
    return None, f"{name} must be a mapping (got {_shown(name, value)}); pass it as {example}"


_CONVERTERS = {
    "bool": check_type_bool,
    "int": check_type_int,
    "float": check_type_float,
    "str": None,  # _check_text, below
}


def _check_text(value):
    """A text, or a number written without quotes; never a list, mapping or boolean turned into text."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TypeError(f"{type(value).__name__} is not a text")
    return check_type_str(value, allow_conversion=True)


def _convert(name, option, value):
    kind = option.get("type", "str")
    if kind == "list":
        return _as_list(name, option, value)
    if kind == "dict":
        return _as_dict(name, value)
    if kind == "bool" and isinstance(value, str) and not value.strip():
        return None, f"{name} must be true or false (got an empty value)"
    try:
        return (_CONVERTERS.get(kind) or _check_text)(value), None
    except (TypeError, ValueError):
        return None, f"{name} must be {_TYPE_WORDS.get(kind, kind)} (got {_shown(name, value)})"


# The argument spec validator's own messages, for what it checks after the conversion above (choices, elements,
# sub-options), said the way the rest of these messages are.
_VALIDATOR_REWRITES = (
    (
        re.compile(r"^argument '(\w+)' is of type (\w+) found in '(\w+)'\.? and we were unable to convert to (\w+).*$"),
        lambda m: f"{m[3]}: field {m[1]} must be {_TYPE_WORDS.get(m[4], 'a ' + m[4])} (got a {m[2]})",
    ),
    (
        re.compile(r"^Elements value for option '(\w+)' is of type (\w+) and we were unable to convert to (\w+).*$"),
        lambda m: (
            f"{m[1]}: every entry must be {'a mapping' if m[3] == 'dict' else _TYPE_WORDS.get(m[3], m[3])}"
            f" (got a {m[2]})"
        ),
    ),
    (
        re.compile(r"^value of (\w+) must be one of: (.*), got: (.*?)( found in '?(\w+)'?)?$"),
        lambda m: f"{m[5] + ': field ' if m[5] else ''}{m[1]} must be one of {m[2]} (got {m[3]})",
    ),
    (
        re.compile(r"^missing required arguments: (.*) found in (\w+)$"),
        lambda m: f"{m[2]}: every entry needs {m[1]}",
    ),
    (
        re.compile(r"^(\w+)\.(\w+)\. Supported parameters include: (.*)\.$"),
        lambda m: f"{m[1]}: unknown field {m[2]} (fields: {m[3]})",
    ),
)


def _validator_message(error):
    text = str(error.msg if hasattr(error, "msg") else error)
    for pattern, rewrite in _VALIDATOR_REWRITES:
        match = pattern.match(text)
        if match:
            return rewrite(match)
    return text


# ---------------------------------------------------------------------------------------------------------------
# Checks an argument spec cannot express.

_NAME = r"^[a-z][a-z0-9-]{2,29}$"
_REGION_SHAPE = r"^[a-z]{2}(-[a-z]+)+-[0-9]$"
_KEY_ARN = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/.+$"
_TOPIC_ARN = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$"
_ROLE_ARN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$"
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$"
_EXCLUDABLE_SOURCES = ("kms.amazonaws.com", "rdsdata.amazonaws.com")


def _matches(pattern, value):
    # fullmatch: a pattern ending in `$` would otherwise accept a final newline ("a@b.cc\n").
    return isinstance(value, str) and re.fullmatch(pattern, value) is not None


# (variable, is the value usable, message): message may use {value}.
_FIELD_CHECKS = (
    (
        "trailwatch_name",
        lambda v: _matches(_NAME, v),
        "trailwatch_name must match ^[a-z][a-z0-9-]{{2,29}}$ (got {value})",
    ),
    (
        "trailwatch_trail_name",
        lambda v: _matches(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$", v),
        "trailwatch_trail_name must be 3-128 letters, digits, dots, dashes or underscores (got {value})",
    ),
    (
        "trailwatch_kms_key_alias",
        lambda v: _matches(r"^alias/[A-Za-z0-9/_-]+$", v) and not v.startswith("alias/aws/"),
        "trailwatch_kms_key_alias must look like alias/name and not be an AWS managed alias (alias/aws/...)"
        " (got {value})",
    ),
    (
        "trailwatch_log_bucket_name",
        lambda v: v == "" or _matches(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", v),
        "trailwatch_log_bucket_name is not a valid S3 bucket name (got {value})",
    ),
    (
        "trailwatch_log_group_name",
        lambda v: _matches(r"^[A-Za-z0-9_/.#-]{1,512}$", v),
        "trailwatch_log_group_name is not a valid log group name (got {value})",
    ),
    (
        "trailwatch_cloudtrail_role_name",
        lambda v: _matches(r"^[A-Za-z0-9+=,.@_-]{1,64}$", v),
        "trailwatch_cloudtrail_role_name is not a valid IAM role name (got {value})",
    ),
    (
        "trailwatch_exclude_management_event_sources",
        lambda v: not set(v) - set(_EXCLUDABLE_SOURCES),
        "trailwatch_exclude_management_event_sources may only hold kms.amazonaws.com and rdsdata.amazonaws.com"
        " (got {value})",
    ),
    (
        "trailwatch_topic_name",
        lambda v: _matches(r"^[A-Za-z0-9_-]{1,256}$", v),
        "trailwatch_topic_name may only hold letters, digits, dashes and underscores (got {value})",
    ),
    (
        "trailwatch_topic_arn",
        lambda v: v == "" or _matches(_TOPIC_ARN, v),
        "trailwatch_topic_arn must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME) (got {value})",
    ),
    (
        "trailwatch_metric_namespace",
        lambda v: _matches(r"^[^:$][^:]{0,254}$", v),
        "trailwatch_metric_namespace must be a CloudWatch namespace (text up to 255 characters, no colon)",
    ),
    (
        "trailwatch_lock_days",
        lambda v: 1 <= v <= 36500,
        "trailwatch_lock_days must be a whole number of days from 1 to 36500 (got {value})",
    ),
    (
        "trailwatch_lock_reserved_concurrency",
        lambda v: v == -1 or v >= 1,
        "trailwatch_lock_reserved_concurrency must be a whole number of at least 1, or -1 for no reservation"
        " (got {value}; 0 would stop the lock function: turn trailwatch_lock_link off instead)",
    ),
    (
        "trailwatch_assume_role_arn",
        lambda v: v == "" or _matches(_ROLE_ARN, v),
        "trailwatch_assume_role_arn must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME) (got {value})",
    ),
)


def _printable(value):
    """The value as text on one line: control characters (a newline, a tab) written as escapes."""
    text = str(value)
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def _field_problems(values):
    problems = []
    for name, usable, message in _FIELD_CHECKS:
        if name in values and not usable(values[name]):
            problems.append(message.format(value=_printable(values[name])))
    bad_emails = [e for e in values.get("trailwatch_notify_emails") or [] if not _matches(_EMAIL, e)]
    if bad_emails:
        problems.append(f"trailwatch_notify_emails: not an e-mail address: {', '.join(map(_printable, bad_emails))}")
    if values.get("trailwatch_log_bucket_create") is False and not values.get("trailwatch_log_bucket_name"):
        problems.append(
            "trailwatch_log_bucket_name must name the existing bucket when trailwatch_log_bucket_create is false"
        )
    if values.get("trailwatch_kms_key_create") is False and not _matches(
        _KEY_ARN, values.get("trailwatch_kms_key_arn")
    ):
        problems.append(
            "trailwatch_kms_key_arn must be the ARN of the existing key (arn:aws:kms:REGION:ACCOUNT:key/ID)"
            " when trailwatch_kms_key_create is false"
        )
    return problems


@lru_cache(maxsize=None)
def known_regions():
    """``{service: set of regions}`` botocore's endpoint data knows, over every partition, for REGION_SERVICES."""
    from botocore.loaders import create_loader  # imported here: only the region check needs botocore
    from botocore.regions import EndpointResolver

    resolver = EndpointResolver(create_loader().load_data("endpoints"))
    return {
        service: {r for p in resolver.get_available_partitions() for r in resolver.get_available_endpoints(service, p)}
        for service in REGION_SERVICES
    }


def region_problems(region):
    """Why ``region`` cannot be TrailWatch's home region; empty when botocore knows it for every service used."""
    if not _matches(_REGION_SHAPE, region):
        return [f"trailwatch_region must be a region name such as eu-west-1 (got {region})"]
    try:
        import botocore
    except ImportError:  # the modules will say boto3/botocore is missing
        return []
    missing = [s for s, regions in known_regions().items() if region not in regions]
    if not missing:
        return []
    if len(missing) == len(REGION_SERVICES):
        return [
            f"trailwatch_region: {region} is not a region botocore {botocore.__version__} knows; give an existing "
            "region such as eu-west-1 (a region newer than your botocore needs a newer boto3/botocore)"
        ]
    return [f"trailwatch_region: botocore {botocore.__version__} knows no {', '.join(missing)} endpoint in {region}"]


def _tag_text_problems(what, text, limit, may_be_empty):
    problems = []
    if not text and not may_be_empty:
        problems.append(f"{what} is empty")
    if len(text) > limit:
        problems.append(f"{what} has {len(text)} characters, more than {limit}")
    bad = sorted({c for c in text if not (unicodedata.category(c)[0] in "LZN" or c in TAG_EXTRA_CHARACTERS)})
    if bad:
        problems.append(f"{what} holds {''.join(bad)!r}; allowed are letters, digits, spaces and _ . : / = + - @")
    if text.lower().startswith("aws:"):
        problems.append(f"{what} starts with aws:, which AWS reserves")
    return problems


def tag_problems(tags):
    """Every reason a TrailWatch resource would refuse ``tags``; checked before anything is tagged."""
    if not isinstance(tags, dict):
        return ["trailwatch_tags must be a mapping of tag keys to values"]
    problems = []
    if len(tags) > TAG_LIMIT:
        problems.append(
            f"trailwatch_tags has {len(tags)} tags, more than {TAG_LIMIT} (AWS allows 50 per resource and "
            "TrailWatch adds one to its key)"
        )
    seen = {}
    for key, value in tags.items():
        key = str(key)
        found = _tag_text_problems(f"tag key '{key[:40]}'", key, TAG_KEY_MAX, False)
        if key.lower().startswith("trailwatch:"):
            found.append(f"tag key '{key}' starts with trailwatch:, which TrailWatch reserves for its own tags")
        if key.lower() in seen:
            found.append(f"tag keys '{seen[key.lower()]}' and '{key}' differ only in case, which IAM refuses")
        seen[key.lower()] = key
        if not isinstance(value, str) or isinstance(value, bool):
            found.append(f"the value of tag '{key}' must be a text (got {value!r}); quote it")
        else:
            # CloudTrail refuses an empty value (Tag.Value: minimum length 1), the other services accept it.
            found.extend(_tag_text_problems(f"the value of tag '{key}'", value, TAG_VALUE_MAX, False))
        problems.extend(f"trailwatch_tags: {p}" for p in found)
    return problems


# ---------------------------------------------------------------------------------------------------------------
# The validation every entry point runs.


def checked_input(given, previous=None, coverage=False):
    """Converts and checks the TrailWatch variables a task sees; before any AWS call.

    ``given`` maps variable names to their values (the task's view: the caller's variables plus the including
    role's defaults). ``previous`` is an earlier result of this filter for the same host, or nothing. Only what
    changed since a previous result without problems is checked again: every variable is fingerprinted, and one whose
    value is the same is taken over converted, so one run validates the input and merges the presets once however
    many roles check it (a role included on its own, or with other values, checks what differs). ``coverage`` (the
    trail role) also checks that the trail TrailWatch creates records every event the watches count.

    Returns ``{"vars": converted values, "problems": [one line per problem], "watches": the effective watches (the
    presets merged with trailwatch_watches) or None, "warnings": what the coverage check found and let pass,
    "message": the one line to fail with, empty when the input is usable}`` and the fingerprints it reuses.
    Variables of another role that the task cannot see are checked with that role's plain defaults where a check
    combines variables (the watches: the alerts role's default preset).
    """
    spec = input_spec()
    given = {k: v for k, v in (given or {}).items() if k in spec}
    previous = previous if _reusable(previous) else None
    known = previous["digests"] if previous else {}
    digests = {k: _digest(v) for k, v in given.items() if k not in _SECRET_VARIABLES}
    fresh = {k: v for k, v in given.items() if k in _SECRET_VARIABLES or known.get(k) != digests[k]}
    converted, problems = _converted(fresh, spec)

    values = {k: v for k, v in previous["vars"].items() if k not in fresh} if previous else {}
    values.update(converted)
    view = {k: values[k] for k in given if k in values}
    problems.extend(_field_problems(view))
    if "trailwatch_region" in converted:
        before = previous["vars"].get("trailwatch_region") if previous else None
        if before != converted["trailwatch_region"]:
            problems.extend(region_problems(converted["trailwatch_region"]))
    if "trailwatch_tags" in converted:
        problems.extend(tag_problems(converted["trailwatch_tags"]))

    result = {"vars": values, "problems": problems, "digests": dict(known, **digests), "warnings": []}
    result.update(_checked_watch_input(given, view, previous))
    problems.extend(result.pop("watch_problems"))
    if coverage and not problems:
        result.update(_trail_coverage(view, result, previous))
    else:
        result["coverage"] = previous["coverage"] if previous else None
    result["problems"] = _unique(problems)
    result["message"] = _failure(result)
    return result


def _digest(value):
    """A fingerprint of a variable's value: equal values, equal fingerprints."""
    try:
        text = json.dumps(value, sort_keys=True, default=repr, separators=(",", ":"))
    except (TypeError, ValueError):  # keys that cannot be sorted together
        text = repr(value)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def _reusable(previous):
    """An earlier result that found nothing wrong, made by this version of the filter."""
    return (
        isinstance(previous, dict)
        and isinstance(previous.get("digests"), dict)
        and isinstance(previous.get("vars"), dict)
        and not previous.get("problems")
        and not previous.get("message")
    )


def _converted(given, spec):
    """``(converted values, problems)``: each value converted, then choices, list elements and sub-options checked
    exactly as the argument spec declares them."""
    problems = []
    converted = {}
    for name, value in given.items():
        value, problem = _convert(name, spec[name], value)
        if problem:
            problems.append(problem)
        else:
            converted[name] = value
    if not converted:
        return {}, problems
    result = ArgumentSpecValidator({k: spec[k] for k in converted}).validate(converted)
    failed = set()
    for error in result.errors:
        if type(error).__name__ == "NoLogError":
            continue
        message = _validator_message(error)
        problems.append(message)
        failed.update(name for name in converted if name in message)
    values = {
        k: v
        for k, v in result.validated_parameters.items()
        if k in converted and k not in failed and k not in _SECRET_VARIABLES
    }
    return _without_empty_suboptions(values, spec), problems


_WATCH_INPUTS = ("trailwatch_watches", "trailwatch_watch_presets")


def _checked_watch_input(given, view, previous):
    """The effective watches of the view (the presets merged with trailwatch_watches, the alerts role's plain defaults
    for what the view does not hold), checked; merged again only when the watch input changed."""
    if any(name in given and name not in view for name in _WATCH_INPUTS):
        return {"watches": None, "watch_digest": None, "watch_problems": []}  # its conversion problem is reported
    defaults = _literal_defaults()
    watches, presets = (view.get(name, defaults.get(name, [])) for name in _WATCH_INPUTS)
    digest = _digest([watches, presets])
    if previous and previous.get("watch_digest") == digest:
        return {"watches": previous["watches"], "watch_digest": digest, "watch_problems": []}
    problems = watch_errors(watches, _preset_catalog(), presets)
    effective = None if problems else effective_watches(watches, _preset_catalog(), presets)
    return {"watches": effective, "watch_digest": None if problems else digest, "watch_problems": problems}


_COVERAGE_INPUTS = (
    "trailwatch_state",
    "trailwatch_trail_create",
    "trailwatch_read_write_type",
    "trailwatch_exclude_management_event_sources",
    "trailwatch_region",
)


def _trail_coverage(view, result, previous):
    """The coverage check of the trail TrailWatch creates, unless its input is the one checked before:
    ``{"coverage": {"digest", "errors"}, "warnings": [...]}`` (warnings only when worked out here, to show once)."""
    state, create, read_write_type, exclude, region = (view.get(name) for name in _COVERAGE_INPUTS)
    if state == "absent" or create is False or read_write_type is None or result["watches"] is None:
        return {"coverage": None}
    digest = _digest([result["watch_digest"], read_write_type, exclude, region])
    if previous and (previous.get("coverage") or {}).get("digest") == digest:
        return {"coverage": previous["coverage"]}
    coverage = _coverage()
    report = coverage.coverage_report(
        result["watches"], coverage.recording_from_variables(read_write_type, exclude or [], region)
    )
    return {"coverage": {"digest": digest, "errors": report["errors"]}, "warnings": report["warnings"]}


_COVERAGE_FAILURE = (
    "Watches the trail cannot feed (a watch with accept_blind_spots: true is deployed anyway, with a warning): "
)


def _failure(result):
    if result["problems"]:
        return "Invalid TrailWatch input: " + "; ".join(result["problems"])
    errors = (result.get("coverage") or {}).get("errors")
    return _COVERAGE_FAILURE + " ".join(errors) if errors else ""


def _without_empty_suboptions(values, spec):
    """The validator adds every declared sub-option as None; keep only what the user set."""
    for name, value in values.items():
        if spec[name].get("options") and isinstance(value, list):
            values[name] = [{k: v for k, v in item.items() if v is not None} for item in value]
    return values


def _unique(items):
    return list(dict.fromkeys(items))


# ---------------------------------------------------------------------------------------------------------------
# Watches, subscriptions, results.


def _is_watch_list(watches):
    return isinstance(watches, list) and all(isinstance(w, dict) for w in watches)


# The preset every run has, named or not: see effective_watches.
ALWAYS_ON_PRESET = "s3_bucket_created"


def effective_watches(watches, catalog, presets):
    """The watches a run manages: the named presets' watches, then trailwatch_watches merged in by name.

    The ``s3_bucket_created`` preset (TrailWatch's reason to exist) is always among them, whatever presets are
    named, so ``-e trailwatch_watch_presets=cis`` adds CIS instead of silently removing the bucket watch; only
    ``{name: s3-bucket-created, enabled: false}`` turns it off. A user watch with a preset's name overrides the
    fields it sets (threshold, period, ...); ``enabled: false`` drops the watch, so its filter and alarm are removed
    on the next run.
    """
    if not _is_watch_list(watches):
        raise AnsibleFilterError("trailwatch_watches must be a list of {name, pattern, ...} dicts")
    merged = {}
    for preset in dict.fromkeys([ALWAYS_ON_PRESET, *(presets or [])]):
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
    return [
        f"trailwatch_watches: {error}"
        for error in _watches().validation_errors(effective, _places(effective, watches, catalog, presets))
    ]


def _places(effective, watches, catalog, presets):
    """Where each effective watch comes from, as the user wrote it: its index in trailwatch_watches (which may
    override a preset's watch of that name), else ``of preset NAME``; the merged list's own order means nothing to
    the user (the always-on bucket watch comes first)."""
    given = {w.get("name"): index for index, w in reversed(list(enumerate(watches or [])))}
    origin = {}
    for preset in dict.fromkeys([ALWAYS_ON_PRESET, *(presets or [])]):
        for member in (catalog or {}).get(preset, []):
            origin.setdefault(member.get("name"), preset)
    return [
        given[w.get("name")] if w.get("name") in given else f"of preset {origin.get(w.get('name'), '?')}"
        for w in effective
    ]


def _checked_watches(watches, catalog, presets):
    """(the effective watches, []) when the input is usable, else (None, its problems); never raises. ``None`` for
    the watches or the presets is the alerts role's default, for the catalog the alerts role's presets."""
    defaults = _literal_defaults()
    if watches is None:
        watches = defaults.get("trailwatch_watches", [])
    if presets is None:
        presets = defaults.get("trailwatch_watch_presets", [])
    watches = converted_input(watches, "trailwatch_watches")
    presets = converted_input(presets, "trailwatch_watch_presets")
    catalog = _preset_catalog() if catalog is None else catalog
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
    return _coverage().trail_defaults(effective or [])


def watch_coverage(watches, catalog, presets, read_write_type, exclude_sources, region):
    """The coverage check of the trail TrailWatch creates: {errors, warnings}, one line per watch and setting.

    errors: watches the trail settings keep from their events (unless the watch sets accept_blind_spots), or the
    watch input's own problems; warnings: what cannot be decided, and accepted blind spots.
    """
    effective, problems = _checked_watches(watches, catalog, presets)
    if problems:
        return {"errors": problems, "warnings": []}
    coverage = _coverage()
    report = coverage.coverage_report(
        effective, coverage.recording_from_variables(read_write_type, exclude_sources or [], region)
    )
    return {"errors": report["errors"], "warnings": report["warnings"]}


def email_subscriptions(emails, others=None):
    """trailwatch_notify_emails plus trailwatch_subscriptions as the subscriptions of trailwatch.aws.sns_topic."""
    if not isinstance(emails, list):
        raise AnsibleFilterError("trailwatch_notify_emails must be a list of e-mail addresses")
    return [{"protocol": "email", "endpoint": e} for e in emails] + list(others or [])


# Connection options of amazon.aws that name credentials; an assumed role's keys replace all of them.
_CREDENTIAL_OPTIONS = frozenset(
    {
        "profile",
        "aws_profile",
        "access_key",
        "aws_access_key_id",
        "aws_access_key",
        "ec2_access_key",
        "secret_key",
        "aws_secret_access_key",
        "aws_secret_key",
        "ec2_secret_key",
        "session_token",
        "aws_session_token",
        "security_token",
        "aws_security_token",
        "access_token",
    }
)


def assumed_connection(connection, credentials=None):
    """The module defaults of one account: the caller's connection options, with the assumed role's keys in place
    of any profile or keys. ``profile`` is set to "" so that an exported AWS_PROFILE does not apply next to the
    keys (amazon.aws refuses a profile together with keys)."""
    connection, problem = _as_dict("trailwatch_aws_connection", connection)
    if problem:
        raise AnsibleFilterError(problem)
    if not credentials:
        return connection
    kept = {k: v for k, v in connection.items() if k not in _CREDENTIAL_OPTIONS}
    return dict(
        kept,
        profile="",
        access_key=credentials["access_key"],
        secret_key=credentials["secret_key"],
        session_token=credentials["session_token"],
    )


def created_parts(result, parts):
    """Which of ``parts`` a module run created (or in check mode would create): those it changed that did not
    exist before, read from its diff (trailwatch.aws.trail, trailwatch.aws.notifier)."""
    before = ((result or {}).get("diff") or {}).get("before") or {}
    changes = (result or {}).get("changes") or []
    return [
        part
        for part in parts
        if before.get(part) is None and any(c == part or c.startswith(part + ":") for c in changes)
    ]


def created_watches(result, name_prefix):
    """The watches a trailwatch.aws.metric_watches run created (or would create): no filter and no alarm before."""
    before = ((result or {}).get("diff") or {}).get("before") or {}
    if "topic" in (result or {}):
        before = before.get("watches") or {}  # with its topic option, the diff holds the topic and the watches
    created = []
    for name in (result or {}).get("changed_watches") or []:
        found = before.get(f"{name_prefix}{name}") or {}
        if not found.get("filters") and not found.get("alarm"):
            created.append(name)
    return created


_RESULT_LISTS = ("changed", "created", "removed", "kept", "scheduled")


def role_result(result, role, report):
    """trailwatch_result with one role's report merged in.

    The lists (``changed``, ``created``, ``removed``, ``kept``, ``scheduled``) are what each role reported in its
    latest run, in the order the roles ran: including the same role twice in a play replaces its earlier lists
    instead of adding to them. Other keys are set as reported.
    """
    result = dict(result or {})
    parts = dict(result.pop("by_role", None) or {})
    parts.pop(role, None)
    parts[role] = {k: list(report.get(k) or []) for k in _RESULT_LISTS}
    result.update({k: v for k, v in report.items() if k not in _RESULT_LISTS})
    for key in _RESULT_LISTS:
        result[key] = [item for part in parts.values() for item in part[key]]
    result["by_role"] = parts
    return result


class FilterModule:
    def filters(self):
        return {
            "checked_input": checked_input,
            "input_names": input_names,
            "converted_input": converted_input,
            "effective_watches": effective_watches,
            "watch_errors": watch_errors,
            "email_subscriptions": email_subscriptions,
            "trail_recording_defaults": trail_recording_defaults,
            "watch_coverage": watch_coverage,
            "assumed_connection": assumed_connection,
            "role_result": role_result,
            "created_parts": created_parts,
            "created_watches": created_watches,
        }
