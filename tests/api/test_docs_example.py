"""docs/api.md's key example, run as written: a trust created here (not the demo's) has its org
admin issue an integration key at Account → API keys, and the shell commands of the example —
read from the page itself — run with curl against a live server: who the key is, the catalogue,
the basket, an idempotent order, the order and the key's order list. Run twice, it places one
order."""

import json
import re
import shutil
import subprocess
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from accounts.keys import ApiKey, ApiScope
from accounts.models import OrganisationKind, VerificationStatus
from ordering.models import ApprovalRule, Order, OrderState, Stock
from pricing.models import PriceListKind
from tests.catalog.factories import CatalogFactory, CategoryFactory, ProductFactory
from tests.factories import (
    CostCentreFactory,
    MembershipFactory,
    OrganisationFactory,
    SiteFactory,
)
from tests.pricing.conftest import make_list, price

DOCS = Path(settings.BASE_DIR) / "docs" / "api.md"
SECTION = "## Example: an ERP orders for a new trust"
DOCUMENTED_KEY = 'KEY="3f9c1a7be2d4.kq2V…"'
DOCUMENTED_SHOP = 'SHOP="https://shop.example"'

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "curl", "jq")),
    reason="the documented example runs with bash, curl and jq",
)


def documented_script() -> str:
    """The shell block of the example section, exactly as the page shows it."""
    text = DOCS.read_text()
    section = text[text.index(SECTION):]
    section = section[:section.index("\n## ", len(SECTION))]
    (block,) = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    return textwrap.dedent(block)


def new_trust():
    """A trust that has just opened its account: a ward, the cost centre W7210, an org admin who
    does not buy, the product the example orders at a list price, stock, and a rule that sends
    orders of £250 or more to an approver."""
    trust = OrganisationFactory(
        name="Kingsbridge Community Hospitals NHS Trust", kind=OrganisationKind.NHS_TRUST,
        postcode="TQ7 1AA", town="Kingsbridge", credit_limit=Decimal("50000.00"),
        professional_status=VerificationStatus.VERIFIED,
    )
    SiteFactory(organisation=trust, name="Dart Ward", postcode="TQ7 1AA")
    CostCentreFactory(organisation=trust, code="W7210", name="Dart Ward consumables")
    admin = MembershipFactory(organisation=trust, is_buyer=False, is_org_admin=True,
                              user__email="it@kingsbridge.test").user
    category = CategoryFactory(name="Dressings", slug="docs-dressings")
    dressing = ProductFactory(sku="WC-1002", name="Silicone foam bordered dressing, 10 x 10 cm",
                              category=category)
    CatalogFactory(code="docs-kingsbridge", categories=[category], organisations=[trust])
    price(make_list("docs-list", PriceListKind.LIST), dressing, "45.00")
    Stock.objects.create(product=dressing, on_hand=500)
    ApprovalRule.objects.create(organisation=trust, name="Orders of £250 or more",
                                approver_role="approver", min_total=Decimal("250.00"),
                                position=1)
    return trust, admin


def run(script: str, workdir: Path) -> list:
    """Run the script with bash (stopping at the first failing command) and return the JSON
    documents it printed, in order."""
    done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=workdir,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    decoder, output, documents = json.JSONDecoder(), done.stdout.strip(), []
    while output:
        document, end = decoder.raw_decode(output)
        documents.append(document)
        output = output[end:].lstrip()
    return documents


@pytest.mark.django_db(transaction=True)
def test_the_documented_key_example_runs_end_to_end_for_a_new_trust(
    client, live_server, tmp_path
):
    trust, admin = new_trust()
    client.force_login(admin)
    issued = client.post("/account/api-keys/issue/", {
        "kind": "integration", "name": "Oracle ERP", "role": "buyer",
        "scopes": [ApiScope.CATALOGUE_READ, ApiScope.ORDERS_WRITE],
    })
    token = issued.context["token"]
    script = documented_script()
    assert DOCUMENTED_KEY in script and DOCUMENTED_SHOP in script
    script = script.replace(DOCUMENTED_KEY, f'KEY="{token}"').replace(
        DOCUMENTED_SHOP, f'SHOP="{live_server.url}"')

    me, products, detail, listed = run(script, tmp_path)
    placed = json.loads((tmp_path / "order.json").read_text())
    again = run(script, tmp_path)

    key = ApiKey.objects.get(prefix=token.split(".")[0])
    order = Order.objects.get()
    assert (me["organisation"]["id"], me["roles"]) == (trust.pk, ["buyer"])
    assert me["key"]["kind"] == "integration" and me["key"]["person"] == admin.email
    assert [row["sku"] for row in products["results"]] == ["WC-1002"]
    (answer,) = placed["orders"]
    assert answer["number"] == order.number == detail["number"]
    assert answer["lines"][0]["unit_price"] == "45.0000" and answer["total_net"] == "270.00"
    assert answer["state"] == OrderState.PENDING_APPROVAL  # £270: the trust's rule applies
    assert answer["placed_by"] == admin.email
    assert answer["placed_via_key"]["name"] == "Oracle ERP"
    assert (order.placed_by, order.api_key, order.cost_centre.code) == (admin, key, "W7210")
    assert [row["number"] for row in listed["results"]] == [order.number]
    assert again[2]["number"] == order.number  # the retry replayed the same order
    assert Order.objects.count() == 1
