"""PROTOCOL §5 v2, read literally: after NFKC, every decimal digit of any script is read as its
value; a maximal run of digits whose neighbours are at most three characters apart (none of them
a letter or a digit), with 13–19 digits passing Luhn, is a card number."""

import pytest

from webview_bridge.security.pan import contains_pan, digit_runs, luhn_valid

VISA = "4111111111111111"
FULL_WIDTH = "４１１１１１１１１１１１１１１１"  # NFKC turns these into ASCII digits
ARABIC_INDIC = "٤١١١١١١١١١١١١١١١"  # U+0660…: decimal digits of another script
DEVANAGARI = "४१११ ११११११११११११"


def test_luhn():
    assert luhn_valid(VISA) and luhn_valid("79927398713")
    assert not luhn_valid("4111111111111112")


@pytest.mark.parametrize(
    "text",
    [
        VISA,
        "order 4111 1111 1111 1111 paid",
        "card 4111-1111-1111-1111",
        "4111-1111 1111-1111",
        "5500005555555559",  # Mastercard, 16
        "378282246310005",  # Amex, 15
        "6011000990139424",
        "4222222222222",  # 13 digits, the shortest
        "4000000000000000006",  # 19 digits, the longest
        "ref:4111111111111111.",
        "4111  1111  1111  1111",  # double spaces
        "4111   1111   1111   1111",  # three spaces: still one run
        "4111--1111--1111--1111",
        "4111 - 1111 - 1111 - 1111",  # " - " is three characters
        "4111–1111–1111–1111",  # en dashes
        "4111.1111.1111.1111",
        "4111_1111_1111_1111",
        "4111/1111/1111/1111",
        "4111,1111,1111,1111",
        "4111\t1111\n1111\u00a01111",  # tabs, line breaks and no-break spaces are not letters either
        "4111 (1111) 1111 1111",
        FULL_WIDTH,
        "４１１１－１１１１－１１１１－１１１１",  # full-width digits and dashes
        ARABIC_INDIC,
        "٤١١١ ١١١١ ١١١١ ١١١١",
        DEVANAGARI,
        "4111 ١١١١ １１１１ 1111",  # scripts mixed within one run
        "⁴¹¹¹¹¹¹¹¹¹¹¹¹¹¹¹",  # superscripts: NFKC makes them digits
        "4\u03011\u030111111111111111",  # combining marks are neither letters nor digits
        "x4111111111111111y",  # letters end a run; they do not hide one
        "short 12 then 4111 1111 1111 1111",
    ],
)
def test_card_numbers_are_spotted(text):
    assert contains_pan(text)


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # fails Luhn
        "411111111111",  # 12 digits
        "41111111111111111111",  # 20 digits: a longer run is not a card number…
        "4111111111111111 0",  # …even when a valid 16 digits sit inside it, as the run counts all 17+…
        "99 4111 1111 1111 1111 99",  # …here 20 digits: the run is what is judged, not its parts
        "4111    1111    1111    1111",  # four characters between digits break the run into pieces
        "4111 -- 1111 -- 1111 -- 1111",  # so do four-character " -- "
        "4111 a 1111 1111 1111",  # a letter breaks the run: 4 and 12 digits
        "4111x1111x1111x1111",
        "invoice 2026-11-21 amount 100",
        "٤١١١١١١١١١١١١١١٢",  # Arabic-Indic, failing Luhn
        "",
    ],
)
def test_other_digit_runs_are_not(text):
    assert not contains_pan(text)


def test_runs_are_maximal_and_read_every_script_as_values():
    assert digit_runs("a 12 34 b ٥٦----78 9") == ["1234", "56", "789"]
    assert digit_runs("１２–３") == ["123"]
    assert digit_runs("no digits") == []


def test_a_run_that_breaks_at_four_characters_is_judged_in_its_pieces():
    # 4 spaces end the first run; the second run, 16 digits, is a card number on its own.
    assert contains_pan("1234    4111 1111 1111 1111")
    assert not contains_pan("1234   4111 1111 1111 1111")  # joined by three spaces: 20 digits


def test_the_ascii_shortcut_finds_the_same_runs_as_the_general_scan():
    """ASCII text takes a regular expression; anything else a scan by character: they must agree."""
    import random

    from webview_bridge.security.pan import _runs

    pick = random.Random(20261202)
    for _ in range(3000):
        text = "".join(pick.choice("0123456789 -._/,aZ\t") for _ in range(pick.randint(0, 60)))
        assert digit_runs(text) == _runs(text), repr(text)
