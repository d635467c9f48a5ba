"""Seven languages: every visible string translated, chosen as PROTOCOL §6 says."""

import re

import pytest

from webview_bridge.i18n import LANGUAGES, choose, from_accept_language, translations
from webview_bridge.i18n_catalog import extract, missing

PLACEHOLDER = re.compile(r"%\(\w+\)s")


def test_every_template_and_page_string_is_translated_in_every_language():
    assert set(LANGUAGES) >= {"en", "de", "fr", "es", "it", "nl", "pl"}
    assert missing() == {}, "run scripts/i18n.py update and translate the new messages"


def test_translations_keep_their_placeholders():
    for message in extract():
        if not message.id:
            continue
        for lang in LANGUAGES[1:]:
            translated = translations(lang).gettext(message.id)
            assert sorted(PLACEHOLDER.findall(translated)) == sorted(PLACEHOLDER.findall(message.id)), (lang, message.id)


@pytest.mark.parametrize(
    ("query", "cookie", "header", "expected"),
    [
        ("de", "fr", "es", "de"),
        (None, "fr", "es", "fr"),
        (None, None, "es-ES,es;q=0.9,en;q=0.8", "es"),
        (None, None, "ja,nl;q=0.5,pl;q=0.7", "pl"),
        (None, None, "", "en"),
        ("xx", None, "it", "it"),
        ("klingon!", None, "", "en"),
        ("pt-BR", None, "", "en"),
        ("NL", None, "", "nl"),
    ],
)
def test_language_choice(query, cookie, header, expected):
    assert choose(query, cookie, header) == expected


def test_accept_language_quality_order():
    assert from_accept_language("fr;q=0.1, de;q=0.9") == "de"
    assert from_accept_language("*") is None
