"""Validators for identifiers people type in: GS1 GLNs and professional registrations."""

import re

from django.core.exceptions import ValidationError
from stdnum import ean
from stdnum.exceptions import ValidationError as StdnumError


def validate_gln(value: str) -> None:
    """A GS1 Global Location Number: 13 digits with a valid GS1 check digit."""
    if not value:
        return
    if not re.fullmatch(r"\d{13}", value):
        raise ValidationError("A GLN has exactly 13 digits.", code="invalid_gln")
    try:
        ean.validate(value)
    except StdnumError as exc:
        raise ValidationError(
            "This GLN's check digit is wrong; check the number on your GS1 record.",
            code="invalid_gln",
        ) from exc


# Formats of the UK health professions' public registers.
REGISTRATION_FORMATS = {
    "gmc": (re.compile(r"^\d{7}$"), "a GMC number has 7 digits, for example 7012345"),
    "nmc": (
        re.compile(r"^\d{2}[A-Z]\d{4}[A-Z]$"),
        "an NMC PIN is 2 digits, a letter, 4 digits and a letter, for example 12A3456E",
    ),
    "hcpc": (
        re.compile(r"^(AS|CS|CH|DT|HAD|OD|OT|PA|PH|PO|PYL|RA|SL|BS|AR)\d{4,6}$"),
        "an HCPC number is a profession prefix and digits, for example PH123456",
    ),
    "gphc": (re.compile(r"^[25]\d{6}$"), "a GPhC number has 7 digits starting 2 or 5"),
}


def normalise_registration_number(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def validate_registration_number(regulator: str, number: str) -> None:
    fmt = REGISTRATION_FORMATS.get(regulator)
    if fmt is None:
        raise ValidationError({"regulator": "Choose a regulator."})
    pattern, example = fmt
    if not pattern.fullmatch(normalise_registration_number(number)):
        raise ValidationError(
            {"registration_number": f"Not a valid {regulator.upper()} number: {example}."}
        )
