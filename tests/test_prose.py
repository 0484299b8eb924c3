"""reportgen.prose: the small phrases narrative, render and the published check share."""

from __future__ import annotations

from decimal import Decimal

from reportgen.formatting import Formatter
from reportgen.model import Stratum
from reportgen.prose import capital, clipped, group_sizes, join_words, mid_sentence, patients


def test_patients_counts_in_words() -> None:
    assert (patients(1), patients(0), patients(3), patients(Decimal(1)), patients(Decimal(2))) == (
        "1 patient", "0 patients", "3 patients", "1 patient", "2 patients"
    )


def test_words_and_labels() -> None:
    assert (join_words([]), join_words(["a"]), join_words(["a", "b", "c"])) == ("", "a", "a, b and c")
    assert (mid_sentence("Swollen joint count"), mid_sentence("DAS28-ESR"), capital("cRP")) == ("swollen joint count", "DAS28-ESR", "CRP")


def test_group_sizes_is_the_one_sentence_of_quartile_sizes() -> None:
    strata = (Stratum("Q1", None, 4.2, 8, 24.2424), Stratum("Q2", 4.2, None, 25, 75.7576))
    assert group_sizes(strata, Formatter(",")) == "Q1 8 (24,2%); Q2 25 (75,8%)"


def test_clipped_keeps_text_at_its_limit_and_cuts_longer_text_to_it_with_an_ellipsis() -> None:
    assert clipped("abcde", 5) == "abcde"
    assert clipped("abcdef", 5) == "abcd…" and len(clipped("x" * 100, 40)) == 40
