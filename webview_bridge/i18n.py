"""Languages (PROTOCOL §6): every visible string in en, de, fr, es, it, nl, pl, pt (European),
sv, da, fi, cs and ar (right to left), chosen by
?lang=, else the language cookie, else Accept-Language, else English. Catalogs are the .po files
under webview_bridge/locale/, read once with Babel."""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pl", "pt", "sv", "da", "fi", "cs", "ar")
DEFAULT = "en"
RTL = frozenset({"ar", "he", "fa", "ur"})
LOCALE_DIR = Path(__file__).parent / "locale"
COOKIE = "wvb_lang"


def N_(message: str) -> str:  # noqa: N802 - the conventional name extractors look for
    """Marks a string for translation where it is defined; templates translate it where shown."""
    return message


@cache
def translations(lang: str) -> gettext.NullTranslations:
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def supported(tag: str | None) -> str | None:
    if not tag:
        return None
    try:
        language = Locale.parse(tag.replace("-", "_")).language
    except (ValueError, UnknownLocaleError):
        return None
    return language if language in LANGUAGES else None


def from_accept_language(header: str) -> str | None:
    """The first supported language in the header's preference order (q values honoured)."""
    ranked = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip()))
    for _, _, tag in sorted(ranked):
        found = supported(tag)
        if found:
            return found
    return None


def choose(query_lang: str | None, cookie_lang: str | None, accept_language: str) -> str:
    return supported(query_lang) or supported(cookie_lang) or from_accept_language(accept_language) or DEFAULT


def direction(lang: str) -> str:
    return "rtl" if lang in RTL else "ltr"
