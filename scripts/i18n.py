#!/usr/bin/env python3
"""Keep the catalogs in step with the pages.

    .venv/bin/python scripts/i18n.py update   # add new messages to every catalog (empty), drop removed ones
    .venv/bin/python scripts/i18n.py check    # list untranslated messages; exit 1 if any

Translate by editing webview_bridge/locale/<lang>/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from webview_bridge.i18n_catalog import missing, update  # noqa: E402


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "update":
        update()
    gaps = missing()
    for lang, ids in gaps.items():
        print(f"{lang}: {len(ids)} untranslated: {ids[:5]}{' …' if len(ids) > 5 else ''}")
    sys.exit(1 if gaps and command == "check" else 0)
