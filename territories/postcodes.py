"""UK postcodes: parse, validate and normalise, and find the postcode area (the leading letters).

The grammar follows the published UK postcode format: an outward code (area letters,
district digits, optional sub-district letter) and an inward code (sector digit, two letters).
The special GIR 0AA and the overseas "BFPO" forms are not delivery addresses and are refused.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

_OUTWARD = r"(?P<area>[A-PR-UWYZ][A-HK-Y]?)(?P<district>[0-9][0-9A-HJKMNPR-Y]?)"
_INWARD = r"(?P<sector>[0-9])(?P<unit>[ABD-HJLNP-UW-Z]{2})"
_POSTCODE = re.compile(rf"^{_OUTWARD}{_INWARD}$")


@dataclass(frozen=True)
class Postcode:
    area: str
    outward: str
    inward: str

    def __str__(self) -> str:
        return f"{self.outward} {self.inward}"


def parse_postcode(raw: str) -> Postcode:
    """Parse a UK postcode in any case and spacing; raise ValidationError if it is not one."""
    compact = re.sub(r"\s+", "", (raw or "")).upper()
    match = _POSTCODE.match(compact)
    if not match:
        raise ValidationError(
            "Enter a valid UK postcode, for example SE1 7EH.", code="invalid_postcode"
        )
    outward = match["area"] + match["district"]
    return Postcode(area=match["area"], outward=outward, inward=match["sector"] + match["unit"])


def normalise_postcode(raw: str) -> str:
    return str(parse_postcode(raw))


def postcode_area(raw: str) -> str:
    return parse_postcode(raw).area


def validate_postcode(raw: str) -> None:
    parse_postcode(raw)
