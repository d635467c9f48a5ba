"""Every language reaches the customer (PROTOCOL §6): the bank selection comes back in the language
asked for, marked with it, with its own words, and Arabic reads right to left."""

from __future__ import annotations

import re

import pytest

from tests.support.customer import Customer
from webview_bridge.i18n import LANGUAGES, RTL, translations


def test_there_are_at_least_twelve_languages_and_one_reads_right_to_left():
    assert len(LANGUAGES) >= 12 and set(LANGUAGES) & RTL


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_bank_selection_speaks_each_language_and_says_which(tpp, server, lang):
    stored = tpp.store_request()
    page = Customer(server.url).get(f"{server.url}/app/request-token/{stored['id']}?lang={lang}")
    assert page.status_code == 200
    opening = re.search(r"<html[^>]*>", page.text).group(0)
    assert f'lang="{lang}"' in opening
    assert ('dir="rtl"' in opening) == (lang in RTL)
    title = re.search(r"<title>([^<]*)</title>", page.text).group(1)
    expected = translations(lang).gettext("Choose your bank")
    assert expected in title
    if lang != "en":
        assert expected != "Choose your bank", f"{lang} has no words of its own for the page title"
