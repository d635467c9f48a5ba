"""Customizations (PROTOCOL §8) through the API, on both databases."""

import base64
import struct
import zlib

import pytest

from webview_bridge.domain.customizations import contrast_ratio


def png(size: int = 1) -> str:
    """A real PNG, padded with a text chunk to the size asked for."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")
    if size > len(raw):
        raw = raw[:-12] + chunk(b"tEXt", b"c\x00" + b"x" * (size - len(raw) - 14)) + raw[-12:]
    return "data:image/png;base64," + base64.b64encode(raw).decode()


THEME = {"display_name": "Pennywise", "logo": png(), "colors": {"primary": "#0B5D3B", "on_primary": "#FFFFFF"},
         "dark_colors": {"primary": "#7DDBA8", "on_primary": "#00210F"}, "corner_radius_px": 4,
         "consent_text": "Pennywise is regulated by the FCA.\nWe never sell your data."}


def test_create_read_update_delete_for_the_owner_only(tpp, other_tpp):
    made = tpp.http.post("/customizations", json=THEME)
    assert made.status_code == 201, made.text
    body = made.json()["customization"]
    assert body["id"].startswith("cz_") and body["display_name"] == "Pennywise"
    assert body["colors"]["primary"] == "#0b5d3b" and body["colors"]["text"] == "#161a1f"  # defaults fill the rest
    assert body["corner_radius_px"] == 4
    path = f"/customizations/{body['id']}"
    assert tpp.http.get(path).json()["customization"] == body
    assert other_tpp.http.get(path).status_code == 404
    assert other_tpp.http.put(path, json=THEME).status_code == 404
    assert other_tpp.http.delete(path).status_code == 404
    changed = tpp.http.put(path, json={**THEME, "display_name": "Pennywise 2"})
    assert changed.json()["customization"]["display_name"] == "Pennywise 2"
    assert tpp.http.delete(path).status_code == 204
    assert tpp.http.get(path).status_code == 404


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"colors": {"primary": "green"}}, "invalid_value", "colors.primary"),
        ({"colors": {"primary": "#12345"}}, "invalid_value", "colors.primary"),
        ({"colors": {"text": "#777777", "background": "#888888"}}, "low_contrast", "colors.text"),
        ({"colors": {"on_primary": "#ffffff", "primary": "#aaaaaa"}}, "low_contrast", "colors.on_primary"),
        ({"dark_colors": {"muted": "#333333"}}, "low_contrast", "dark_colors.muted"),
        ({"colors": {"error": "#ff8888"}}, "low_contrast", "colors.error"),
        ({"logo": "data:image/svg+xml;base64," + base64.b64encode(b"<svg onload=alert(1)/>").decode()}, "invalid_logo", "logo"),
        ({"logo": "data:image/png;base64," + base64.b64encode(b"GIF89a not a png").decode()}, "invalid_logo", "logo"),
        ({"logo": "https://cdn.example/logo.png"}, "invalid_logo", "logo"),
        ({"logo": png(100 * 1024 + 1)}, "logo_too_large", "logo"),
        ({"corner_radius_px": 25}, "out_of_range", "corner_radius_px"),
        ({"corner_radius_px": "4"}, "invalid_type", "corner_radius_px"),
        ({"consent_text": "x" * 1001}, "invalid_length", "consent_text"),
        ({"css": "body{display:none}"}, "unknown_field", "css"),
        ({"display_name": ""}, "invalid_length", "display_name"),
    ],
)
def test_what_would_break_the_page_is_refused_naming_the_field(tpp, change, code, field):
    answer = tpp.http.post("/customizations", json={**THEME, **change})
    assert answer.status_code == 400, answer.text
    assert (answer.json()["error"]["code"], answer.json()["error"]["field"]) == (code, field)


def test_a_logo_of_exactly_100_kb_is_fine(tpp):
    assert tpp.http.post("/customizations", json={**THEME, "logo": png(100 * 1024)}).status_code == 201


def test_contrast_math():
    assert round(contrast_ratio("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast_ratio("#767676", "#ffffff"), 2) == 4.54


def test_token_requests_accept_only_their_own_customization(tpp, other_tpp):
    mine = tpp.http.post("/customizations", json=THEME).json()["customization"]["id"]
    assert tpp.store_request(customization_id=mine)["customization_id"] == mine
    theirs = other_tpp.http.post("/customizations", json=THEME).json()["customization"]["id"]
    refused = tpp.http.post("/token-requests", json={"resources": ["ACCOUNTS"], "redirect_url": "https://tpp.example/callback",
                                                     "ref_id": "x", "csrf_token": "c" * 20, "customization_id": theirs})
    assert (refused.json()["error"]["code"], refused.json()["error"]["field"]) == ("unknown_customization", "customization_id")


def test_themed_pages_carry_the_colours_logo_and_text_escaped(tpp):
    from tests.support.customer import Customer

    made = tpp.http.post("/customizations", json={**THEME, "display_name": "<b>Penny</b>",
                                                  "consent_text": "</style><script>alert(1)</script>"}).json()["customization"]
    stored = tpp.store_request(customization_id=made["id"], bank_id="sandbox")
    person = Customer(tpp.server.url)
    page = person.to_consent(f"{tpp.server.url}/app/request-token/{stored['id']}")
    assert "--wvb-primary:#0b5d3b;" in page.text and "--wvb-radius:4px" in page.text
    assert "&lt;b&gt;Penny&lt;/b&gt;" in page.text and "<b>Penny" not in page.text
    assert "<script>alert(1)" not in page.text and "&lt;/style&gt;&lt;script&gt;" in page.text
    logo = person.get(f"/app/customizations/{made['id']}/logo")
    assert logo.status_code == 200 and logo.headers["content-type"] == "image/png" and logo.content.startswith(b"\x89PNG")
    assert logo.headers["x-content-type-options"] == "nosniff"


def test_the_preview_link_is_signed_short_lived_and_shows_every_screen(tpp, other_tpp, clock):
    made = tpp.http.post("/customizations", json=THEME).json()["customization"]["id"]
    assert other_tpp.http.get(f"/customizations/{made}/preview").status_code == 404
    link = tpp.http.get(f"/customizations/{made}/preview").json()
    import httpx2

    gallery = httpx2.get(link["url"])
    from webview_bridge.web.theming import SCREENS

    assert set(SCREENS) >= {"bank_select", "consent", "consent_trusted", "bank_external", "bank_unavailable",
                            "activation", "expired", "used", "stale", "choose_first", "unknown"}
    assert gallery.status_code == 200 and gallery.text.count("<iframe") == 2 * len(SCREENS)
    for screen in SCREENS:
        for scheme, primary in (("light", "#0b5d3b"), ("dark", "#7ddba8")):
            page = httpx2.get(f"{link['url']}/{screen}", params={"scheme": scheme})
            assert page.status_code == 200, (screen, page.text[:300])
            assert f"--wvb-primary:{primary}" in page.text
            assert "frame-ancestors 'self'" in page.headers["content-security-policy"]
    assert httpx2.get(link["url"] + "x").status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"display_name": "Pennywise 4111 1111 1111 1111"}, "display_name"),
        ({"display_name": "４１１１－１１１１－１１１１－１１１１" + "x" * 100}, "display_name"),  # also too long
        ({"consent_text": "Pay with 4111-1111-1111-1111."}, "consent_text"),
        ({"consent_text": "Pay with 4111_1111_1111_1111.\u0007"}, "consent_text"),  # also not plain text
        ({"consent_text": "x" * 1000 + " 4111111111111111"}, "consent_text"),  # also too long
    ],
)
def test_card_numbers_are_refused_in_theme_text(tpp, change, field):
    made = tpp.http.post("/customizations", json={**THEME, **change})
    assert made.status_code == 400, made.text
    assert (made.json()["error"]["code"], made.json()["error"]["field"]) == ("pan_detected", field)
    theme = tpp.http.post("/customizations", json=THEME).json()["customization"]
    replaced = tpp.http.put(f"/customizations/{theme['id']}", json={**THEME, **change})
    assert (replaced.status_code, replaced.json()["error"]["code"]) == (400, "pan_detected")
    assert tpp.http.get(f"/customizations/{theme['id']}").json()["customization"]["display_name"] == "Pennywise"
