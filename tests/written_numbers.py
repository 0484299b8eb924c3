"""Reading back a number the Formatter wrote, for the tests' round-trip checks."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from reportgen.formatting import MINUS, Formatter


def parse(formatter: Formatter, text: str) -> Decimal:
    """The number ``formatter`` wrote as ``text``; a decimal point under a decimal comma is refused."""
    cleaned = text.strip().replace(MINUS, "-")
    if formatter.decimal_separator == ",":
        if "." in cleaned:
            raise ValueError(f"{text!r} has a decimal point but the study uses a decimal comma")
        cleaned = cleaned.replace(",", ".")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number written by this formatter") from None
