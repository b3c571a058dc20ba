"""The VAT-relief declaration a consumer gives on its own step: what it holds, and the one check of
it that the declaration page and the checkout both use (same words, each at its field)."""

from dataclasses import dataclass

from ..errors import OrderError


@dataclass(frozen=True)
class Declaration:
    """A VAT-relief eligibility declaration, given on its own step, separate from the order."""

    full_name: str
    address: str
    condition: str
    confirmed: bool
    signed_on_behalf: bool = False
    signer_name: str = ""
    signer_relationship: str = ""


def declaration_problems(declaration: Declaration) -> dict[str, str]:
    """What keeps this declaration from being accepted, by the field to correct (in the order of
    the form); empty when it is complete and confirmed."""
    problems = {}
    if not declaration.full_name.strip():
        problems["full_name"] = "Give the name of the disabled person."
    if not declaration.address.strip():
        problems["address"] = "Give the disabled person's address."
    if not declaration.condition.strip():
        problems["condition"] = "Give the disabled person's condition or disability."
    if declaration.signed_on_behalf:
        if not declaration.signer_name.strip():
            problems["signer_name"] = "When you sign for someone else, give your name."
        if not declaration.signer_relationship.strip():
            problems["signer_relationship"] = (
                "When you sign for someone else, give your relationship to them."
            )
    if not declaration.confirmed:
        problems["confirmed"] = "Tick the declaration to claim VAT relief."
    return problems


def declaration_check(declaration: Declaration) -> None:
    """Refuse an incomplete or unconfirmed declaration with its first problem."""
    problems = declaration_problems(declaration)
    if not problems:
        return
    field, message = next(iter(problems.items()))
    code = "declaration_unconfirmed" if field == "confirmed" else "declaration_incomplete"
    raise OrderError(code, message)
