"""Trough levels below the assay's lower limit of quantification (LLOQ): the one home of their rules and words.

A level cell typed ``<0.3``, ``< 0.3`` or ``<LLOQ`` (any capitals) says "below the LLOQ". The study sheet
gives the assay's limit (``lloq``) and what value stands for such a level in the analysis (``below_lloq``):
half the LLOQ (the default), zero, or the LLOQ itself. The patient stays in the analysis, in the lowest
group (validation refuses a cut point below the LLOQ), and the report counts such patients per group and
states the substitution in its Methods. No numpy here: the PDF worker imports the report's prose.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reportgen.formatting import Formatter
    from reportgen.model import StudyOptions

LLOQ_KEY = "lloq"
MODE_KEY = "below_lloq"
HALF, ZERO, AT_LLOQ = "half-lloq", "zero", "lloq"
MODES = (HALF, ZERO, AT_LLOQ)
DEFAULT_MODE = HALF
# The words of each substitution, as Methods says them: 'half the LLOQ (0.15 µg/mL)'.
MODE_WORDS = {HALF: "half the LLOQ", ZERO: "zero", AT_LLOQ: "the LLOQ"}

# '<0.3', '< 0,3', '<LLOQ': group 1 is the limit written out, or 'lloq'.
_BELOW = re.compile(r"^\s*<\s*(lloq|[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)\s*$", re.IGNORECASE)
WRITTEN_LLOQ = "LLOQ"  # what '<LLOQ' holds in place of a number
# The visits' flag (validated frame) and the patients' flag (derived frame): the level was below the LLOQ.
VISIT_FLAG = "level_below_lloq"
PATIENT_FLAG = "trough_below_lloq"


def below(text: str) -> str | None:
    """The limit a below-LLOQ cell names: '0.3' for '<0.3', 'LLOQ' for '<lloq'; None when the text is not one."""
    match = _BELOW.match(text)
    if match is None:
        return None
    limit = match.group(1)
    return WRITTEN_LLOQ if limit.casefold() == "lloq" else limit.replace(",", ".")


def substituted(lloq: float, mode: str) -> float:
    """The value analysed for a level below the LLOQ."""
    if mode == HALF:
        return lloq / 2.0
    if mode == ZERO:
        return 0.0
    if mode == AT_LLOQ:
        return float(lloq)
    raise ValueError(f"{MODE_KEY} must be one of {', '.join(MODES)}, not {mode!r}")


def methods_sentence(study: StudyOptions, n_below: int, formatter: Formatter) -> str:
    """'Trough levels below the lower limit of quantification (LLOQ, 0.3 µg/mL; 4 patients) were analysed as
    half the LLOQ (0.15 µg/mL).' '' when the study gives no LLOQ."""
    if study.lloq is None:
        return ""
    unit = study.level_unit
    limit = f"{formatter.measure(study.lloq, 'trough_level')} {unit}"
    value = substituted(study.lloq, study.below_lloq)
    shown = f"{formatter.measure(value, 'trough_level')} {unit}"
    how = MODE_WORDS[study.below_lloq] + ("" if study.below_lloq == ZERO else f" ({shown})")
    whom = "no analysed patient" if n_below == 0 else f"{n_below} analysed patient{'s' if n_below != 1 else ''}"
    return (
        f"Trough levels below the lower limit of quantification (LLOQ, {limit}; {whom}) were analysed as {how}; "
        f"these patients stay in the analysis, in the lowest group."
    )
