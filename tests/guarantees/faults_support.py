"""What the cache and fault tests share: the demo buyers as signed-in clients, the surfaces that
keep cached fragments, a body with its per-request noise removed, a Redis server of the test's
own, and a worker-only cache clear."""

import re
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass

import kombu.pools
from django.core.cache import cache
from django.test import Client

from accounts.models import Organisation, User
from catalog.models import Category, Product
from catalog.views import forget_local_fragments
from segments.middleware import ACTIVE_ORGANISATION_SESSION_KEY


@dataclass(frozen=True)
class Reader:
    """A demo login buying for one organisation (None: its default, or a consumer), or a guest."""

    label: str
    email: str | None
    organisation: str | None = None


# Every buying login of DEMO.md, `multi@` once in each of its organisations, and a guest.
DEMO_READERS = (
    Reader("nhs.buyer", "nhs.buyer@demo.test"),
    Reader("trust2.buyer", "trust2.buyer@demo.test"),
    Reader("clinic.buyer", "clinic.buyer@demo.test"),
    Reader("distributor.north", "distributor.north@demo.test"),
    Reader("distributor.south", "distributor.south@demo.test"),
    Reader("multi@riverside", "multi@demo.test", "riverside"),
    Reader("multi@harbour", "multi@demo.test", "harbour"),
    Reader("patient", "patient@demo.test"),
    Reader("carer", "carer@demo.test"),
    Reader("guest", None),
)


def client_for(reader: Reader, organisations: dict[str, Organisation]) -> Client:
    """A test client signed in as the reader, with its organisation chosen as the session does."""
    client = Client()
    if reader.email is None:
        return client
    client.force_login(User.objects.get(email=reader.email))
    if reader.organisation is not None:
        session = client.session
        session[ACTIVE_ORGANISATION_SESSION_KEY] = organisations[reader.organisation].pk
        session.save()
    return client


def forget_cache() -> None:
    """Empty this test worker's cache namespace and this process's fragment copies; the rest of
    the shared Redis database is untouched."""
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()
    forget_local_fragments()


_NOISE = (
    (re.compile(r'("X-CSRFToken": ")[^"]*(")'), r"\1-\2"),
    (re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")'), r"\1-\2"),
    (re.compile(r'(nonce=")[^"]*(")'), r"\1-\2"),
)


def normalised(response) -> str:
    """The status and body of a response, without what differs on every request (CSRF tokens,
    script nonces)."""
    body = response.content.decode()
    for pattern, replacement in _NOISE:
        body = pattern.sub(replacement, body)
    return f"{response.status_code}\n{body}"


def _first_product(**conditions) -> Product:
    return Product.objects.filter(**conditions).order_by("sku").first()


def demo_surfaces() -> list[str]:
    """Addresses that between them use every cached fragment (buyer context, category tree, facet
    rows, listing order with and without filters, a page's offers) and the API reads, over
    products whose visibility, price or availability differ between the demo buyers: a contract
    line quoted for Riverside, a Riverside custom pack, professional-only and VAT-relief devices,
    lines under distributor rights and a promotion for consumers."""
    products = list(dict.fromkeys(
        p for p in (
            Product.objects.order_by("sku").first(),
            _first_product(category__slug="custom-procedure-packs"),
            _first_product(professional_only=True),
            _first_product(vat_category="relief"),
            _first_product(category__slug="splints-and-casting"),
        ) if p is not None
    ))
    roots = Category.objects.filter(parent=None)
    biggest = max(roots, key=lambda c: Product.objects.filter(
        category__path__startswith=c.path).count())
    return [
        "/",
        "/catalogue/",
        *[f"/catalogue/c/{slug}/" for slug in (
            biggest.slug, "custom-procedure-packs", "continence", "mobility")],
        f"/catalogue/c/{biggest.slug}/?page=2",
        f"/catalogue/c/{biggest.slug}/?in_stock=1&sterile=no",
        "/catalogue/search/?q=dressing",
        *[f"/catalogue/p/{p.slug}/" for p in products],
        "/api/v1/products/",
        *[f"/api/v1/products/{p.sku}/" for p in products[:2]],
        "/api/v1/contracts/",
    ]


def free_loopback_port(start: int = 6390) -> int:
    """The first port from `start` that nothing on 127.0.0.1 listens on."""
    for port in range(start, start + 200):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free loopback port")


@contextmanager
def own_redis_server():
    """A redis-server of this test's own on a free loopback port, without persistence; yields
    (url, process). The shared Redis is never touched."""
    port = free_loopback_port()
    process = subprocess.Popen(  # noqa: S603 - a fixed command line
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0", process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def redis_cache(url: str) -> dict:
    """CACHES for django-redis at `url`, as production configures it (errors ignored, short
    timeouts so a dead server costs little)."""
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.2,
                "SOCKET_TIMEOUT": 0.2,
            },
            "KEY_PREFIX": "faults",
        }
    }


def _forget_broker_connections(app) -> None:
    """Close and forget every broker connection pool (kombu keeps them in a registry of its own
    keyed by broker), so the next task sent opens a pool for the broker configured then."""
    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def celery_broker(url: str):
    """Tasks really sent (not run eagerly) to the broker at `url`, as in production; the previous
    broker and eager setting are restored afterwards."""
    from storefront.celery import app

    saved = app.conf.broker_url, app.conf.task_always_eager
    _forget_broker_connections(app)
    app.conf.broker_url, app.conf.task_always_eager = url, False
    try:
        yield app
    finally:
        _forget_broker_connections(app)
        app.conf.broker_url, app.conf.task_always_eager = saved


class ApprovesThenFails:
    """A card gateway that captures the payment and then fails to answer (a timeout after the
    capture), the worst moment for a checkout. It keeps what it captured and what it was asked to
    give back, across instances; `reset()` forgets both."""

    captured: list[dict] = []
    refunded: list[str] = []

    @classmethod
    def reset(cls) -> None:
        cls.captured, cls.refunded = [], []

    def charge(self, *, amount, currency, card_number, description, **extra):
        key = extra.get("idempotency_key") or f"charge-{len(self.captured) + 1}"
        self.captured.append({"key": key, "amount": amount, "currency": currency})
        raise ConnectionError("The gateway captured the payment, then its answer was lost.")

    def refund(self, *, idempotency_key, **extra):
        self.refunded.append(idempotency_key)

    def status(self, *, idempotency_key, **extra):
        raise ConnectionError("The gateway does not answer.")
