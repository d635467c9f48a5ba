"""Every language: every visible string translated, chosen as PROTOCOL §6 says."""

import re

import pytest

from webview_bridge.i18n import LANGUAGES, choose, from_accept_language, translations
from webview_bridge.i18n_catalog import extract, missing

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def test_every_template_and_page_string_is_translated_in_every_language():
    assert len(LANGUAGES) >= 12 and set(LANGUAGES) >= {"en", "de", "fr", "es", "it", "nl", "pl", "ar"}
    assert missing() == {}, "run scripts/i18n.py update and translate the new messages"


def test_translations_keep_their_placeholders():
    for message in extract():
        if not message.id:
            continue
        for lang in LANGUAGES[1:]:
            if isinstance(message.id, tuple):  # plural: every form keeps the plural's placeholders
                singular, plural = message.id
                forms = [translations(lang).ngettext(singular, plural, n) for n in (1, 2, 5, 22)]
                expected = sorted(set(PLACEHOLDER.findall(plural)))
                assert all(sorted(set(PLACEHOLDER.findall(f))) == expected for f in forms), (lang, forms)
            else:
                translated = translations(lang).gettext(message.id)
                assert sorted(PLACEHOLDER.findall(translated)) == sorted(PLACEHOLDER.findall(message.id)), (lang, message.id)


def test_plural_forms_follow_each_languages_rules():
    pl = translations("pl")
    forms = [pl.ngettext("You have %(num)d account at %(bank)s.", "You have %(num)d accounts at %(bank)s.", n) for n in (1, 3, 5)]
    assert forms == ["Masz %(num)d konto w %(bank)s.", "Masz %(num)d konta w %(bank)s.", "Masz %(num)d kont w %(bank)s."]


def test_money_is_formatted_for_the_language():
    from webview_bridge.rendering import language

    assert language("en").format_money("6853.84", "GBP") == "£6,853.84"
    assert language("de").format_money("6853.84", "GBP") == "6.853,84\xa0£"
    assert language("fr").format_money("-1094.89", "EUR") == "-1\u202f094,89\xa0€"


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
        ("pt-BR", None, "", "pt"),
        ("NL", None, "", "nl"),
    ],
)
def test_language_choice(query, cookie, header, expected):
    assert choose(query, cookie, header) == expected


def test_accept_language_quality_order():
    assert from_accept_language("fr;q=0.1, de;q=0.9") == "de"
    assert from_accept_language("*") is None
