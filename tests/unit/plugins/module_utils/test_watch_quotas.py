"""The CloudWatch Logs quotas a watch list must respect, checked before any AWS call and naming the watch.

Per pattern (in _filter_pattern, through pattern_error): 1024 characters, 2 regular expressions in a JSON or
space-delimited pattern, 1 wildcard per property selector and 3 wildcard selectors per pattern. Per log group (in
_watches.validation_errors, which the metric_watches module and the alerts role's watch_errors filter run first):
100 metric filters and 5 filter patterns holding a regular expression. moto checks none of them.
"""

import pytest

from ansible_collections.trailwatch.aws.plugins.filter.trailwatch import watch_errors
from ansible_collections.trailwatch.aws.plugins.module_utils._watches import MAX_METRIC_FILTERS
from ansible_collections.trailwatch.aws.plugins.module_utils._watches import MAX_REGEX_PATTERNS
from ansible_collections.trailwatch.aws.plugins.module_utils._watches import validation_errors

PLAIN = '{ ($.eventName = "CreateBucket") }'
REGEX = "{ $.eventName = %^Delete[A-Za-z]+% }"


def watches(count, pattern=PLAIN, prefix="w"):
    return [{"name": f"{prefix}{n}", "pattern": pattern} for n in range(count)]


def test_the_quotas_are_those_aws_documents():
    # PutMetricFilter (CloudWatch Logs API reference): "The maximum number of metric filters that can be associated
    # with a log group is 100." ... "There is also a quota of five regular expression patterns per log group."
    assert (MAX_METRIC_FILTERS, MAX_REGEX_PATTERNS) == (100, 5)


def test_one_hundred_watches_fit_in_a_log_group():
    assert validation_errors(watches(100)) == []


def test_the_hundred_and_first_watch_is_named():
    assert validation_errors(watches(102)) == [
        "watch 100 (w100): a log group holds at most 100 metric filters (CloudWatch Logs quota) and there are 102 "
        "watches; drop or disable 2"
    ]


def test_five_patterns_with_a_regular_expression_fit():
    assert validation_errors(watches(5, REGEX) + watches(3, PLAIN, "p")) == []


def test_a_sixth_pattern_with_a_regular_expression_is_named():
    listed = watches(3, REGEX) + watches(2, PLAIN, "p") + watches(4, "[w1 = %^ERR%, w2 = %x% || w2 = y]", "d")
    errors = validation_errors(listed)
    assert errors == [
        f"watch {index} ({name}): pattern: a log group holds at most 5 filter patterns with a regular expression "
        "(CloudWatch Logs quota) and w0, w1, w2, d0, d1 already have one; use terms or * wildcards instead of %regex%"
        for index, name in ((7, "d2"), (8, "d3"))
    ]


@pytest.mark.parametrize(
    "pattern",
    [
        pytest.param('{ $.errorCode = "%not a regex%" }', id="percent-signs-in-quotes"),
        pytest.param("{ $.eventName = Delete* }", id="wildcard"),
        pytest.param("%broken(%", id="invalid-pattern-is-reported-once-as-such"),
    ],
)
def test_only_regular_expressions_count(pattern):
    errors = validation_errors(watches(6, pattern))
    assert not any("regular expression (CloudWatch Logs quota)" in e for e in errors), errors


@pytest.mark.parametrize(
    "pattern, error",
    [
        pytest.param(
            "{ $.a = %a% || $.b = %b% || $.c = %c% }",
            "too many regular expressions at position 35: a pattern may hold 2",
            id="three-regexes",
        ),
        pytest.param(
            "{ $.Statement[*].Principal.* = x }",
            "a second wildcard in one selector at position 27: "
            "CloudWatch Logs allows one wildcard per property selector",
            id="two-wildcards-in-a-selector",
        ),
        pytest.param(
            "{ $.a[*] = 1 || $.b[*] = 1 || $.c[*] = 1 || $.d[*] = 1 }",
            "too many wildcard selectors at position 45: CloudWatch Logs allows 3 per pattern",
            id="four-wildcard-selectors",
        ),
        pytest.param(
            "x" * 1025,
            "the pattern goes past the 1024 characters CloudWatch Logs accepts at position 1025: it has 1025",
            id="1025-characters",
        ),
    ],
)
def test_a_pattern_past_a_per_pattern_quota_names_its_watch(pattern, error):
    assert validation_errors([{"name": "too-much", "pattern": pattern}]) == [f"watch 0 (too-much): pattern: {error}"]


def test_the_alerts_role_filter_reports_the_quotas_before_any_aws_call():
    # roles/alerts/tasks/validate.yml asserts that watch_errors is empty before any task calls AWS
    catalog = {"s3_bucket_created": [{"name": "s3-bucket-created", "pattern": PLAIN}]}
    errors = watch_errors(watches(6, REGEX), catalog, ["s3_bucket_created"])
    assert errors == [
        "trailwatch_watches: watch 5 (w5): pattern: a log group holds at most 5 filter patterns with a regular "
        "expression (CloudWatch Logs quota) and w0, w1, w2, w3, w4 already have one; use terms or * wildcards "
        "instead of %regex%"
    ]
