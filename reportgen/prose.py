"""Small phrases the report's prose is built from, written once: counts of patients, lists of words,
group sizes, capitalisation. Numbers inside them are written by the Formatter."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from reportgen.formatting import Formatter
    from reportgen.model import BuildInfo, Stratum, TestResult

# How a build's time is written in the report (appendix, draft title block) and the PDF's metadata.
BUILD_DATE_FORMAT = "%Y-%m-%d %H:%M UTC"


def build_record(info: BuildInfo, hash_digits: int | None = None) -> str:
    """The build stamp, checksum and software in one sentence: the PDF's description (Subject) metadata with
    the whole SHA-256, the report's appendix with its first ``hash_digits`` hex digits."""
    digest = info.source_sha256 if hash_digits is None else f"{info.source_sha256[:hash_digits]}\u2026"
    return (
        f"Built {info.build_time.strftime(BUILD_DATE_FORMAT)} from {info.source_name} "
        f"(SHA-256 {digest}) with reportgen {info.version}"
    )


def clipped(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, the last one an ellipsis when it had to be cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def counted(count: int | Decimal, singular: str, plural: str | None = None) -> str:
    """'1 comparison', '3 comparisons'."""
    return f"{count} {singular}" if count == 1 else f"{count} {plural or singular + 's'}"


def patients(count: int | Decimal) -> str:
    """'1 patient', '3 patients'."""
    return counted(count, "patient")


def verb(count: int | Decimal, singular: str, plural: str) -> str:
    """The verb agreeing with a count: verb(1, 'is', 'are') -> 'is'."""
    return singular if count == 1 else plural


def patients_per_group(smallest: int, largest: int, group: str) -> str:
    """'7 to 10 patients per quartile', or '3 patients per group' when every group is the same size
    (``group``: the word for one group, from ``reportgen.grouping``)."""
    if smallest == largest:
        return f"{patients(smallest)} per {group}"
    return f"{smallest} to {largest} patients per {group}"


def not_tested(reason: str) -> str:
    """Why a test has no p-value: 'not tested: all values are equal'."""
    return f"not tested: {reason}"


def not_estimated(reason: str) -> str:
    """Why a model has no estimate: 'not estimated: every patient with complete data has the same value'."""
    return f"not estimated: {reason}"


def p_or_reason(test: TestResult, formatter: Formatter) -> str:
    """'p = 0.006' in a sentence, or why there is no p: 'not tested: all values are equal', never 'p = –'."""
    if test.p_value is None:
        return not_tested(test.not_tested or "no p-value")
    return formatter.p_equation(test.p_value)


def join_words(items: Sequence[str]) -> str:
    """'a, b and c': plain-language list joining for words (numbers are joined by ``Formatter.join``)."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def group_sizes(strata: Sequence[Stratum], formatter: Formatter) -> str:
    """'Q1 8 (24.2%); Q2 7 (21.2%); …': each group's patients and share of the analysed ones."""
    return "; ".join(f"{s.label} {s.n} ({formatter.percent(s.percent)}%)" for s in strata)


def mid_sentence(label: str) -> str:
    """'Swollen joint count' -> 'swollen joint count'; acronyms such as 'DAS28-ESR' or 'CRP' stay."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]
