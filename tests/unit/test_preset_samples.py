"""Every preset watch matches the CloudTrail records it is meant for, and no others.

tests/samples/cloudtrail/<watch name>.json holds realistic CloudTrail records each watch must match;
_unmatched.json holds records no watch may match. A record that genuinely matches a second watch is listed in
OVERLAPS with the reason; anything else that matches across files is a pattern that is too broad (or a sample in
the wrong file).
"""

import json
import runpy
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
# tests/unit/plugins/conftest.py makes ansible_collections.trailwatch importable; this file is not below it.
runpy.run_path(str(REPO / "tests" / "unit" / "plugins" / "conftest.py"))

from ansible_collections.trailwatch.aws.plugins.module_utils._filter_pattern import JsonPattern  # noqa: E402
from ansible_collections.trailwatch.aws.plugins.module_utils._filter_pattern import matches  # noqa: E402
from ansible_collections.trailwatch.aws.plugins.module_utils._filter_pattern import parse  # noqa: E402
from ansible_collections.trailwatch.aws.plugins.module_utils._filter_pattern import pattern_error  # noqa: E402

SAMPLES = REPO / "tests" / "samples" / "cloudtrail"
UNMATCHED = "_unmatched"
# docs/cis-watches.md: the CloudWatch.1-14 patterns as Security Hub documents them, shipped with the repository
cis_patterns = runpy.run_path(str(REPO / "tests" / "helpers" / "cis_reference.py"))["cis_patterns"]

PRESETS = yaml.safe_load((REPO / "roles" / "alerts" / "vars" / "main.yml").read_text())["trailwatch__presets"]
WATCHES = {w["name"]: w for preset in PRESETS.values() for w in preset}
PARSED = {name: parse(w["pattern"]) for name, w in WATCHES.items()}

# (sample file, eventName of the record, the other watch it matches): why that is right.
OVERLAPS = {
    ("cloudtrail-stopped", "StopLogging", "cloudtrail-config-changed"): (
        "CIS CloudWatch.5 counts every CloudTrail configuration change, StopLogging included; cloudtrail-stopped "
        "is the narrower platform alarm on the same event"
    ),
    ("cloudtrail-stopped", "DeleteTrail", "cloudtrail-config-changed"): (
        "CIS CloudWatch.5 counts DeleteTrail too; cloudtrail-stopped is the narrower platform alarm"
    ),
    ("unauthorized-api-calls", "AuthorizeSecurityGroupIngress", "security-group-changed"): (
        "CIS CloudWatch.10 has no errorCode condition: a denied attempt to open a security group is counted as a "
        "change as well as an unauthorized call"
    ),
}


def load(name):
    records = json.loads((SAMPLES / f"{name}.json").read_text())
    assert isinstance(records, list) and records, f"{name}.json must be a non-empty JSON list"
    return records


def records_of(name):
    return [pytest.param(name, i, json.dumps(r), id=f"{name}[{i}]-{r['eventName']}") for i, r in enumerate(load(name))]


ALL_RECORDS = [p for name in sorted(WATCHES) + [UNMATCHED] for p in records_of(name)]


def test_watch_names_are_unique_across_presets():
    assert sorted(PRESETS) == ["cis", "platform", "s3_bucket_created"]
    assert len(WATCHES) == sum(len(p) for p in PRESETS.values())  # a sample file per name covers every watch
    assert len(PRESETS["cis"]) == 14


def test_one_sample_file_per_watch_and_no_stray_file():
    assert sorted(p.stem for p in SAMPLES.glob("*.json")) == sorted(list(WATCHES) + [UNMATCHED])
    for name in WATCHES:
        assert 1 <= len(load(name)) <= 4, name  # s3-bucket-created: S3, S3 directory and Lightsail buckets


@pytest.mark.parametrize("name", sorted(WATCHES))
def test_every_preset_pattern_is_valid(name):
    assert pattern_error(WATCHES[name]["pattern"]) is None
    assert isinstance(PARSED[name], JsonPattern)


@pytest.mark.parametrize("sample, index, message", [p for p in ALL_RECORDS if p.values[0] != UNMATCHED])
def test_watch_matches_each_record_of_its_sample(sample, index, message):
    assert matches(PARSED[sample], message), f"{sample} does not match record {index} of its own sample"


@pytest.mark.parametrize("sample, index, message", ALL_RECORDS)
def test_no_other_watch_matches_the_record_unless_documented(sample, index, message):
    event_name = json.loads(message)["eventName"]
    others = {name for name, tree in PARSED.items() if name != sample and matches(tree, message)}
    allowed = {watch for (file, event, watch) in OVERLAPS if file == sample and event == event_name}
    assert others == allowed, f"{sample}[{index}] ({event_name}) also matches {sorted(others)}"


def test_every_documented_overlap_happens():
    for (sample, event_name, watch), reason in OVERLAPS.items():
        assert reason
        records = [json.dumps(r) for r in load(sample) if r["eventName"] == event_name]
        assert records, f"no {event_name} record in {sample}.json"
        assert all(matches(PARSED[watch], r) for r in records), (sample, event_name, watch)


def test_samples_look_like_cloudtrail_records():
    required = (
        "eventVersion",
        "userIdentity",
        "eventTime",
        "eventSource",
        "eventName",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "requestParameters",
        "responseElements",
        "eventID",
        "readOnly",
        "eventType",
        "managementEvent",
        "recipientAccountId",
        "eventCategory",
    )
    for name in sorted(WATCHES) + [UNMATCHED]:
        for index, record in enumerate(load(name)):
            missing = [key for key in required if key not in record]
            assert not missing, f"{name}[{index}] lacks {missing}"
            assert record["userIdentity"]["type"] in ("Root", "IAMUser", "AssumedRole"), (name, index)
            assert record["eventSource"].endswith(".amazonaws.com"), (name, index)


def test_cis_patterns_are_those_of_the_reference():
    # Security Hub fails a CloudWatch.N control whose pattern differs from its text by a single character
    documented = cis_patterns()
    assert list(documented) == [f"CloudWatch.{n}" for n in range(1, 15)]
    assert [w["pattern"] for w in PRESETS["cis"]] == list(documented.values())
