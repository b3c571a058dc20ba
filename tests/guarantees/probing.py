"""What every probe file shares: a client logged in as a person of the world, an API client with
the organisation's key, the oracle's view of a person, and the leak and visibility checks that
count each probe in the tally."""

from rest_framework.test import APIClient

from storefront.api.services import authorization_header

from . import oracle
from .world import BuiltWorld, Person


def facts(world: BuiltWorld, person: Person) -> oracle.Buyer:
    area = world.spec.consumers[int(person.key.removeprefix("consumer"))] \
        if person.org_key is None else ""
    return oracle.buyer_facts(world.spec, person.key, person.org_key, area)


def login(client, person: Person):
    client.logout()
    client.force_login(person.user)
    return client


def api_client(world: BuiltWorld, org_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization_header(world.api_tokens[org_key]))
    return client


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def check_leaks(tally, body: str, secrets: dict, where: str) -> list[str]:
    """One leak probe of a response body: no secret of another account in it."""
    return tally.probe("leak", [f"{where}: {leak}" for leak in oracle.leaks(body, secrets)])


def invisible_marks(world: BuiltWorld, index: int) -> tuple[str, ...]:
    """What would betray a product on a listing: its SKU, name and manufacturer."""
    product = world.products[index]
    return (product.sku, product.name, product.manufacturer.name)


def check_invisible_absent(tally, body: str, world: BuiltWorld, hidden, where: str) -> list[str]:
    """One probe of a listing: none of the products in `hidden` appears in it."""
    return tally.probe("invisible", [
        f"{where}: product {i} ({mark}) shown"
        for i in hidden for mark in invisible_marks(world, i)
        if oracle.leaks(body, {mark: ""})
    ])
