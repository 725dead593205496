"""The coverage check (plugins/module_utils/_coverage.py): which events a watch counts, and which a trail records.

- Every preset watch x every trail setting: the settings that blind it, as a table (EXPECTED).
- The needs derived from each preset pattern are proven against the sample records (tests/samples/cloudtrail): every
  sample a watch matches is among its needs, and a trail setting that drops a matching sample is reported.
- User watches: data events, term patterns, wildcards, readOnly and region constraints, unknown API verbs.
- The AWS facts the check relies on (docs/aws-rules.md, section CloudTrail): excluded sources, global service events,
  AWS's default selector, basic and advanced selectors.
"""

import json
import runpy
from pathlib import Path

import botocore.session
import pytest
import yaml

runpy.run_path(str(Path(__file__).resolve().parent.parent / "conftest.py"))

from ansible_collections.trailwatch.aws.plugins.module_utils import _coverage as coverage  # noqa: E402
from ansible_collections.trailwatch.aws.plugins.module_utils._filter_pattern import matches  # noqa: E402
from ansible_collections.trailwatch.aws.plugins.module_utils._filter_pattern import parse  # noqa: E402

REPO = Path(__file__).resolve().parents[4]
SAMPLES = REPO / "tests" / "samples" / "cloudtrail"
PRESETS = yaml.safe_load((REPO / "roles" / "alerts" / "vars" / "main.yml").read_text())["trailwatch__presets"]
WATCHES = {w["name"]: w for preset in PRESETS.values() for w in preset}
CIS = [w["name"] for w in PRESETS["cis"]]
REGION = "eu-west-1"
ACCOUNT = "123456789012"
KMS = "kms.amazonaws.com"
RDS_DATA = "rdsdata.amazonaws.com"
KEY_FIELDS = ("eventSource", "eventName", "readOnly", "eventCategory", "managementEvent", "awsRegion")
LOG_GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:org/cloudtrail:*"


def trail(name="org", home=REGION, multi=True, global_events=True, organization=False):
    """A DescribeTrails entry."""
    return {
        "Name": name,
        "TrailARN": f"arn:aws:cloudtrail:{home}:{ACCOUNT}:trail/{name}",
        "HomeRegion": home,
        "IsMultiRegionTrail": multi,
        "IncludeGlobalServiceEvents": global_events,
        "IsOrganizationTrail": organization,
        "CloudWatchLogsLogGroupArn": LOG_GROUP_ARN.replace(REGION, home),
    }


def field(name, **operators):
    return {"Field": name, **operators}


ALL_MANAGEMENT = [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}]
S3_ALL_DATA = {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}

# Trail settings: how TrailWatch creates its trail (role variables) and existing trails as AWS describes them.
RECORDINGS = {
    "article": coverage.recording_from_variables("WriteOnly", [KMS, RDS_DATA], REGION),
    "cis": coverage.recording_from_variables("All", [], REGION),
    "write-only": coverage.recording_from_variables("WriteOnly", [], REGION),
    "read-only": coverage.recording_from_variables("ReadOnly", [], REGION),
    "kms-excluded": coverage.recording_from_variables("All", [KMS], REGION),
    "rdsdata-excluded": coverage.recording_from_variables("All", [RDS_DATA], REGION),
    "existing-all": coverage.recording_from_trail(trail(), ALL_MANAGEMENT, []),
    # moto answers a trail without selectors with none at all; AWS answers its default, All management events
    "existing-no-selectors": coverage.recording_from_trail(trail(), [], []),
    "existing-write-only-no-kms": coverage.recording_from_trail(
        trail(),
        [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True, "ExcludeManagementEventSources": [KMS]}],
        [],
    ),
    "single-region": coverage.recording_from_trail(trail(multi=False), ALL_MANAGEMENT, []),
    "single-region-us-east-1": coverage.recording_from_trail(trail(home="us-east-1", multi=False), ALL_MANAGEMENT, []),
    "no-global-events": coverage.recording_from_trail(trail(global_events=False), ALL_MANAGEMENT, []),
    "no-management-events": coverage.recording_from_trail(
        trail(), [{"ReadWriteType": "All", "IncludeManagementEvents": False, "DataResources": [S3_ALL_DATA]}], []
    ),
    "advanced-all": coverage.recording_from_trail(
        trail(), [], [{"Name": "management", "FieldSelectors": [field("eventCategory", Equals=["Management"])]}]
    ),
    "advanced-write-no-kms": coverage.recording_from_trail(
        trail(),
        [],
        [
            {
                "Name": "writes",
                "FieldSelectors": [
                    field("eventCategory", Equals=["Management"]),
                    field("readOnly", Equals=["false"]),
                    field("eventSource", NotEquals=[KMS]),
                ],
            }
        ],
    ),
    # "if the event matches any event selector, the trail processes and logs the event"
    "two-selectors": coverage.recording_from_trail(
        trail(), [{"ReadWriteType": "ReadOnly"}, {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}], []
    ),
    # a read-only trail and a write-only trail together record everything
    "two-trails": coverage.merge_recordings(
        [
            coverage.recording_from_trail(trail("reads"), [{"ReadWriteType": "ReadOnly"}], []),
            coverage.recording_from_trail(trail("writes"), [{"ReadWriteType": "WriteOnly"}], []),
        ]
    ),
    "unreadable": coverage.recording_from_trail(trail(), None, None, "its event selectors could not be read (denied)"),
    "no-trail": coverage.no_trail("org/cloudtrail", REGION),
}

EVERY = sorted(WATCHES)
# What blinds each watch (short keys, see key()); a watch not listed is fed entirely.
EXPECTED = {
    "article": {
        "root-account-used": {"read-write", "source"},
        "unauthorized-api-calls": {"read-write", "source"},
        "kms-key-disabled-or-deleted": {"source"},
    },
    "cis": {},
    "write-only": {"root-account-used": {"read-write"}, "unauthorized-api-calls": {"read-write"}},
    # every preset watch counts write calls (root and unauthorized ones count both)
    "read-only": {name: {"read-write"} for name in EVERY},
    "kms-excluded": {
        "root-account-used": {"source"},
        "unauthorized-api-calls": {"source"},
        "kms-key-disabled-or-deleted": {"source"},
    },
    "rdsdata-excluded": {"root-account-used": {"source"}, "unauthorized-api-calls": {"source"}},
    "existing-all": {},
    "existing-no-selectors": {},
    "existing-write-only-no-kms": {
        "root-account-used": {"read-write", "source"},
        "unauthorized-api-calls": {"read-write", "source"},
        "kms-key-disabled-or-deleted": {"source"},
    },
    # any watch may count an event of any region: a single-region trail feeds none entirely
    "single-region": {name: {"region"} for name in EVERY},
    "single-region-us-east-1": {name: {"region"} for name in EVERY},
    # IAM, STS and sign-in are global service events
    "no-global-events": {
        "root-account-used": {"global"},
        "unauthorized-api-calls": {"global"},
        "console-signin-without-mfa": {"global"},
        "iam-policy-changed": {"global"},
        "console-auth-failed": {"global"},
    },
    "no-management-events": {name: {"management"} for name in EVERY},
    "advanced-all": {},
    "advanced-write-no-kms": {
        "root-account-used": {"read-write", "source"},
        "unauthorized-api-calls": {"read-write", "source"},
        "kms-key-disabled-or-deleted": {"source"},
    },
    "two-selectors": {},
    "two-trails": {},
    "unreadable": {name: {"unreadable"} for name in EVERY},
    "no-trail": {name: {"no-trail"} for name in EVERY},
}


def key(setting):
    """A finding's setting as a short key for the tables."""
    for needle, short in (
        ("read_write_type", "read-write"),
        ("ReadWriteType", "read-write"),
        ("readOnly", "read-write"),
        ("exclude_management_event_sources", "source"),
        ("ExcludeManagementEventSources", "source"),
        ("eventSource", "source"),
        ("single-region", "region"),
        ("global service events", "global"),
        ("no management events", "management"),
        ("no data events", "data"),
        ("management events only", "data"),
        ("could not be read", "unreadable"),
        ("no trail delivers", "no-trail"),
        ("DataResources limits", "resources"),
    ):
        if needle in setting:
            return short
    return setting


def keys(findings):
    return {key(f.setting) for f in findings}


@pytest.mark.parametrize("recording", sorted(RECORDINGS))
@pytest.mark.parametrize("name", EVERY)
def test_every_preset_watch_on_every_trail_setting(recording, name):
    findings = coverage.blind_spots(WATCHES[name], RECORDINGS[recording])
    assert keys(findings) == EXPECTED[recording].get(name, set()), [f._asdict() for f in findings]
    # only unreadable selectors leave TrailWatch unsure about a preset watch
    assert all(f.certain for f in findings) == (recording != "unreadable"), findings
    for finding in findings:
        assert finding.reason and finding.fix, finding


def test_expected_table_names_only_real_watches_and_recordings():
    assert sorted(EXPECTED) == sorted(RECORDINGS)
    assert all(set(rows) <= set(WATCHES) for rows in EXPECTED.values())
    assert len(CIS) == 14


# --- the needs, proven against the sample records ----------------------------------------------------------------


def samples():
    for path in sorted(SAMPLES.glob("*.json")):
        for index, record in enumerate(json.loads(path.read_text())):
            yield pytest.param(record, id=f"{path.stem}[{index}]-{record['eventName']}")


ALL_SAMPLES = list(samples())


@pytest.mark.parametrize("record", ALL_SAMPLES)
def test_every_sample_a_watch_matches_is_among_its_needs(record):
    message = json.dumps(record)
    sample = coverage.event_from_record(record)
    for name, watch in WATCHES.items():
        if not matches(watch["pattern"], message):
            continue
        needs = coverage.needs_of(watch["pattern"], REGION)
        assert not needs.undetermined, (name, needs.undetermined)
        # the sample's kind of event (source or a stand-in for it, name or a stand-in, readOnly, category, place)
        alike = [
            e
            for e in needs.events
            if e.read_only == sample.read_only
            and e.category == sample.category
            and e.global_service == sample.global_service
            and (e.source == sample.source or e.source == "example.amazonaws.com")
            and (e.name == sample.name or e.example)
        ]
        assert alike, f"{name} matches {record['eventSource']} {record['eventName']} but does not need such events"


@pytest.mark.parametrize("recording", sorted(RECORDINGS))
@pytest.mark.parametrize("record", ALL_SAMPLES)
def test_a_setting_that_drops_a_matching_sample_is_reported(record, recording):
    message = json.dumps(record)
    dropped = {key(setting) for setting, _fix in coverage.dropped_by(RECORDINGS[recording], record)}
    for name, watch in WATCHES.items():
        if matches(watch["pattern"], message):
            assert dropped <= keys(coverage.blind_spots(watch, RECORDINGS[recording])), (name, dropped)


def test_the_article_settings_drop_samples_of_the_blind_cis_watches():
    """The defect of the issue, on real records: what WriteOnly and the KMS exclusion keep from the CIS watches."""
    article = RECORDINGS["article"]
    dropped = {}
    for param in ALL_SAMPLES:
        record = param.values[0]
        reasons = coverage.dropped_by(article, record)
        if reasons:
            dropped[(record["eventSource"], record["eventName"])] = {key(s) for s, _f in reasons}
    assert dropped[("ec2.amazonaws.com", "DescribeInstances")] == {"read-write"}  # a denied Describe
    assert dropped[("iam.amazonaws.com", "ListRoles")] == {"read-write"}
    assert dropped[("kms.amazonaws.com", "DisableKey")] == {"source"}
    assert dropped[("kms.amazonaws.com", "ScheduleKeyDeletion")] == {"source"}
    assert dropped[("s3.amazonaws.com", "GetObject")] == {"data"}


# --- user watches --------------------------------------------------------------------------------------------------

ARTICLE = RECORDINGS["article"]
S3_DATA_TRAIL = coverage.recording_from_trail(
    trail(), [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [S3_ALL_DATA]}], []
)
ONE_BUCKET_TRAIL = coverage.recording_from_trail(
    trail(),
    [
        {
            "ReadWriteType": "All",
            "IncludeManagementEvents": True,
            "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::reports/"]}],
        }
    ],
    [],
)
ADVANCED_S3_WRITES = coverage.recording_from_trail(
    trail(),
    [],
    [
        {"Name": "management", "FieldSelectors": [field("eventCategory", Equals=["Management"])]},
        {
            "Name": "s3 writes",
            "FieldSelectors": [
                field("eventCategory", Equals=["Data"]),
                field("resources.type", Equals=["AWS::S3::Object"]),
                field("readOnly", Equals=["false"]),
            ],
        },
    ],
)

S3_GET = '{ ($.eventSource = "s3.amazonaws.com") && ($.eventName = "GetObject") }'
S3_PUT = '{ ($.eventSource = "s3.amazonaws.com") && ($.eventName = "PutObject") }'
USER_CASES = [
    # (id, pattern, recording, {setting key: certain})
    ("S3 GetObject on TrailWatch's trail", S3_GET, ARTICLE, {"data": True}),
    ("GetObject named alone", '{ $.eventName = "GetObject" }', ARTICLE, {"data": True}),
    ("Lambda Invoke", '{ ($.eventName = "Invoke") }', ARTICLE, {"data": True}),
    ("eventCategory Data", '{ $.eventCategory = "Data" }', ARTICLE, {"data": True}),
    ("managementEvent IS FALSE", "{ $.managementEvent IS FALSE }", ARTICLE, {"data": True}),
    ("DynamoDB item writes", '{ $.eventName = "PutItem" || $.eventName = "DeleteItem" }', ARTICLE, {"data": True}),
    ("S3 GetObject on a trail with S3 data events", S3_GET, S3_DATA_TRAIL, {}),
    ("Invoke on a trail with S3 data events only", '{ $.eventName = "Invoke" }', S3_DATA_TRAIL, {"data": True}),
    ("GetObject on one bucket's data events", S3_GET, ONE_BUCKET_TRAIL, {"resources": False}),
    ("GetObject, advanced selector for writes", S3_GET, ADVANCED_S3_WRITES, {"read-write": True}),
    ("PutObject, advanced selector for writes", S3_PUT, ADVANCED_S3_WRITES, {}),
    ("CreateBucket, the article", '{ ($.eventName = "CreateBucket") }', ARTICLE, {}),
    ("a wildcard reaches KMS", '{ $.eventName = "Delete*" }', ARTICLE, {"source": True}),
    # Describe* also names KMS's DescribeKey, which the article's exclusion drops
    ("wildcard of reads", '{ $.eventName = "Describe*" }', ARTICLE, {"read-write": True, "source": True}),
    ("writes of KMS only", '{ $.eventSource = "kms.amazonaws.com" && $.readOnly IS FALSE }', ARTICLE, {"source": True}),
    ("any write, stated", "{ $.readOnly IS FALSE }", RECORDINGS["write-only"], {}),
    ("any read, stated", "{ $.readOnly IS TRUE }", RECORDINGS["write-only"], {"read-write": True}),
    ("not CreateBucket", '{ $.eventName != "CreateBucket" }', RECORDINGS["cis"], {}),
    ("RDS Data API", '{ $.eventSource = "rdsdata.amazonaws.com" }', ARTICLE, {"source": True, "read-write": True}),
    ("no read verb: AssumeRole", '{ $.eventName = "AssumeRole" }', ARTICLE, {"read-write": False}),
    ("KMS Decrypt: excluded for sure", '{ $.eventName = "Decrypt" }', RECORDINGS["kms-excluded"], {"source": True}),
    (
        "IAM by name needs global events",
        '{ $.eventName = "CreateUser" }',
        RECORDINGS["no-global-events"],
        {"global": True},
    ),
    ("EC2 by name needs none", '{ $.eventName = "RunInstances" }', RECORDINGS["no-global-events"], {}),
    (
        "the home region only, single-region trail",
        '{ $.awsRegion = "eu-west-1" && $.eventName = "RunInstances" }',
        RECORDINGS["single-region"],
        {},
    ),
    (
        "another region, single-region trail",
        '{ $.awsRegion = "us-west-2" && $.eventName = "RunInstances" }',
        RECORDINGS["single-region"],
        {"region": True},
    ),
    ("term pattern", "CreateBucket", ARTICLE, {"": False}),
    ("regular expression", "%AccessDenied%", ARTICLE, {"": False}),
    ("space-delimited pattern", "[ip, user, status = 4*]", ARTICLE, {"": False}),
    ("contradiction", '{ $.eventName = "a" && $.eventName = "b" }', ARTICLE, {"": False}),
    ("nothing CloudTrail records", '{ $.eventCategory = "Insight" }', ARTICLE, {"": False}),
]


@pytest.mark.parametrize("pattern, recording, expected", [c[1:] for c in USER_CASES], ids=[c[0] for c in USER_CASES])
def test_user_watches(pattern, recording, expected):
    findings = coverage.blind_spots({"name": "mine", "pattern": pattern}, recording)
    assert {key(f.setting): f.certain for f in findings} == expected, [f._asdict() for f in findings]


def test_a_data_watch_message_names_the_watch_and_the_fix():
    report = coverage.coverage_report([{"name": "objects-read", "pattern": S3_GET}], ARTICLE)
    [line] = report["errors"]
    assert line.startswith("Watch objects-read: ")
    assert "data events" in line and "GetObject" in line and "trailwatch_trail_create: false" in line
    assert report["watches"]["objects-read"]["status"] == "blind"


def test_accepted_blind_spots_are_warnings():
    watches = [dict(WATCHES["kms-key-disabled-or-deleted"], accept_blind_spots=True), WATCHES["root-account-used"]]
    report = coverage.coverage_report(watches, ARTICLE)
    assert [line.split(":", maxsplit=1)[0] for line in report["errors"]] == ["Watch root-account-used"] * 2
    assert len(report["warnings"]) == 1 and "Accepted" in report["warnings"][0]
    assert report["watches"]["kms-key-disabled-or-deleted"]["status"] == "accepted"
    assert report["watches"]["root-account-used"]["status"] == "blind"


@pytest.mark.parametrize("value, accepted", [(True, True), ("yes", True), (False, False), (None, False), ("x", False)])
def test_accept_blind_spots_values(value, accepted):
    assert coverage.accepts_blind_spots({"accept_blind_spots": value}) is accepted


def test_messages_name_the_variables_of_the_article_defect():
    report = coverage.coverage_report(PRESETS["s3_bucket_created"] + PRESETS["cis"], ARTICLE)
    blind = {line.split(":", maxsplit=1)[0] for line in report["errors"]}
    assert blind == {"Watch root-account-used", "Watch unauthorized-api-calls", "Watch kms-key-disabled-or-deleted"}
    text = " ".join(report["errors"])
    assert "trailwatch_read_write_type is WriteOnly" in text
    assert "trailwatch_exclude_management_event_sources excludes kms.amazonaws.com" in text
    assert "Fix: set trailwatch_read_write_type: All" in text
    assert report["warnings"] == []


# --- the trail role's defaults ---------------------------------------------------------------------------------------

DEFAULTS = [
    ("no watch", [], "WriteOnly", [KMS, RDS_DATA]),
    ("s3_bucket_created", PRESETS["s3_bucket_created"], "WriteOnly", [KMS, RDS_DATA]),
    ("platform", PRESETS["platform"], "WriteOnly", [KMS, RDS_DATA]),
    ("cis", PRESETS["cis"], "All", []),
    (
        "cis without the two broad watches",
        [w for w in PRESETS["cis"] if w["name"] not in ("root-account-used", "unauthorized-api-calls")],
        "WriteOnly",
        [RDS_DATA],
    ),
    ("a read watch", [{"name": "r", "pattern": '{ $.eventName = "GetSecretValue" }'}], "All", [KMS, RDS_DATA]),
    ("an unknown verb", [{"name": "r", "pattern": '{ $.eventName = "AssumeRole" }'}], "All", [KMS, RDS_DATA]),
    ("a data watch: no setting helps", [{"name": "d", "pattern": S3_GET}], "WriteOnly", [KMS, RDS_DATA]),
    ("a term pattern: undecided", [{"name": "t", "pattern": "AccessDenied"}], "WriteOnly", [KMS, RDS_DATA]),
]


@pytest.mark.parametrize("watches, read_write_type, excluded", [d[1:] for d in DEFAULTS], ids=[d[0] for d in DEFAULTS])
def test_trail_defaults(watches, read_write_type, excluded):
    defaults = coverage.trail_defaults(watches, REGION)
    assert defaults == {"read_write_type": read_write_type, "exclude_management_event_sources": excluded}
    # and with them, TrailWatch's trail feeds every watch whose needs a setting can meet
    recording = coverage.recording_from_variables(read_write_type, excluded, REGION)
    for watch in watches:
        settings = keys(f for f in coverage.blind_spots(watch, recording) if f.certain)
        assert settings <= {"data"}, (watch["name"], settings)


# --- pieces ----------------------------------------------------------------------------------------------------------


def botocore_operations(service):
    return set(botocore.session.get_session().get_service_model(service).operation_names)


@pytest.mark.parametrize(
    "service, table",
    [
        ("kms", coverage.KMS_EVENTS),
        ("rds-data", coverage.RDS_DATA_EVENTS),
        ("iam", coverage.IAM_EVENTS),
        ("sts", coverage.STS_EVENTS),
    ],
)
def test_operation_tables_hold_every_botocore_operation(service, table):
    """eventName is the API operation's name: a service's new operation must be added to its table."""
    assert botocore_operations(service) <= set(table)


def test_data_event_table_names_real_operations():
    for source, _type, names in coverage.DATA_EVENTS:
        service = {"s3.amazonaws.com": "s3", "lambda.amazonaws.com": "lambda", "dynamodb.amazonaws.com": "dynamodb"}
        if source in service:
            assert set(names) <= botocore_operations(service[source]), source


@pytest.mark.parametrize(
    "name, read_only",
    [
        ("DescribeInstances", True),
        ("ListRoles", True),
        ("GetObject", True),
        ("HeadObject", True),
        ("BatchGetItem", True),
        ("CreateBucket", False),
        ("PutBucketPolicy", False),
        ("DisableKey", False),
        ("ScheduleKeyDeletion", False),
        ("ConsoleLogin", False),
        ("Getaway", None),  # a verb must end at a capital
        ("AssumeRole", None),
        ("Decrypt", None),
        ("Invoke", None),
    ],
)
def test_read_only_of(name, read_only):
    assert coverage.read_only_of(name) is read_only


def test_samples_agree_with_the_read_only_verbs():
    """The verb rule classifies every sample record as CloudTrail did (readOnly in the record)."""
    for param in ALL_SAMPLES:
        record = param.values[0]
        verdict = coverage.read_only_of(record["eventName"])
        assert verdict in (None, record["readOnly"]), record["eventName"]


def test_exact_comparisons_agree_with_the_evaluator():
    """The shortcut for plain = and != answers what the filter-pattern evaluator answers."""
    names = {e.name for e, _r in coverage._table_records(REGION)} | {"", "kms.amazonaws.com", "DisableKey2"}
    comparisons = []
    for watch in WATCHES.values():
        for alternative in coverage._alternatives(parse(watch["pattern"]).expression):
            comparisons.extend(
                c
                for c in alternative
                if c.operator in ("=", "!=") and len(c.target.steps) == 1 and c.target.steps[0] in KEY_FIELDS
            )
    assert len(set(comparisons)) > 80
    template = parse('{ $.eventName = "x" }')
    for comparison in set(comparisons):
        field = comparison.target.steps[0]
        for name in names:
            expected = matches(template._replace(expression=comparison), json.dumps({field: name}))
            assert coverage._comparison_holds(comparison, field, name) is expected, (comparison, name)


@pytest.mark.parametrize(
    "value, every",
    [
        ("arn:aws:s3", True),
        ("arn:aws:s3:::", True),
        ("arn:aws-cn:lambda", True),
        ("arn:aws:s3:::reports/", False),
        ("arn:aws:lambda:eu-west-1:123456789012:function:f", False),
    ],
)
def test_basic_data_resource_values_for_every_resource(value, every):
    assert coverage._all_resources(value) is every


def test_recording_from_trail_refuses_what_it_does_not_know():
    with pytest.raises(ValueError):
        coverage.recording_from_trail({}, [], [])
    with pytest.raises(ValueError):
        coverage.recording_from_trail(trail(), [], [{"FieldSelectors": [{"Equals": ["Management"]}]}])
    with pytest.raises(ValueError):
        coverage.merge_recordings([])


def test_log_group_region_comes_from_the_delivery_arn():
    assert coverage.recording_from_trail(trail(home="us-east-2"), [], []).region == "us-east-2"
    assert coverage.recording_from_trail(dict(trail(), CloudWatchLogsLogGroupArn=None), [], []).region == REGION


def test_no_trail_names_the_reason():
    recording = coverage.no_trail("group", REGION, "log group group does not exist in eu-west-1")
    [finding] = coverage.blind_spots(WATCHES["s3-bucket-created"], recording)
    assert finding.setting == "log group group does not exist in eu-west-1" and finding.certain
