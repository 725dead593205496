"""The modules' attribute documentation as ansible-doc renders it from the doc fragments (plugins/doc_fragments)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_DOC = Path(sys.executable).with_name("ansible-doc")
INFO_MODULES = ["alert_chain_info", "trail_coverage_info"]


@pytest.fixture(scope="module")
def attributes():
    """{module: attributes} of the read-only modules and of one module that writes, in one ansible-doc run."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections"))
    names = [f"trailwatch.aws.{m}" for m in INFO_MODULES + ["sns_topic"]]
    out = subprocess.run(
        [str(ANSIBLE_DOC), "--json", *names], env=env, capture_output=True, text=True, check=True
    ).stdout
    return {name.rsplit(".", 1)[1]: doc["doc"]["attributes"] for name, doc in json.loads(out).items()}


@pytest.mark.parametrize("module", INFO_MODULES)
def test_info_modules_document_read_only_attributes(attributes, module):
    """The info_module fragment replaces check_mode and diff_mode; the shared ones stay."""
    assert attributes[module]["check_mode"] == {
        "description": "Reads only; runs the same in check mode.",
        "support": "full",
    }
    assert attributes[module]["diff_mode"] == {
        "description": "Changes nothing, so there is no diff.",
        "support": "none",
    }
    assert set(attributes[module]) == {"check_mode", "diff_mode", "idempotent", "action_group"}
    assert attributes[module]["action_group"]["membership"] == ["trailwatch.aws.aws"]


def test_writing_modules_keep_the_shared_attributes(attributes):
    assert attributes["sns_topic"]["diff_mode"]["support"] == "full"
    assert "prediction" in attributes["sns_topic"]["check_mode"]["description"]


def test_the_topic_options_read_the_same_in_sns_topic_and_in_metric_watches_topic():
    """plugins/doc_fragments/_sns_topic.py writes the topic's options twice (a doc fragment must be plain strings):
    sns_topic's own and metric_watches' topic sub-options say the same, but for the O(topic.) prefix."""
    import importlib.util
    import json
    from pathlib import Path

    import yaml

    path = Path(__file__).resolve().parents[2] / "plugins" / "doc_fragments" / "_sns_topic.py"
    spec = importlib.util.spec_from_file_location("sns_topic_fragment", path)
    fragment = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fragment)
    ModuleDocFragment = fragment.ModuleDocFragment  # noqa: N806

    own = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    nested = yaml.safe_load(ModuleDocFragment.WATCHES_TOPIC)["options"]["topic"]["suboptions"]
    text = json.dumps({k: v for k, v in nested.items() if k not in ("tags", "purge_tags")}, sort_keys=True)
    assert json.loads(text.replace("O(topic.", "O(")) == own
    assert set(nested) == set(own) | {"tags", "purge_tags"}
