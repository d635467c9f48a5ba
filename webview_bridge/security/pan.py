"""Card numbers (PANs) must never be stored: spot them in free text (PROTOCOL §5).

The rule, read literally: after NFKC normalisation, every decimal digit of any script counts as
its value; a maximal run of digits whose neighbouring digits are at most three characters apart,
none of those characters a letter or a digit, is a card number when it has 13 to 19 digits and
passes the Luhn check. A run is judged whole: 20 digits are not a card number, whatever 16 of
them would be.
"""

from __future__ import annotations

import re
import unicodedata

MIN_DIGITS, MAX_DIGITS = 13, 19
MAX_GAP = 3  # characters between two digits of one run
# In ASCII text, letters are A-Z a-z and digits 0-9, so one regular expression (C speed) finds the runs.
_ASCII_RUN = re.compile(rb"[0-9](?:[^0-9A-Za-z]{0,3}[0-9])*")
_ASCII_SEPARATORS = bytes(b for b in range(128) if not chr(b).isalnum())


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def digit_runs(text: str) -> list[str]:
    """The maximal runs of digits in `text`, each as ASCII digits, in order."""
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():
        return [run.translate(None, _ASCII_SEPARATORS).decode() for run in _ASCII_RUN.findall(text.encode())]
    return _runs(text)


def _runs(text: str) -> list[str]:
    """digit_runs for any script, one character at a time."""
    runs: list[str] = []
    run: list[str] = []
    gap = 0
    for char in text:
        value = unicodedata.decimal(char, None)
        if value is not None:
            run.append(str(value))
            gap = 0
        elif run:
            gap += 1
            if gap > MAX_GAP or char.isalpha():  # str.isalpha is Unicode's L*: every script's letters
                runs.append("".join(run))
                run = []
    if run:
        runs.append("".join(run))
    return runs


def contains_pan(text: str) -> bool:
    if text.isascii():  # most text: too few digits to hold a card number, settled at C speed
        raw = text.encode()
        if len(raw) - len(raw.translate(None, b"0123456789")) < MIN_DIGITS:
            return False
    return any(MIN_DIGITS <= len(run) <= MAX_DIGITS and luhn_valid(run) for run in digit_runs(text))
