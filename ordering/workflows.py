"""`workflow_for(buyer)`: how this buyer checks out — the steps, the fields they must give, how they
pay, whether backorders are accepted, and the approval chain an order of theirs goes through.
Decided by the resolver's `buyer.workflow` (retail, institutional, distributor), never by a URL."""

from dataclasses import dataclass
from decimal import Decimal

from accounts.models import OrganisationKind
from accounts.permissions import Perm
from segments.resolver import BuyerContext, Workflow

from .models import ApprovalRule, ApproverRole, PaymentMethod

RETAIL_STEPS = ("cart", "address", "relief", "payment", "confirmation")
INSTITUTIONAL_STEPS = ("cart", "order_details", "approval", "confirmation")
DISTRIBUTOR_STEPS = ("cart", "order_details", "confirmation")
PO_REQUIRED_KINDS = (OrganisationKind.NHS_TRUST, OrganisationKind.INTEGRATED_CARE_SYSTEM)


@dataclass(frozen=True)
class ChainStep:
    """One approval an order needs: by whom (a role) and because of which rule."""

    rule_name: str
    approver_role: str


@dataclass(frozen=True)
class CheckoutWorkflow:
    name: str
    steps: tuple[str, ...]
    required_fields: tuple[str, ...]
    payment_method: str
    backorders_accepted: bool
    approval_chain: tuple[ChainStep, ...] = ()

    @property
    def needs_approval(self) -> bool:
        return bool(self.approval_chain)


REQUISITION_STEP = ChainStep("Requisitions need an approver", ApproverRole.APPROVER)


def approval_chain_for(
    buyer: BuyerContext, *, total: Decimal, category_paths=()
) -> tuple[ChainStep, ...]:
    """The approvals an order of `total` (ex VAT) holding products of `category_paths` needs: the
    organisation's active rules it meets, in rule order. A requisitioner (who may not place an
    order) always needs at least one approver. An integration key's order skips them all where
    its organisation says so."""
    if buyer.skips_approval_rules:
        return ()
    rules = ApprovalRule.objects.filter(
        organisation_id=buyer.organisation_id, is_active=True, min_total__lte=total
    ).select_related("category").order_by("position", "id")
    chain = [
        ChainStep(rule.name, rule.approver_role)
        for rule in rules
        if rule.category is None
        or any(path.startswith(rule.category.path) for path in category_paths)
    ]
    if not chain and not buyer.can(Perm.PLACE_ORDER):
        chain.append(REQUISITION_STEP)
    return tuple(chain)


def workflow_for(
    buyer: BuyerContext, *, total: Decimal | None = None, category_paths=()
) -> CheckoutWorkflow:
    """The checkout of this buyer. With `total` (and the order's category paths) the approval
    chain is evaluated for that order; without, it is left empty."""
    if buyer.workflow == Workflow.RETAIL:
        return CheckoutWorkflow(
            name=Workflow.RETAIL,
            steps=RETAIL_STEPS,
            required_fields=("delivery_name", "delivery_address", "delivery_postcode", "card"),
            payment_method=PaymentMethod.CARD,
            backorders_accepted=False,
        )
    chain = () if total is None else approval_chain_for(
        buyer, total=total, category_paths=category_paths
    )
    if buyer.workflow == Workflow.DISTRIBUTOR:
        return CheckoutWorkflow(
            name=Workflow.DISTRIBUTOR,
            steps=DISTRIBUTOR_STEPS,
            required_fields=("po_number", "line_sites"),
            payment_method=PaymentMethod.ACCOUNT,
            backorders_accepted=True,
            approval_chain=chain,
        )
    required = ["requested_delivery_date", "line_sites"]
    if buyer.organisation_kind in PO_REQUIRED_KINDS:
        required[:0] = ["po_number", "cost_centre"]
    return CheckoutWorkflow(
        name=Workflow.INSTITUTIONAL,
        steps=INSTITUTIONAL_STEPS,
        required_fields=tuple(required),
        payment_method=PaymentMethod.ACCOUNT,
        backorders_accepted=True,
        approval_chain=chain,
    )
