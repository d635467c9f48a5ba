"""Makes docs/img/screens.png, the picture of the flow in the README and the docs, from the
screenshots the browser tests keep in test-artifacts/ (Chromium on a Pixel 7 profile):

    .venv/bin/python -m pytest --db sqlite tests/e2e/test_consent_flow.py -k approve_with_a_subset
    .venv/bin/python docs/img/montage.py

The screens are laid side by side, each cut to the first phone-screen of its page, by Chromium
itself: nothing to install beyond what the tests use."""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "test_approve_with_a_subset_of_accounts-sqlite-chromium"
SCREENS = (
    ("1-bank-selection.png", "1. Choose your bank"),
    ("2-consent.png", "2. Consent"),
    ("3-bank-login.png", "3. The bank's login"),
    ("4-bank-consent.png", "4. The bank's consent"),
)
OUT = Path(__file__).resolve().parent / "screens.png"
CHROMIUM = next(p for p in ("/usr/lib/chromium/chromium", "/usr/bin/chromium") if os.path.exists(p))

# A Pixel 7 shows 412 x 915 CSS pixels; each screen is shown at 260 px wide, cut to that shape.
PAGE = """<!doctype html><meta charset="utf-8"><style>
body {{ margin: 0; padding: 24px; background: #eef1f5; font: 600 15px system-ui, sans-serif; color: #161a1f;
       display: flex; gap: 24px; width: max-content; }}
figure {{ margin: 0; width: 272px; }}
.phone {{ width: 260px; height: 578px; overflow: hidden; border-radius: 18px; border: 6px solid #161a1f;
         background: #fff; }}
img {{ display: block; width: 260px; }}
figcaption {{ margin-top: 10px; text-align: center; }}
</style>{figures}"""


def main() -> None:
    figures = "".join(
        f'<figure><div class="phone"><img src="data:image/png;base64,{base64.b64encode((SHOTS / name).read_bytes()).decode()}"></div>'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        for name, caption in SCREENS
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1200, "height": 700}, device_scale_factor=1.5)
        page.set_content(PAGE.format(figures=figures))
        page.locator("body").screenshot(path=str(OUT))
        browser.close()
    print(f"{OUT.relative_to(ROOT)}: {OUT.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
