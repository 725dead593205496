"""The retention periods CloudWatch Logs accepts are defined once, in _logs.RETENTION_DAYS (CloudWatch Logs API
Reference, PutRetentionPolicy: retentionInDays); the roles' argument specs must offer exactly those (issue 10: the
list existed in several places), so a role cannot accept what the modules refuse or the other way round."""

from pathlib import Path

import pytest
import yaml

from ansible_collections.trailwatch.aws.plugins.module_utils._logs import RETENTION_DAYS

REPO = Path(__file__).resolve().parents[4]
RETENTION_OPTIONS = [
    ("trail", "trailwatch_log_retention_days"),
    ("notifier", "trailwatch_notifier_log_retention_days"),
]


@pytest.mark.parametrize("role, option", RETENTION_OPTIONS)
def test_role_retention_choices_are_the_ones_cloudwatch_logs_accepts(role, option):
    specs = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    choices = [spec["options"][option]["choices"] for spec in specs.values() if option in spec.get("options", {})]
    assert choices, f"{role} declares no {option}"
    assert all(c == list(RETENTION_DAYS) for c in choices), choices


def test_every_retention_option_of_the_roles_is_checked():
    declared = set()
    for path in (REPO / "roles").glob("*/meta/argument_specs.yml"):
        for spec in yaml.safe_load(path.read_text())["argument_specs"].values():
            declared |= {(path.parts[-3], o) for o in spec.get("options", {}) if o.endswith("retention_days")}
    assert declared == set(RETENTION_OPTIONS)


@pytest.mark.parametrize("days, problem", [(365, None), (3653, None), (8, "log_retention_days: 8 is not a value")])
def test_the_modules_refuse_a_retention_cloudwatch_logs_would_refuse(days, problem):
    from ansible_collections.trailwatch.aws.plugins.module_utils._logs import retention_problem

    found = retention_problem("log_retention_days", days)
    assert (found is None) if problem is None else found.startswith(problem)
