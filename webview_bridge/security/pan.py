"""Card numbers (PANs) must never be stored: spot them in free text (PROTOCOL §5)."""

import re

# A maximal run of digits in which single spaces or dashes between digits do not break the run.
_DIGIT_RUN = re.compile(r"\d(?:[ -]?\d)*")


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def contains_pan(text: str) -> bool:
    for run in _DIGIT_RUN.finditer(text):
        digits = run.group().replace(" ", "").replace("-", "")
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return True
    return False
