"""Each segment gets its own checkout: steps, fields, payment and approval chain."""

from decimal import Decimal

from ordering.models import ApprovalRule
from ordering.workflows import workflow_for


def test_each_segment_gets_its_own_workflow(world):
    retail = workflow_for(world.buyer("patient"))
    institutional = workflow_for(world.buyer("buyer"))
    distributor = workflow_for(world.buyer("distributor"))

    assert retail.name == "retail" and "relief" in retail.steps and retail.payment_method == "card"
    assert not retail.backorders_accepted
    assert institutional.name == "institutional"
    assert {"po_number", "cost_centre"} <= set(institutional.required_fields)
    assert institutional.payment_method == "account"
    assert distributor.name == "distributor" and distributor.backorders_accepted


def test_the_approval_chain_follows_the_organisations_rules_by_total_and_category(world):
    ApprovalRule.objects.create(organisation=world.trust, name="Over £5,000",
                                min_total=Decimal("5000.00"), approver_role="budget_holder",
                                position=2)
    ApprovalRule.objects.create(organisation=world.trust, name="Ward consumables",
                                category=world.dressing.category, approver_role="approver",
                                position=3)
    buyer = world.buyer("buyer")

    small = workflow_for(buyer, total=Decimal("100.00"), category_paths=["999999."])
    large = workflow_for(buyer, total=Decimal("6000.00"),
                         category_paths=[world.dressing.category.path])

    assert [s.rule_name for s in small.approval_chain] == ["Every requisition"]
    assert [s.rule_name for s in large.approval_chain] == [
        "Every requisition", "Over £5,000", "Ward consumables"
    ]


def test_a_requisitioner_always_needs_an_approver(world):
    ApprovalRule.objects.all().delete()

    requisitioner = workflow_for(world.buyer("requisitioner"), total=Decimal("10.00"))
    buyer = workflow_for(world.buyer("buyer"), total=Decimal("10.00"))

    assert requisitioner.needs_approval
    assert not buyer.needs_approval
