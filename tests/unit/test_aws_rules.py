"""docs/aws-rules.md stays true: every row has a rule, an AWS documentation page and a pinning test that exists."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "docs" / "aws-rules.md"
CITATION = re.compile(r"`(tests/[\w./-]+\.py)(?:::(\w+))?`")


def rows():
    for line in RULES.read_text().splitlines():
        if line.startswith("| ") and not line.startswith("| rule |"):
            yield line


def test_every_row_names_a_page_and_a_pinning_test_that_exists():
    problems = []
    for line in rows():
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        if len(cells) != 3 or not all(cells):
            problems.append(f"not 'rule | page | test': {line[:80]}")
            continue
        citations = CITATION.findall(cells[2])
        if not citations:
            problems.append(f"no test cited: {line[:80]}")
        for path, name in citations:
            source = REPO / path
            if not source.is_file():
                problems.append(f"{path} does not exist")
            elif name and not re.search(rf"^\s*(def|class) {name}\b", source.read_text(), re.MULTILINE):
                problems.append(f"{path}::{name} does not exist")
    assert not problems, problems
