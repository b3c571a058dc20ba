"""The oracle: what each buyer of a generated world may see, what they pay, which prices they may
never see, and where a line delivered to a postcode area must go. Written from the rules in
DESIGN.md over the plain world description (`WorldSpec`); it imports nothing of the project.

- Visible: in one of the buyer's catalogues, not restricted in the territory of the buyer's area,
  not professional-only unless the buyer is a verified professional organisation; a distributor
  sees only the lines it holds a right to there.
- Price (business buyers, quantity 1, ex VAT): accepted quote of the buyer's organisation >
  active contract of the organisation, then its parent, grandparent … > segment price list >
  list price. Within one level the lowest price.
- Secret: every contract price and reference of an organisation outside the buyer's own
  organisation and its ancestors, and every quote price and number of another organisation.
- Route for a line delivered into an area: not at all if restricted there; for a distributor,
  directly if it holds a right there, else not at all; for anyone else, through the holder of an
  exclusive right there, else directly.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from .world import TERRITORY_AREAS, WorldSpec

DIRECT, NOWHERE = "direct", "nowhere"


def territory_of(area: str) -> str:
    return next(code for code, areas in TERRITORY_AREAS.items() if area in areas)


@dataclass(frozen=True)
class Buyer:
    """The facts of one buyer the oracle needs, from the world description alone."""

    key: str
    org_key: str | None
    kind: str  # ics, nhs_trust, private_clinic, distributor or consumer
    area: str
    path: tuple[str, ...]
    professional: bool


def buyer_facts(spec: WorldSpec, person_key: str, org_key: str | None, area: str = "") -> Buyer:
    if org_key is None:
        return Buyer(person_key, None, "consumer", area, (), False)
    org = spec.org(org_key)
    path, parent = [org_key], org.parent
    while parent:
        path.append(parent)
        parent = spec.org(parent).parent
    return Buyer(person_key, org_key, org.kind, area or org.site_areas[0], tuple(path),
                 org.verified)


def _rights_in(spec: WorldSpec, product: int, area: str):
    territory = territory_of(area)
    return [r for r in spec.rights if r.product == product and r.territory == territory]


def restricted(spec: WorldSpec, product: int, area: str) -> bool:
    return territory_of(area) in spec.products[product].restricted_in


def route(spec: WorldSpec, buyer: Buyer, product: int, area: str) -> str:
    """DIRECT, NOWHERE or the key of the distributor the line must go through."""
    if restricted(spec, product, area):
        return NOWHERE
    rights = _rights_in(spec, product, area)
    if buyer.kind == "distributor":
        return DIRECT if any(r.distributor == buyer.org_key for r in rights) else NOWHERE
    exclusive = [r for r in rights if r.exclusive]
    return exclusive[0].distributor if exclusive else DIRECT


def in_catalogue(spec: WorldSpec, buyer: Buyer, product: int) -> bool:
    p = spec.products[product]
    return {
        "ics": p.nhs, "nhs_trust": p.nhs, "private_clinic": p.clinic, "consumer": p.consumer,
        "distributor": True,
    }[buyer.kind]


def visible(spec: WorldSpec, buyer: Buyer, product: int) -> bool:
    p = spec.products[product]
    if not in_catalogue(spec, buyer, product) or restricted(spec, product, buyer.area):
        return False
    if p.professional_only and not (buyer.professional and buyer.kind != "consumer"):
        return False
    if buyer.kind == "distributor":
        return route(spec, buyer, product, buyer.area) == DIRECT
    return True


def _contract_applies(state: str) -> bool:
    return state == "active"


def price(spec: WorldSpec, buyer: Buyer, product: int) -> Decimal | None:
    """The unit price a business buyer pays at quantity 1 (ex VAT); None for a consumer."""
    if buyer.kind == "consumer":
        return None
    quoted = [amount for q in spec.quotes if q.holder == buyer.org_key
              for i, amount in q.items if i == product]
    if quoted:
        return min(quoted)
    for org_key in buyer.path:
        contracted = [amount for c in spec.contracts
                      if c.holder == org_key and _contract_applies(c.state)
                      for i, amount in c.items if i == product]
        if contracted:
            return min(contracted)
    p = spec.products[product]
    if buyer.kind == "private_clinic" and p.clinic_price is not None:
        return p.clinic_price
    return p.list_price


def secrets(spec: WorldSpec, buyer: Buyer) -> dict[str, str]:
    """{string that must never appear for this buyer: what it is}."""
    found = {}
    for c in spec.contracts:
        if c.holder not in buyer.path:
            found[c.reference] = f"contract reference of {c.holder}"
            for i, amount in c.items:
                found[str(amount)] = f"{c.holder}'s contract {c.reference} price of product {i}"
    for q in spec.quotes:
        if q.holder != buyer.org_key:
            found[q.number] = f"quote number of {q.holder}"
            for i, amount in q.items:
                found[str(amount)] = f"{q.holder}'s quote {q.number} price of product {i}"
    return found


def secrets_outside(spec: WorldSpec, org_keys) -> dict[str, str]:
    """What staff scoped to the organisations `org_keys` may never see: the contracts that price
    none of them (a parent's contract prices its children) and other organisations' quotes."""
    pricing = {key for org in org_keys for key in buyer_facts(spec, org, org).path}
    found = {}
    for c in spec.contracts:
        if c.holder not in pricing:
            found[c.reference] = f"contract reference of {c.holder}"
            found.update({str(a): f"{c.holder}'s contract price" for _, a in c.items})
    for q in spec.quotes:
        if q.holder not in org_keys:
            found[q.number] = f"quote number of {q.holder}"
            found.update({str(a): f"{q.holder}'s quote price" for _, a in q.items})
    return found


def leaks(body: str, forbidden: dict[str, str]) -> list[str]:
    """Every forbidden string found in `body` as a whole token (a price not inside a longer
    number such as 1,834.17 or 11834.17 — trailing zeros allowed, 834.1700 — and a reference
    not inside a longer reference)."""
    found = []
    for text, what in forbidden.items():
        if re.search(rf"(?<![\w,.]){re.escape(text)}0*(?!\w|\.\d)", body):
            found.append(f"{text} ({what})")
    return found
