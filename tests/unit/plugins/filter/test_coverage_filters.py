"""The trail role's coverage filters (plugins/filter/trailwatch.py): its defaults and its check, from role input."""

import runpy
from pathlib import Path

import pytest
import yaml

runpy.run_path(str(Path(__file__).resolve().parent.parent / "conftest.py"))

from ansible_collections.trailwatch.aws.plugins.filter.trailwatch import FilterModule  # noqa: E402

FILTERS = FilterModule().filters()
REPO = Path(__file__).resolve().parents[4]
CATALOG = yaml.safe_load((REPO / "roles" / "alerts" / "vars" / "main.yml").read_text())["trailwatch__presets"]
ALERTS_DEFAULTS = yaml.safe_load((REPO / "roles" / "alerts" / "defaults" / "main.yml").read_text())
ARTICLE = {
    "read_write_type": "WriteOnly",
    "exclude_management_event_sources": ["kms.amazonaws.com", "rdsdata.amazonaws.com"],
}
CIS = {"read_write_type": "All", "exclude_management_event_sources": []}
S3_GET = '{ ($.eventSource = "s3.amazonaws.com") && ($.eventName = "GetObject") }'


def defaults(watches, presets):
    return FILTERS["trail_recording_defaults"](watches, CATALOG, presets)


def coverage(watches, presets, read_write_type, excluded):
    return FILTERS["watch_coverage"](watches, CATALOG, presets, read_write_type, excluded, "eu-west-1")


def test_the_alerts_defaults_keep_the_article_settings():
    """The trail role reads the alerts role's default watches; they need nothing beyond the article's trail."""
    assert defaults(ALERTS_DEFAULTS["trailwatch_watches"], ALERTS_DEFAULTS["trailwatch_watch_presets"]) == ARTICLE


@pytest.mark.parametrize(
    "watches, presets, expected",
    [
        ([], ["s3_bucket_created"], ARTICLE),
        ([], ["s3_bucket_created", "platform"], ARTICLE),
        ([], ["s3_bucket_created", "cis"], CIS),
        # the broad CIS watches dropped: only the KMS watch still needs kms.amazonaws.com
        (
            [{"name": "root-account-used", "enabled": False}, {"name": "unauthorized-api-calls", "enabled": False}],
            ["cis"],
            {"read_write_type": "WriteOnly", "exclude_management_event_sources": ["rdsdata.amazonaws.com"]},
        ),
        # unusable input: the article's settings, the validation tasks name the problem
        ("not a list", ["cis"], ARTICLE),
        ([{"name": "x", "pattern": "{ $.eventName = ", "threshold": "two"}], ["cis"], ARTICLE),
        ([], ["nist"], ARTICLE),
        # converted as the argument spec declares it (`-e trailwatch_watch_presets=cis`), like every input
        ([], "cis", CIS),
        # unset: the alerts role's defaults (the s3_bucket_created preset)
        (None, None, ARTICLE),
        (None, "s3_bucket_created,cis", CIS),
    ],
    ids=[
        "default",
        "platform",
        "cis",
        "cis-narrowed",
        "not-a-list",
        "bad-watch",
        "unknown-preset",
        "preset-string",
        "unset",
        "unset-watches",
    ],
)
def test_trail_recording_defaults(watches, presets, expected):
    assert defaults(watches, presets) == expected


def test_cis_on_the_article_settings_fails_naming_the_variables_and_watches():
    result = coverage([], ["s3_bucket_created", "cis"], "WriteOnly", ["kms.amazonaws.com", "rdsdata.amazonaws.com"])
    text = " ".join(result["errors"])
    for needle in (
        "Watch kms-key-disabled-or-deleted",
        "Watch unauthorized-api-calls",
        "trailwatch_read_write_type",
        "trailwatch_exclude_management_event_sources",
    ):
        assert needle in text
    assert coverage([], ["s3_bucket_created", "cis"], "All", []) == {"errors": [], "warnings": []}


def test_a_data_watch_fails_naming_it():
    result = coverage([{"name": "objects-read", "pattern": S3_GET}], ["s3_bucket_created"], "All", [])
    assert [line.split(":", maxsplit=1)[0] for line in result["errors"]] == ["Watch objects-read"]


def test_accepted_blind_spots_only_warn():
    watches = [{"name": "objects-read", "pattern": S3_GET, "accept_blind_spots": True}]
    result = coverage(watches, ["s3_bucket_created"], "WriteOnly", ["kms.amazonaws.com"])
    assert result["errors"] == [] and len(result["warnings"]) == 1


def test_invalid_watches_are_reported_as_the_alerts_role_does():
    result = coverage([{"name": "x", "pattern": "{ $.a = ", "accept_blind_spots": "maybe"}], [], "All", [])
    assert any("pattern" in e for e in result["errors"]) and any("accept_blind_spots" in e for e in result["errors"])
    assert FILTERS["watch_errors"]([{"name": "x", "pattern": "{ $.a = 1 }", "accept_blind_spots": "maybe"}]) == [
        "trailwatch_watches: watch 0 (x): accept_blind_spots must be true or false"
    ]


def test_the_filter_reads_the_watches_from_the_alerts_role_files():
    # the trail role's recording defaults and the trail role's view of the watches come from these two files
    filters = FILTERS["trail_recording_defaults"].__globals__
    assert filters["_preset_catalog"]() == CATALOG
    defaults = filters["_literal_defaults"]()
    assert {k: defaults[k] for k in ("trailwatch_watches", "trailwatch_watch_presets")} == {
        k: ALERTS_DEFAULTS[k] for k in ("trailwatch_watches", "trailwatch_watch_presets")
    }
