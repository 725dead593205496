"""The watch schema (module_utils/_watches.py) is the one definition of a watch: the metric_watches module's argument
spec is built from it, the filter plugin checks the roles' input with it, and every role's meta/argument_specs.yml
(which Ansible needs as a file) must declare the same fields, types, defaults, choices and required flags."""

from pathlib import Path

import pytest
import yaml

from ansible_collections.trailwatch.aws.plugins.filter import trailwatch as filters
from ansible_collections.trailwatch.aws.plugins.module_utils import _watches

REPO = Path(__file__).resolve().parents[4]
COMPARED = ("type", "default", "choices", "required", "elements")


def _role_declarations():
    """(role, entry point, declaration) of trailwatch_watches in every role's argument specs."""
    found = []
    for path in sorted((REPO / "roles").glob("*/meta/argument_specs.yml")):
        specs = yaml.safe_load(path.read_text())["argument_specs"]
        for entry, spec in specs.items():
            option = (spec.get("options") or {}).get("trailwatch_watches")
            if option is not None:
                found.append((path.parts[-3], entry, option))
    return found


def _shape(options):
    return {name: {k: option[k] for k in COMPARED if k in option} for name, option in options.items()}


def _declared_shape(options):
    shape = _shape(options)
    for option in shape.values():
        option.setdefault("type", "str")  # Ansible's default type, as in the module's argument spec
        if option.get("required") is False:
            del option["required"]
    return shape


DECLARATIONS = _role_declarations()


def test_the_alerts_role_declares_the_watch_fields():
    assert any(role == "alerts" and option.get("options") for role, _entry, option in DECLARATIONS)


@pytest.mark.parametrize("role, entry, option", DECLARATIONS, ids=[f"{r}-{e}" for r, e, _o in DECLARATIONS])
def test_role_argument_spec_agrees_with_the_watch_schema(role, entry, option):
    assert (option.get("type"), option.get("elements")) == ("list", "dict"), f"{role} {entry}"
    if option.get("options"):  # a role may refer to the alerts role's declaration instead of repeating it
        assert _declared_shape(option["options"]) == _shape(_watches.watch_input_options()), f"{role} {entry}"


def test_module_argument_spec_is_the_watch_schema():
    # the input adds only `enabled` and makes the pattern optional (a watch may override a preset's by name)
    module = _shape(_watches.watch_options())
    role = _shape(_watches.watch_input_options())
    assert set(role) - set(module) == {"enabled"}
    assert module["pattern"]["required"] is True and "required" not in role["pattern"]
    assert {k: v for k, v in role.items() if k not in ("enabled", "pattern")} == {
        k: v for k, v in module.items() if k != "pattern"
    }


def test_the_filter_checks_the_input_with_the_schema_and_no_defaults():
    # defaults left out: a field the user does not set keeps the preset's value when the two are merged
    options = filters.input_spec()["trailwatch_watches"]["options"]
    assert set(options) == set(_watches.watch_input_options())
    assert not [name for name, option in options.items() if "default" in option]


def test_the_default_watch_is_only_the_preset():
    defaults = yaml.safe_load((REPO / "roles" / "alerts" / "defaults" / "main.yml").read_text())
    assert defaults["trailwatch_watches"] == []
    assert defaults["trailwatch_watch_presets"] == ["s3_bucket_created"]


@pytest.mark.parametrize(
    "watch, field, expected",
    [
        ({}, "Period", 60),
        ({"period": 300}, "Period", 300),
        ({}, "EvaluationPeriods", 1),
        ({"evaluation_periods": 3}, "EvaluationPeriods", 3),
        ({"evaluation_periods": 3}, "DatapointsToAlarm", 3),
        ({}, "Threshold", 1.0),
        ({"threshold": 2}, "Threshold", 2.0),
    ],
)
def test_desired_watches_fills_in_the_schema_defaults(watch, field, expected):
    desired = _watches.desired_watches([dict({"name": "w", "pattern": "{ $.a = 1 }"}, **watch)], "p-", "NS", ["arn"])
    assert desired[0]["alarm"][field] == expected
