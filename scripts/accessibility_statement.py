"""Write the measured part of docs/accessibility.md from what the axe tests recorded.

    python scripts/accessibility_statement.py   # after `pytest tests/e2e/test_accessibility.py`

tests/e2e/test_accessibility.py records each run in test-artifacts/axe-{default,themed}.json and
fails when the statement no longer says what it measured, so the page cannot drift from the runs.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATEMENT = ROOT / "docs" / "accessibility.md"
ARTIFACTS = ROOT / "test-artifacts"


def section(variant: str, record: dict) -> str:
    """The Markdown block between `<!-- axe:{variant} -->` markers for one recorded run."""
    theme = "the default theme" if variant == "default" else "a TPP's full theme (colours, font, radius, logo)"
    found = sum(len(v) for v in record["violations"].values())
    lines = [
        f"<!-- axe:{variant} -->",
        f"**{theme[0].upper() + theme[1:]}** — axe-core {record['axe']}, {record['pages_checked']} pages checked: "
        f"{len(record['screens'])} screens × {len(record['languages'])} "
        f"{'language' if len(record['languages']) == 1 else 'languages'} × {' and '.join(record['schemes'])}; "
        f"**{found} violations**.",
        "",
        f"- Screens: {', '.join(f'`{s}`' for s in record['screens'])}",
        f"- Languages: {', '.join(record['languages'])}",
        f"<!-- /axe:{variant} -->",
    ]
    return "\n".join(lines)


def current(variant: str, text: str) -> str | None:
    match = re.search(rf"<!-- axe:{variant} -->.*?<!-- /axe:{variant} -->", text, flags=re.S)
    return match.group(0) if match else None


def main() -> int:
    text = STATEMENT.read_text(encoding="utf-8")
    for variant in ("default", "themed"):
        recorded = ARTIFACTS / f"axe-{variant}.json"
        if not recorded.is_file():
            print(f"{recorded} is missing: run pytest tests/e2e/test_accessibility.py first", file=sys.stderr)
            return 1
        old = current(variant, text)
        if old is None:
            print(f"{STATEMENT} has no <!-- axe:{variant} --> block", file=sys.stderr)
            return 1
        text = text.replace(old, section(variant, json.loads(recorded.read_text())))
    STATEMENT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
