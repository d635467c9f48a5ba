"""Built for a phone (PROTOCOL §6): focus never hidden under the sticky bar, whole-row account
labels, 44 px targets, text that scales to 200 %, nothing wider than 320 px, on every screen."""

from __future__ import annotations

import pytest

from tests.api.test_customizations_api import THEME
from webview_bridge.web.theming import SCREENS

pytestmark = pytest.mark.databases("sqlite")


@pytest.fixture
def gallery(tpp):
    made = tpp.http.post("/customizations", json=THEME).json()["customization"]["id"]
    return tpp.http.get(f"/customizations/{made}/preview").json()["url"]


HIDDEN_UNDER_BAR = """() => {
  const el = document.activeElement, bar = document.querySelector('.actions');
  if (!el || el === document.body) return null;
  const r = el.getBoundingClientRect();
  const offscreen = r.top < 0 || r.bottom > innerHeight;
  let covered = false;
  if (bar && !bar.contains(el) && getComputedStyle(bar).position === 'sticky') {
    const b = bar.getBoundingClientRect();
    covered = r.bottom > b.top && r.top < b.bottom;
  }
  return (offscreen || covered) ? (el.textContent.trim() || el.name || el.id) : null;
}"""


@pytest.mark.parametrize("size", [{"width": 360, "height": 568}, {"width": 412, "height": 915}])
@pytest.mark.parametrize("screen", ["consent", "consent_trusted"])
def test_tabbing_never_hides_a_focused_control_under_the_sticky_bar(page, gallery, size, screen):
    page.set_viewport_size(size)
    page.goto(f"{gallery}/{screen}")
    hidden = []
    for _ in range(20):
        page.keyboard.press("Tab")
        found = page.evaluate(HIDDEN_UNDER_BAR)
        if found:
            hidden.append(found)
    assert hidden == []
    short = page.evaluate("getComputedStyle(document.querySelector('.actions')).position")
    assert short == ("static" if size["height"] < 700 else "sticky")


def test_the_whole_account_row_is_the_checkbox_label_and_shows_its_state(page, gallery):
    page.goto(f"{gallery}/consent_trusted")
    row = page.locator("label.account").first
    box = page.get_by_role("checkbox", name="Everyday Account", exact=True)
    assert row.bounding_box()["height"] >= 44
    ticked = row.evaluate("r => getComputedStyle(r).borderColor")
    row.locator("small").click()  # anywhere on the row
    assert not box.is_checked()
    assert row.evaluate("r => getComputedStyle(r).borderColor") != ticked  # the selected state is visible
    row.click()
    assert box.is_checked()


def test_every_link_and_button_is_at_least_44_px_on_every_screen(page, gallery):
    page.set_viewport_size({"width": 360, "height": 740})
    small = {}
    for screen in SCREENS:
        page.goto(f"{gallery}/{screen}")
        found = page.evaluate("""() => [...document.querySelectorAll('a, button, summary, input, select')]
            .filter(e => e.offsetParent !== null && e.type !== 'hidden' && e.type !== 'checkbox')
            .map(e => [e.textContent.trim() || e.name || e.id, Math.round(e.getBoundingClientRect().height)])
            .filter(([, h]) => h < 44)""")
        if found:
            small[screen] = found
    assert small == {}


@pytest.mark.parametrize("width", [320, 360])
def test_no_screen_is_wider_than_a_small_phone_even_at_200_percent_text(page, gallery, artifacts, width):
    page.set_viewport_size({"width": width, "height": 740})
    problems = {}
    for screen in SCREENS:
        for text in ("100%", "200%"):
            page.goto(f"{gallery}/{screen}")
            page.evaluate(f"document.documentElement.style.fontSize = '{text}'")  # as the reader's own setting
            wide = page.evaluate("document.documentElement.scrollWidth") > width
            badges = page.evaluate("""[...document.querySelectorAll('.logo')].filter(e => e.offsetParent !== null
                && (e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1)).length""")
            if wide or badges:
                problems[f"{screen}@{text}"] = {"too wide": wide, "overflowing badges": badges}
            if width == 320:
                page.screenshot(path=artifacts / f"{screen}-{text.rstrip('%')}.png", full_page=True)
    assert problems == {}


def test_every_screen_is_kept_as_a_screenshot_light_and_dark(page, gallery, artifacts):
    for screen in SCREENS:
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            page.goto(f"{gallery}/{screen}?scheme={scheme}")
            page.screenshot(path=artifacts / f"{screen}-{scheme}.png", full_page=True)
    assert len(list(artifacts.glob("*.png"))) == 2 * len(SCREENS)
