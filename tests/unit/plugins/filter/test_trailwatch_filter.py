"""plugins/filter/trailwatch.py: the one validation of TrailWatch input, its conversions, tag and region rules.

The tag rules and the region list are AWS rules (docs/aws-rules.md): they are pinned here against botocore's own
service models and endpoint data, and the CloudTrail empty-value rule with botocore's parameter validation.
"""

import json
import re

import boto3
import botocore.exceptions
import botocore.session
import pytest
from botocore.stub import Stubber

from ansible_collections.trailwatch.aws.plugins.filter import trailwatch as tw

WATCH = {"name": "mine", "pattern": '{ $.eventName = "X" }'}


# --- conversions: what people type on the command line ----------------------------------------------------------


@pytest.mark.parametrize(
    "given, expected",
    [
        ({"trailwatch_watch_presets": "cis"}, {"trailwatch_watch_presets": ["cis"]}),
        (
            {"trailwatch_watch_presets": "s3_bucket_created, cis"},
            {"trailwatch_watch_presets": ["s3_bucket_created", "cis"]},
        ),
        ({"trailwatch_watch_presets": '["cis", "platform"]'}, {"trailwatch_watch_presets": ["cis", "platform"]}),
        ({"trailwatch_notify_emails": "me@example.com"}, {"trailwatch_notify_emails": ["me@example.com"]}),
        ({"trailwatch_notify_emails": ""}, {"trailwatch_notify_emails": []}),
        ({"trailwatch_notify_emails": None}, {"trailwatch_notify_emails": []}),
        ({"trailwatch_tags": "team=audit,env=prod"}, {"trailwatch_tags": {"team": "audit", "env": "prod"}}),
        ({"trailwatch_tags": '{"team": "audit"}'}, {"trailwatch_tags": {"team": "audit"}}),
        ({"trailwatch_tags": ""}, {"trailwatch_tags": {}}),
        ({"trailwatch_purge_data": "on"}, {"trailwatch_purge_data": True}),
        ({"trailwatch_purge_data": "no"}, {"trailwatch_purge_data": False}),
        ({"trailwatch_log_retention_days": "731"}, {"trailwatch_log_retention_days": 731}),
        ({"trailwatch_lock_days": "7"}, {"trailwatch_lock_days": 7}),
        ({"trailwatch_notifier": "yes"}, {"trailwatch_notifier": True}),
        (
            {"trailwatch_subscriptions": '[{"protocol": "sqs", "endpoint": "arn:aws:sqs:eu-west-1:123456789012:q"}]'},
            {"trailwatch_subscriptions": [{"protocol": "sqs", "endpoint": "arn:aws:sqs:eu-west-1:123456789012:q"}]},
        ),
        # Sub-options the user did not set stay unset (the validator would add them as None).
        ({"trailwatch_watches": [dict(WATCH, threshold="2")]}, {"trailwatch_watches": [dict(WATCH, threshold=2.0)]}),
    ],
)
def test_typed_forms_are_converted_as_the_argument_spec_declares(given, expected):
    checked = tw.checked_input(given)
    assert checked["problems"] == []
    assert checked["vars"] == expected


def _list_and_dict_variables():
    spec = tw.input_spec()
    return sorted(n for n, o in spec.items() if o.get("type") in ("list", "dict") and n not in tw._SECRET_VARIABLES)


@pytest.mark.parametrize("name", _list_and_dict_variables())
def test_every_list_and_mapping_variable_takes_a_typed_value_or_says_the_syntax(name):
    option = tw.input_spec()[name]
    if option["type"] == "dict":
        value, problem = tw._convert(name, option, "team=audit")
        assert (value, problem) == ({"team": "audit"}, None)
        value, problem = tw._convert(name, option, "audit")
    elif option.get("elements") == "dict":
        value, problem = tw._convert(name, option, "something")
    else:
        value, problem = tw._convert(name, option, "a,b")
        assert (value, problem) == (["a", "b"], None)
        value, problem = tw._convert(name, option, {"a": 1})
    assert value is None
    assert problem.startswith(f"{name} must be a ") and f'-e \'{{"{name}": ' in problem


def test_the_checked_variables_are_those_of_every_role_and_playbook():
    spec = tw.input_spec()
    for role in tw.ROLES:
        options = tw._role_yaml(role, "meta/argument_specs.yml")["argument_specs"]["main"]["options"]
        assert set(options) <= set(spec), role
    assert set(tw.PLAYBOOK_OPTIONS) <= set(spec)
    assert tw.input_names(["trailwatch_name", "trailwatch_result", "trailwatch__input", "other"]) == ["trailwatch_name"]


def test_a_variable_several_roles_declare_is_checked_with_its_most_detailed_declaration():
    declared = {}
    for role in tw.ROLES:
        options = tw._role_yaml(role, "meta/argument_specs.yml")["argument_specs"]["main"]["options"]
        for name, option in options.items():
            declared.setdefault(name, []).append(option)
    for name, options in declared.items():
        assert len({(o.get("type", "str"), o.get("elements")) for o in options}) == 1, name  # one type everywhere
        most = max(len(o.get("options") or {}) + len(o.get("choices") or []) for o in options)
        assert len(tw.input_spec()[name].get("options") or {}) + len(tw.input_spec()[name].get("choices") or []) == most
    assert "threshold" in tw.input_spec()["trailwatch_watches"]["options"]


def test_connection_settings_are_converted_but_never_returned_or_shown():
    checked = tw.checked_input({"trailwatch_aws_connection": "profile=secret-profile"})
    assert checked["vars"] == {} and checked["problems"] == [] and checked["message"] == ""
    # not even a fingerprint of it is kept (it is checked again each time, which costs nothing)
    assert "secret-profile" not in json.dumps(checked) and "trailwatch_aws_connection" not in json.dumps(checked)
    checked = tw.checked_input({"trailwatch_aws_connection": ["secret-value"]})
    assert (
        "secret-value" not in json.dumps(checked)
        and "trailwatch_aws_connection must be a mapping" in checked["problems"][0]
    )


# --- problems: one line each, naming the variable -----------------------------------------------------------------


@pytest.mark.parametrize(
    "given, problem",
    [
        ({"trailwatch_log_retention_days": 100}, "trailwatch_log_retention_days must be one of 1, 3, 5, 7, 14"),
        (
            {"trailwatch_log_retention_days": "a year"},
            "trailwatch_log_retention_days must be a whole number (got 'a year')",
        ),
        ({"trailwatch_purge_data": "maybe"}, "trailwatch_purge_data must be true or false (got 'maybe')"),
        ({"trailwatch_metric_namespace": ["TrailWatch"]}, "trailwatch_metric_namespace must be a text"),
        ({"trailwatch_name": True}, "trailwatch_name must be a text"),
        ({"trailwatch_state": "gone"}, "trailwatch_state must be one of present, absent (got gone)"),
        ({"trailwatch_subscriptions": [{"protocol": "sqs"}]}, "trailwatch_subscriptions: every entry needs endpoint"),
        (
            {"trailwatch_subscriptions": [{"protocol": "pigeon", "endpoint": "roof"}]},
            "trailwatch_subscriptions: field protocol must be one of email",
        ),
        (
            {"trailwatch_subscriptions": [{"protocol": "sqs", "endpoint": "e", "x": 1}]},
            "trailwatch_subscriptions: unknown field x",
        ),
        ({"trailwatch_subscriptions": "sqs"}, "trailwatch_subscriptions must be a list of mappings (got 'sqs')"),
        (
            {"trailwatch_watches": [dict(WATCH, threshold="one")]},
            "trailwatch_watches: field threshold must be a number",
        ),
        ({"trailwatch_watches": [dict(WATCH, threshold=0)]}, "threshold must be positive"),
        ({"trailwatch_watches": [dict(WATCH, name="my watch")]}, "name must match"),
        ({"trailwatch_watches": [dict(WATCH, period=45)]}, "period must be 10, 20, 30 or a multiple of 60"),
        ({"trailwatch_watch_presets": "nist"}, "trailwatch_watch_presets: unknown preset nist"),
        ({"trailwatch_name": "TrailWatch"}, "trailwatch_name must match"),
        ({"trailwatch_notify_emails": "me@localhost"}, "trailwatch_notify_emails: not an e-mail address: me@localhost"),
        ({"trailwatch_log_bucket_create": "false"}, "trailwatch_log_bucket_name must name the existing bucket"),
        ({"trailwatch_kms_key_create": False, "trailwatch_kms_key_arn": "x"}, "trailwatch_kms_key_arn must be the ARN"),
        ({"trailwatch_lock_days": 0}, "trailwatch_lock_days must be a whole number of days from 1 to 36500 (got 0)"),
        ({"trailwatch_lock_reserved_concurrency": "0"}, "trailwatch_lock_reserved_concurrency must be a whole number"),
        ({"trailwatch_assume_role_arn": "TrailWatchDeployer"}, "trailwatch_assume_role_arn must be an IAM role ARN"),
        ({"trailwatch_region": "EU-WEST-1"}, "trailwatch_region must be a region name such as eu-west-1"),
        ({"trailwatch_region": "xx-nowhere-9"}, "trailwatch_region: xx-nowhere-9 is not a region botocore"),
        # A final newline passes a `$`-anchored re.match (found by the issue 14 breaker); the message stays one line.
        ({"trailwatch_notify_emails": ["a@b.cc\n"]}, "trailwatch_notify_emails: not an e-mail address: a@b.cc\\n"),
        ({"trailwatch_topic_name": "alerts\n"}, "trailwatch_topic_name"),
        ({"trailwatch_kms_key_alias": "alias/trailwatch\n"}, "trailwatch_kms_key_alias"),
        ({"trailwatch_log_group_name": "group\n"}, "trailwatch_log_group_name"),
        ({"trailwatch_watches": [dict(WATCH, name="x1\n")]}, "(x1\\n): name must match"),
        ({"trailwatch_watches": [dict(WATCH, metric_name="a:b")]}, "metric_name must be 1-255 characters"),
        ({"trailwatch_watches": [dict(WATCH, metric_name="m" * 256)]}, "metric_name must be 1-255 characters"),
        ({"trailwatch_watches": [dict(WATCH, description="d" * 1025)]}, "description has 1025 characters"),
    ],
)
def test_bad_input_is_one_line_naming_the_variable(given, problem):
    problems = tw.checked_input(given)["problems"]
    assert any(p.startswith(problem) or problem in p for p in problems), problems
    assert all("\n" not in p and len(p) < 400 for p in problems), problems


def test_watches_given_where_the_alerts_defaults_are_not_loaded_use_them():
    """The trail role checks the alerts' input too: a watch merges with the alerts role's default preset."""
    problems = tw.checked_input({"trailwatch_watches": [{"name": "s3-bucket-created", "threshold": 0}]})["problems"]
    assert problems == ["trailwatch_watches: watch 0 (s3-bucket-created): threshold must be positive"]


def test_a_region_found_usable_before_is_not_looked_up_again(monkeypatch):
    first = tw.checked_input({"trailwatch_region": "eu-west-1"})
    monkeypatch.setattr(tw, "region_problems", lambda region: pytest.fail("looked up again"))
    assert tw.checked_input({"trailwatch_region": "eu-west-1"}, first)["problems"] == []


# --- the AWS rules behind the tag and region checks (docs/aws-rules.md) ---------------------------------------------

# The tagging operation of each resource TrailWatch tags (create calls carry the same shapes).
TAGGING = {
    "cloudtrail": "AddTags",
    "kms": "TagResource",
    "s3": "PutBucketTagging",
    "logs": "TagResource",
    "iam": "TagRole",
    "sns": "TagResource",
    "cloudwatch": "TagResource",
    "lambda": "TagResource",
    "ssm": "AddTagsToResource",
}


def _tag_shapes(service, operation):
    """(key shape, value shape, list-or-map shape) of the operation's tags."""
    model = botocore.session.get_session().get_service_model(service)
    shape = model.operation_model(operation).input_shape
    tags = shape.members.get("Tags") or shape.members.get("TagsList") or shape.members.get("tags")
    if tags is None:  # S3: Tagging.TagSet
        tags = shape.members["Tagging"].members["TagSet"]
    if tags.type_name == "map":
        return tags.key, tags.value, tags
    members = tags.member.members
    key = members.get("Key") or members.get("TagKey")
    value = members.get("Value") or members.get("TagValue")
    return key, value, tags


@pytest.mark.parametrize("service, operation", TAGGING.items())
def test_tag_limits_are_within_every_tagged_services_model(service, operation):
    key, value, tags = _tag_shapes(service, operation)
    assert tw.TAG_KEY_MAX <= key.metadata.get("max", tw.TAG_KEY_MAX)
    assert tw.TAG_VALUE_MAX <= value.metadata.get("max", tw.TAG_VALUE_MAX)
    assert key.metadata.get("min", 1) <= 1
    assert value.metadata.get("min", 0) <= 1  # CloudTrail's is 1: empty values are refused for every service
    assert tw.TAG_LIMIT < tags.metadata.get("max", 50)
    for shape in (key, value):
        pattern = shape.metadata.get("pattern")
        if pattern:  # e.g. ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$: letters, separators, numbers and these characters
            assert re.search(r"\\p\{L\}\\p\{Z\}\\p\{N\}", pattern), pattern
            extras = set(re.sub(r"\\p\{[LZN]\}|[\^$()\[\]*+]$|\\", "", pattern.split("]")[0].split("[", 1)[1]))
            assert extras == set(tw.TAG_EXTRA_CHARACTERS), (pattern, extras)


def test_cloudtrail_refuses_an_empty_tag_value_before_sending_it():
    """botocore checks CloudTrail's Tag.Value minimum length of 1 on the client: the tag check must refuse "" first."""
    client = boto3.client("cloudtrail", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b")
    stubber = Stubber(client)
    stubber.add_response("add_tags", {})  # never reached: the parameters are refused before anything is sent
    with stubber, pytest.raises(botocore.exceptions.ParamValidationError, match="valid min length: 1"):
        client.add_tags(
            ResourceId="arn:aws:cloudtrail:eu-west-1:123456789012:trail/t", TagsList=[{"Key": "k", "Value": ""}]
        )
    assert tw.tag_problems({"k": ""}) == ["trailwatch_tags: the value of tag 'k' is empty"]


@pytest.mark.parametrize(
    "tags, problem",
    [
        ({"aws:owner": "x"}, "tag key 'aws:owner' starts with aws:, which AWS reserves"),
        ({"AWS:owner": "x"}, "starts with aws:"),
        ({"owner": "aws:x"}, "the value of tag 'owner' starts with aws:"),
        ({"trailwatch:alias": "x"}, "starts with trailwatch:, which TrailWatch reserves"),
        ({"k" * 129: "x"}, "has 129 characters, more than 128"),
        ({"owner": "x" * 257}, "the value of tag 'owner' has 257 characters, more than 256"),
        ({"cost,center": "1"}, "holds ','; allowed are letters, digits, spaces and _ . : / = + - @"),
        ({"owner": "a;b"}, "holds ';'"),
        ({"Team": "a", "team": "b"}, "differ only in case, which IAM refuses"),
        ({"cost": 42}, "the value of tag 'cost' must be a text (got 42); quote it"),
        ({f"k{i}": "v" for i in range(50)}, "trailwatch_tags has 50 tags, more than 49"),
    ],
)
def test_tags_a_service_would_refuse_are_refused_first(tags, problem):
    problems = tw.tag_problems(tags)
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    "tags",
    [{}, {"team": "audit"}, {"Kostenstelle": "Überwachung 42", "owner": "ops@example.com", "path": "/a/b=c+d:e_f.g-h"}],
)
def test_tags_every_service_accepts_pass(tags):
    assert tw.tag_problems(tags) == []


def test_the_region_must_be_known_to_botocore_for_every_service_used():
    session = botocore.session.get_session()
    for prefix in tw.REGION_SERVICES:
        service = {"monitoring": "cloudwatch"}.get(prefix, prefix)  # endpoint prefix -> service name
        known = {r for p in session.get_available_partitions() for r in session.get_available_regions(service, p)}
        # The regions botocore's session offers for the service, over every partition.
        assert known == tw.known_regions()[prefix], prefix
        assert {"eu-west-1", "us-east-1", "cn-north-1", "us-gov-west-1"} <= known
    assert tw.region_problems("eu-west-1") == []
    assert tw.region_problems("xx-nowhere-9")[0].startswith("trailwatch_region: xx-nowhere-9 is not a region botocore")


def test_a_region_some_services_lack_names_them(monkeypatch):
    regions = {s: {"eu-west-1", "eu-new-1"} for s in tw.REGION_SERVICES}
    regions["lambda"] = {"eu-west-1"}
    monkeypatch.setattr(tw, "known_regions", lambda: regions)
    assert tw.region_problems("eu-new-1") == [
        f"trailwatch_region: botocore {botocore.__version__} knows no lambda endpoint in eu-new-1"
    ]


# --- connection and results ----------------------------------------------------------------------------------------


def test_assumed_keys_replace_a_profile_and_other_keys():
    connection = {"profile": "org", "aws_secret_key": "old", "endpoint_url": "http://x", "aws_config": {"a": 1}}
    creds = {"access_key": "AK", "secret_key": "SK", "session_token": "ST", "expiration": "later"}
    assert tw.assumed_connection(connection, creds) == {
        "endpoint_url": "http://x",
        "aws_config": {"a": 1},
        "profile": "",  # outranks an exported AWS_PROFILE, which amazon.aws would refuse next to keys
        "access_key": "AK",
        "secret_key": "SK",
        "session_token": "ST",
    }
    assert tw.assumed_connection(connection) == connection
    assert tw.assumed_connection("profile=org") == {"profile": "org"}


def test_a_role_included_twice_reports_its_last_run_only():
    result = tw.role_result({}, "trail", {"region": "r", "changed": ["kms_key"], "created": ["kms_key"]})
    result = tw.role_result(result, "alerts", {"changed": ["topic"]})
    result = tw.role_result(result, "alerts", {"changed": []})
    assert result["changed"] == ["kms_key"] and result["created"] == ["kms_key"] and result["region"] == "r"
    result = tw.role_result(result, "trail", {"removed": ["trail"], "scheduled": ["kms_key"], "kept": ["log_group"]})
    assert (result["changed"], result["removed"], result["scheduled"], result["kept"]) == (
        [],
        ["trail"],
        ["kms_key"],
        ["log_group"],
    )


def test_created_parts_are_changed_parts_that_did_not_exist():
    result = {
        "changes": ["kms_key", "trail:created", "role:policy"],
        "diff": {"before": {"kms_key": None, "trail": None, "role": {}}},
    }
    assert tw.created_parts(result, ["kms_key", "s3_bucket", "role", "trail"]) == ["kms_key", "trail"]
    watches = {
        "changed_watches": ["new", "old"],
        "diff": {"before": {"tw-new": {"filters": [], "alarm": None}, "tw-old": {"filters": [{}], "alarm": None}}},
    }
    assert tw.created_watches(watches, "tw-") == ["new"]
    # metric_watches with its topic option: the diff holds the topic and the watches.
    with_topic = dict(watches, topic={}, diff={"before": {"topic": {}, "watches": watches["diff"]["before"]}})
    assert tw.created_watches(with_topic, "tw-") == ["new"]


# --- once per run: what an earlier validation checked with the same value is taken over -----------------------------

SITE_VIEW = {
    "trailwatch_name": "trailwatch",
    "trailwatch_region": "eu-west-1",
    "trailwatch_watch_presets": ["s3_bucket_created", "cis"],
    "trailwatch_state": "present",
    "trailwatch_trail_create": True,
    "trailwatch_read_write_type": "All",
    "trailwatch_exclude_management_event_sources": [],
}


def _no_second_pass(monkeypatch):
    for name in ("watch_errors", "effective_watches", "region_problems"):
        monkeypatch.setattr(tw, name, lambda *a, _n=name, **k: pytest.fail(f"{_n} ran again"))
    monkeypatch.setattr(tw._coverage(), "coverage_report", lambda *a, **k: pytest.fail("coverage_report ran again"))


def test_the_same_input_is_validated_and_merged_once(monkeypatch):
    first = tw.checked_input(SITE_VIEW, coverage=True)
    assert first["message"] == "" and len(first["watches"]) == 15
    _no_second_pass(monkeypatch)
    again = tw.checked_input(dict(SITE_VIEW), first, coverage=True)
    assert (again["vars"], again["watches"], again["message"]) == (first["vars"], first["watches"], "")
    # another role's view: its own defaults are new and checked, the watches are not merged again
    alerts = tw.checked_input(dict(SITE_VIEW, trailwatch_topic_name="trailwatch-alerts"), again)
    assert alerts["vars"]["trailwatch_topic_name"] == "trailwatch-alerts" and alerts["watches"] == first["watches"]


def test_a_role_view_with_a_bad_new_variable_still_fails():
    first = tw.checked_input(SITE_VIEW, coverage=True)
    checked = tw.checked_input(dict(SITE_VIEW, trailwatch_topic_name="bad name!"), first)
    assert checked["message"].startswith("Invalid TrailWatch input: trailwatch_topic_name may only hold")


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"trailwatch_watch_presets": ["nist"]}, "trailwatch_watch_presets: unknown preset nist"),
        ({"trailwatch_watches": [{"name": "vpc-changed", "period": 45}]}, "period must be 10, 20, 30"),
        ({"trailwatch_region": "xx-nowhere-9"}, "is not a region botocore"),
        ({"trailwatch_tags": {"aws:x": "y"}}, "starts with aws:"),
        ({"trailwatch_name": "X"}, "trailwatch_name must match"),
    ],
)
def test_changed_input_is_checked_again(change, problem):
    first = tw.checked_input(SITE_VIEW, coverage=True)
    checked = tw.checked_input(dict(SITE_VIEW, **change), first, coverage=True)
    assert problem in checked["message"], checked["message"]


def test_changed_watches_are_merged_again():
    first = tw.checked_input(SITE_VIEW)
    checked = tw.checked_input(dict(SITE_VIEW, trailwatch_watch_presets=["s3_bucket_created"]), first)
    assert [w["name"] for w in checked["watches"]] == ["s3-bucket-created"]


def test_a_result_with_problems_is_not_taken_over():
    bad = tw.checked_input(dict(SITE_VIEW, trailwatch_watch_presets=["nist"]))
    assert bad["problems"]
    assert tw.checked_input(dict(SITE_VIEW, trailwatch_watch_presets=["nist"]), bad)["problems"] == bad["problems"]


def test_the_coverage_check_runs_again_when_the_trail_settings_change():
    first = tw.checked_input(SITE_VIEW, coverage=True)
    narrowed = tw.checked_input(dict(SITE_VIEW, trailwatch_read_write_type="WriteOnly"), first, coverage=True)
    assert narrowed["message"].startswith("Watches the trail cannot feed (a watch with accept_blind_spots: true")
    assert "Watch unauthorized-api-calls: trailwatch_read_write_type is WriteOnly" in narrowed["message"]
    # not asked for (the alerts and notifier roles), or with the trail removed: no coverage check
    assert tw.checked_input(dict(SITE_VIEW, trailwatch_read_write_type="WriteOnly"))["message"] == ""
    absent = dict(SITE_VIEW, trailwatch_read_write_type="WriteOnly", trailwatch_state="absent")
    assert tw.checked_input(absent, coverage=True)["message"] == ""


def test_coverage_warnings_are_shown_once():
    # a data event watch (GetObject) that accepts the blind spot: a warning, not an error
    watch = {"name": "objects-read", "pattern": '{ $.eventName = "GetObject" }', "accept_blind_spots": True}
    accepted = dict(SITE_VIEW, trailwatch_watches=[watch])
    first = tw.checked_input(accepted, coverage=True)
    assert first["message"] == "" and first["warnings"]
    assert tw.checked_input(accepted, first, coverage=True)["warnings"] == []


@pytest.mark.parametrize(
    "presets, watches, has_bucket_watch",
    [
        (["cis"], [], True),  # "add CIS" keeps the bucket watch
        ([], [{"name": "mine", "pattern": '{ $.eventName = "X" }'}], True),
        (["cis", "s3_bucket_created"], [], True),
        (["cis"], [{"name": "s3-bucket-created", "enabled": False}], False),  # the one way to turn it off
    ],
)
def test_the_bucket_watch_is_always_on_unless_turned_off(presets, watches, has_bucket_watch):
    catalog = tw._preset_catalog()
    names = [w["name"] for w in tw.effective_watches(watches, catalog, presets)]
    assert ("s3-bucket-created" in names) is has_bucket_watch
    assert len(names) == len(set(names))
    if "cis" in presets:
        assert "root-account-used" in names


_CATALOG = {
    "s3_bucket_created": [{"name": "s3-bucket-created", "pattern": '{ ($.eventName = "CreateBucket") }'}],
    "cis": [{"name": "root-usage", "pattern": '{ $.userIdentity.type = "Root" }'}],
}


@pytest.mark.parametrize(
    "watches, presets, problem",
    [
        # The user's first watch is watch 0 of trailwatch_watches, though the always-on bucket watch comes first.
        ([{"name": "mine", "pattern": "{ $.a = 1 }", "threshold": 0}], [], "watch 0 (mine): threshold"),
        (
            [{"name": "ok", "pattern": "{ $.a = 1 }"}, {"name": "bad", "pattern": "{ $.a = 1 }", "period": 7}],
            ["cis"],
            "watch 1 (bad): period",
        ),
        # Overriding a preset's watch: its index in trailwatch_watches.
        (
            [{"name": "ok", "pattern": "{ $.a = 1 }"}, {"name": "root-usage", "threshold": -1}],
            ["cis"],
            "watch 1 (root-usage)",
        ),
        ([{"name": "s3-bucket-created", "period": 7}], [], "watch 0 (s3-bucket-created): period"),
    ],
)
def test_a_watch_problem_names_the_place_the_user_wrote_it(watches, presets, problem):
    problems = tw.watch_errors(watches, _CATALOG, presets)
    assert len(problems) == 1 and problems[0].startswith(f"trailwatch_watches: {problem}"), problems


def test_a_preset_watch_is_named_by_its_preset():
    catalog = dict(_CATALOG, cis=[{"name": "root-usage", "pattern": "{ $.a = }"}])
    problems = tw.watch_errors([], catalog, ["cis"])
    assert problems and problems[0].startswith("trailwatch_watches: watch of preset cis (root-usage): pattern:"), (
        problems
    )
