"""The drugs reportgen knows (``schemas/drugs.yaml``) and the study's drug as the report describes it.

The drug table is read here and nowhere else. A study sheet's ``drug`` picks a known drug (ignoring case
and repeated spaces) or names another one; :func:`design_of` turns the study options into the
:class:`DrugDesign` every sentence about the drug is written from (name, abbreviation, class, route, the
unit of its levels, the plausible trough range), so that no word about the drug is written anywhere else.

How ``administration`` and the table combine: the study sheet's ``administration`` always wins (tocilizumab,
infliximab and golimumab exist in both forms); without it the table's usual form is used. An
``administration`` the table does not list for a known drug (etanercept by infusion) is accepted with a
warning (validate). An unknown drug has no usual form, so it needs ``administration``.

Only the standard library and PyYAML are imported: the PDF worker imports the report document, and so this module.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import yaml

from reportgen.resources import schemas_dir

if TYPE_CHECKING:
    from reportgen.model import StudyOptions

DRUG_TABLE_FILE = "drugs.yaml"
DrugClass = Literal["il6-receptor-antagonist", "tnf-inhibitor"]
Administration = Literal["infusion", "injection"]
IL6_RECEPTOR_ANTAGONIST: DrugClass = "il6-receptor-antagonist"
# How the report says each class and each route.
CLASS_WORDS: dict[str, str] = {
    "il6-receptor-antagonist": "an interleukin-6 receptor antagonist",
    "tnf-inhibitor": "a TNF inhibitor",
}
ROUTE_WORDS: dict[str, str] = {"infusion": "intravenous infusion", "injection": "subcutaneous injection"}
# The units a trough level may be given in, and their factor to µg/mL (the drug table's unit).
LEVEL_UNIT_FACTORS: dict[str, float] = {"µg/mL": 1.0, "mg/L": 1.0}
TABLE_UNIT = "µg/mL"


class DrugTableError(ValueError):
    """The drug table itself is malformed (a bug in reportgen, not in the user's workbook)."""


@dataclass(frozen=True)
class Drug:
    """One row of the drug table."""

    name: str
    abbreviation: str
    drug_class: DrugClass
    routes: tuple[Administration, ...]
    administration: Administration
    trough_range: tuple[float, float]  # µg/mL


@dataclass(frozen=True)
class DrugDesign:
    """The study's drug as the report describes it, every value in effect (results.json's ``design``)."""

    drug: str  # as printed: the table's name for a known drug, else as the study sheet spells it
    abbreviation: str | None  # None: an unknown drug without drug_abbreviation is always named in full
    drug_class: DrugClass | None  # None for an unknown drug
    known: bool  # in the drug table
    administration: Administration
    administration_from: Literal["study sheet", "drug table"]
    level_unit: str
    trough_range: tuple[float, float] | None  # in level_unit; None for an unknown drug

    @property
    def route_words(self) -> str:
        """'intravenous infusion' or 'subcutaneous injection'."""
        return ROUTE_WORDS[self.administration]

    @property
    def introduced(self) -> str:
        """The drug at its first mention: 'tocilizumab (TCZ)', or the bare name without an abbreviation."""
        return f"{self.drug} ({self.abbreviation})" if self.abbreviation else self.drug

    def as_record(self) -> dict[str, Any]:
        return {
            "drug": self.drug,
            "drug_abbreviation": self.abbreviation,
            "drug_class": self.drug_class,
            "drug_known": self.known,
            "administration": self.administration,
            "administration_from": self.administration_from,
            "level_unit": self.level_unit,
            "plausible_trough_range": list(self.trough_range) if self.trough_range is not None else None,
        }


def normalised(name: str) -> str:
    """A drug name as compared: lower case, one space between words."""
    return " ".join(name.split()).casefold()


@lru_cache(maxsize=1)
def drug_table() -> dict[str, Drug]:
    """The packaged drug table by normalised name, read once per process."""
    with (schemas_dir() / DRUG_TABLE_FILE).open(encoding="utf-8") as handle:
        return parse_drug_table(yaml.safe_load(handle))


def parse_drug_table(document: Any) -> dict[str, Drug]:
    if not isinstance(document, dict) or set(document) != {"version", "drugs"}:
        raise DrugTableError("the drug table needs exactly: version, drugs")
    table: dict[str, Drug] = {}
    for i, raw in enumerate(document["drugs"]):
        where = f"drugs[{i}]"
        expected = {"name", "abbreviation", "class", "routes", "administration", "trough_range"}
        if not isinstance(raw, dict) or set(raw) != expected:
            raise DrugTableError(f"{where}: needs exactly {', '.join(sorted(expected))}")
        routes = tuple(raw["routes"])
        if raw["class"] not in CLASS_WORDS or not routes or any(route not in ROUTE_WORDS for route in routes):
            raise DrugTableError(f"{where}: unknown class or route")
        if raw["administration"] not in routes:
            raise DrugTableError(f"{where}: administration must be one of its routes")
        low, high = (float(edge) for edge in raw["trough_range"])
        if not 0 <= low < high:
            raise DrugTableError(f"{where}: trough_range must be two increasing numbers of 0 or more")
        name = normalised(str(raw["name"]))
        if name in table:
            raise DrugTableError(f"{where}: {name} is listed twice")
        table[name] = Drug(name, str(raw["abbreviation"]), raw["class"], routes, raw["administration"], (low, high))
    return table


def known_drug(name: str) -> Drug | None:
    return drug_table().get(normalised(name))


def closest_drug(name: str) -> str | None:
    """The known drug a misspelt name most likely means ('adalimumb' -> 'adalimumab'), or None."""
    close = difflib.get_close_matches(normalised(name), list(drug_table()), n=1, cutoff=0.75)
    return close[0] if close else None


def design_of(study: StudyOptions) -> DrugDesign:
    """The drug as the report describes it; validation has refused an unknown drug without administration."""
    drug = known_drug(study.drug)
    if drug is None and study.administration is None:
        raise ValueError(f"{study.drug!r} is not in the drug table and no administration was given")
    administration: Administration = study.administration or drug.administration  # type: ignore[union-attr]
    factor = LEVEL_UNIT_FACTORS[study.level_unit]
    return DrugDesign(
        drug=drug.name if drug else " ".join(study.drug.split()),
        abbreviation=study.drug_abbreviation or (drug.abbreviation if drug else None),
        drug_class=drug.drug_class if drug else None,
        known=drug is not None,
        administration=administration,
        administration_from="study sheet" if study.administration else "drug table",
        level_unit=study.level_unit,
        trough_range=(drug.trough_range[0] / factor, drug.trough_range[1] / factor) if drug else None,
    )


def lowers_acute_phase_reactants(study: StudyOptions) -> bool:
    """True when the drug blocks the interleukin-6 receptor, which lowers CRP and ESR whatever the disease
    activity (so CRP- and ESR-based measures overstate its effect). False for an unknown drug."""
    drug = known_drug(study.drug)
    return drug is not None and drug.drug_class == IL6_RECEPTOR_ANTAGONIST


def design_record(study: StudyOptions) -> dict[str, Any]:
    """Every study option in effect, defaults included, with the drug table's values resolved (the drug's
    printed name, abbreviation, class, route and plausible trough range): results.json's and the manifest's
    ``design``."""
    record = dataclasses.asdict(study)
    record.update(design_of(study).as_record())
    return {key: list(value) if isinstance(value, tuple) else value for key, value in record.items()}
