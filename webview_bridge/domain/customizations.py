"""Customizations (PROTOCOL §8): a TPP's theme, and the rules that keep the pages readable."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from webview_bridge.domain.errors import Invalid

COLOR_KEYS = ("primary", "on_primary", "background", "surface", "text", "muted", "error")
LIGHT = {"primary": "#1f5fbf", "on_primary": "#ffffff", "background": "#ffffff", "surface": "#f1f4f8",
         "text": "#161a1f", "muted": "#4f5966", "error": "#b3261e"}
DARK = {"primary": "#8ab4f8", "on_primary": "#0b1d3a", "background": "#121417", "surface": "#1f2329",
        "text": "#eceff3", "muted": "#aab3bf", "error": "#f2b8b5"}
DEFAULT_RADIUS = 12
# (foreground, background) pairs that must reach WCAG AA for normal text.
CONTRAST_PAIRS = (("text", "background"), ("text", "surface"), ("muted", "background"), ("on_primary", "primary"),
                  ("error", "background"))
MIN_CONTRAST = 4.5
MAX_LOGO_BYTES = 100 * 1024
_LOGO_TYPES = {"image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",), "image/webp": (b"RIFF",)}


@dataclass(frozen=True)
class Customization:
    id: str
    app_id: str
    display_name: str
    logo: str | None
    colors: dict[str, str]  # as given
    dark_colors: dict[str, str]
    corner_radius_px: int | None
    consent_text: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def light_palette(self) -> dict[str, str]:
        return {**LIGHT, **self.colors}

    @property
    def dark_palette(self) -> dict[str, str]:
        return {**DARK, **self.dark_colors}

    @property
    def logo_bytes(self) -> tuple[str, bytes] | None:
        return decode_logo(self.logo) if self.logo else None


def relative_luminance(color: str) -> float:
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(color[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def check_contrast(palette: dict[str, str], where: str) -> None:
    """Refuse a palette whose text would be hard to read; the field names the pair's first colour."""
    for foreground, background in CONTRAST_PAIRS:
        ratio = contrast_ratio(palette[foreground], palette[background])
        if ratio < MIN_CONTRAST:
            raise Invalid("low_contrast",
                           f"{foreground} on {background} has contrast {ratio:.2f}:1; at least {MIN_CONTRAST}:1 is needed",
                           f"{where}.{foreground}")


def decode_logo(data_uri: str) -> tuple[str, bytes]:
    """(media type, bytes) of a PNG, JPEG or WebP data: URI, checked by its content, ≤ 100 KB."""
    header, sep, payload = data_uri.partition(",")
    media_type = header.removeprefix("data:").removesuffix(";base64")
    if not sep or not header.startswith("data:") or not header.endswith(";base64"):
        raise Invalid("invalid_logo", "logo must be a data: URI with base64 content", "logo")
    if media_type not in _LOGO_TYPES:
        raise Invalid("invalid_logo", "logo must be PNG, JPEG or WebP (SVG can carry scripts)", "logo")
    try:
        content = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("invalid_logo", "logo is not valid base64", "logo")
    if len(content) > MAX_LOGO_BYTES:
        raise Invalid("logo_too_large", f"logo is {len(content)} bytes; at most {MAX_LOGO_BYTES}", "logo")
    if not content.startswith(_LOGO_TYPES[media_type]) or (media_type == "image/webp" and content[8:12] != b"WEBP"):
        raise Invalid("invalid_logo", f"logo content is not {media_type}", "logo")
    return media_type, content


def theme_css(customization: Customization | None, forced_scheme: str | None = None) -> str:
    """The custom properties that theme the pages: --wvb-<key with dashes>, light and dark."""
    if customization is None and forced_scheme is None:
        return ""
    light = customization.light_palette if customization else LIGHT
    dark = customization.dark_palette if customization else DARK
    radius = customization.corner_radius_px if customization and customization.corner_radius_px is not None else DEFAULT_RADIUS

    def block(palette: dict[str, str]) -> str:
        return "".join(f"--wvb-{key.replace('_', '-')}:{palette[key]};" for key in COLOR_KEYS)

    if forced_scheme == "dark":
        return f":root{{{block(dark)}--wvb-radius:{radius}px;color-scheme:dark}}"
    if forced_scheme == "light":
        return f":root{{{block(light)}--wvb-radius:{radius}px;color-scheme:light}}"
    return (f":root{{{block(light)}--wvb-radius:{radius}px}}"
            f"@media (prefers-color-scheme:dark){{:root{{{block(dark)}}}}}")
