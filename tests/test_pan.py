import pytest

from webview_bridge.security.pan import contains_pan, luhn_valid

VISA = "4111111111111111"


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
        "4222222222222",  # 13 digits
        "ref:4111111111111111.",
    ],
)
def test_card_numbers_are_spotted(text):
    assert contains_pan(text)


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # fails Luhn
        "411111111111",  # 12 digits
        "41111111111111111111",  # 20 digits: a longer run is not a card number
        "4111  1111  1111  1111",  # double spaces break the run into 4-digit pieces
        "4111--1111--1111--1111",
        "invoice 2026-11-21 amount 100",
        "",
    ],
)
def test_other_digit_runs_are_not(text):
    assert not contains_pan(text)
