"""The CIS / Security Hub CloudWatch.1-14 patterns of docs/cis-watches.md, as {control: pattern}.

The tests that check the cis preset read the reference from the repository itself, so that they run (and never
skip) in a clean clone.
"""

from pathlib import Path

CIS_REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "cis-watches.md"


def cis_patterns(path=CIS_REFERENCE):
    """{"CloudWatch.N": pattern} in the order of the table; a Markdown-escaped \\|\\| is ||."""
    patterns = {}
    for line in path.read_text().splitlines():
        cells = line.split(" | ")
        if line.startswith("| CloudWatch.") and len(cells) >= 3:
            patterns[cells[0].lstrip("| ")] = cells[-1].rstrip(" |").strip("`").replace("\\|", "|")
    return patterns
