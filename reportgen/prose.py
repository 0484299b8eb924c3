"""Small phrases the report's prose is built from, written once: counts of patients, lists of words,
quartile sizes, capitalisation. Numbers inside them are written by the Formatter."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from reportgen.formatting import Formatter
    from reportgen.model import Stratum


def patients(count: int | Decimal) -> str:
    """'1 patient', '3 patients'."""
    return f"{count} patient" if count == 1 else f"{count} patients"


def join_words(items: Sequence[str]) -> str:
    """'a, b and c': plain-language list joining for words (numbers are joined by ``Formatter.join``)."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def group_sizes(strata: Sequence[Stratum], formatter: Formatter) -> str:
    """'Q1 8 (24.2%); Q2 7 (21.2%); …': each quartile's patients and share of the analysed ones."""
    return "; ".join(f"{s.label} {s.n} ({formatter.percent(s.percent)}%)" for s in strata)


def mid_sentence(label: str) -> str:
    """'Swollen joint count' -> 'swollen joint count'; acronyms such as 'DAS28-ESR' or 'CRP' stay."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]
