"""API keys and the idempotency records of their POST requests.

Three kinds of key:

- an **integration** key belongs to an organisation and acts as a service identity of it, with an
  API role of its own (buyer or requisitioner) and a member responsible for it;
- a **personal** key belongs to an organisation and acts as one of its members, with that member's
  roles;
- a **staff** key belongs to a member of the manufacturer's staff, no customer organisation, and
  carries only the staff scopes (fulfilment, price import).

Scopes narrow what a key may do; they never widen a role. Only a prefix (for lookup) and a SHA-256
digest of the secret are stored; the secret itself is shown once, when the key is issued.
"""

import hashlib
import hmac

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ApiScope(models.TextChoices):
    CATALOGUE_READ = "catalogue:read", "Read the catalogue, prices, contracts and quotes"
    ORDERS_WRITE = "orders:write", "Place and follow orders"
    PRICES_IMPORT = "prices:import", "Import prices into price lists (issued by staff only)"
    WEBHOOKS_MANAGE = "webhooks:manage", (
        "Manage webhook endpoints and read their delivery log (an organisation admin's right)"
    )
    ORDERS_FULFIL = "orders:fulfil", (
        "Report fulfilment of direct orders: acknowledged, shipped, delivered "
        "(issued by staff only)"
    )


# Scopes an organisation's key may carry (an organisation admin grants them in the storefront).
SELF_SERVICE_SCOPES = (ApiScope.CATALOGUE_READ, ApiScope.ORDERS_WRITE, ApiScope.WEBHOOKS_MANAGE)
# Scopes of the manufacturer's own systems: only a staff key carries them.
STAFF_SCOPES = (ApiScope.ORDERS_FULFIL, ApiScope.PRICES_IMPORT)
# Scopes an integration key may carry: managing webhooks stays with the organisation admin.
INTEGRATION_SCOPES = (ApiScope.CATALOGUE_READ, ApiScope.ORDERS_WRITE)


class ApiKeyKind(models.TextChoices):
    INTEGRATION = "integration", "Integration (a service identity of the organisation)"
    PERSONAL = "personal", "Personal (acts as one member, with their roles)"
    STAFF = "staff", "Staff (the manufacturer's systems)"


class ApiRole(models.TextChoices):
    """The role an integration key holds in its organisation: the membership roles that order.
    Approving, budgets and administration stay with people."""

    BUYER = "buyer", "Buyer: places orders (the organisation's approval rules apply)"
    REQUISITIONER = "requisitioner", "Requisitioner: raises requisitions an approver signs off"


SCOPES_OF_KIND = {
    ApiKeyKind.INTEGRATION: INTEGRATION_SCOPES,
    ApiKeyKind.PERSONAL: SELF_SERVICE_SCOPES,
    ApiKeyKind.STAFF: STAFF_SCOPES,
}

KEY_PREFIX_LENGTH = 12


def secret_digest(secret: str) -> str:
    """SHA-256 of a key's secret. Secrets are 256 random bits, so a fast digest is safe here."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKey(models.Model):
    """A key for an ERP or another system: named, scoped, revocable, optionally expiring."""

    kind = models.CharField(
        max_length=12, choices=ApiKeyKind.choices, default=ApiKeyKind.PERSONAL
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.CASCADE,
        related_name="api_keys", help_text="Empty for a staff key.",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_keys",
        verbose_name="person",
        help_text="Personal key: the member it acts as. Integration key: the member responsible "
        "for it. Staff key: the staff member it belongs to. It stops working when they leave.",
    )
    role = models.CharField(
        "API role", max_length=16, choices=ApiRole.choices, blank=True,
        help_text="Integration keys only: the role the key holds in its organisation.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who issued the key (an organisation admin, or staff in the admin).",
    )
    name = models.CharField(max_length=80, help_text="What the key is for, e.g. 'Oracle ERP'.")
    prefix = models.CharField(max_length=KEY_PREFIX_LENGTH, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["organisation", "-created_at"]
        verbose_name = "API key"
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"],
                condition=Q(revoked_at__isnull=True),
                name="api_key_live_name_unique_per_organisation",
                violation_error_message="This organisation already has a live key with that name.",
            ),
            models.CheckConstraint(
                condition=Q(kind=ApiKeyKind.STAFF, organisation__isnull=True)
                | (~Q(kind=ApiKeyKind.STAFF) & Q(organisation__isnull=False)),
                name="api_key_staff_keys_have_no_organisation",
                violation_error_message="A staff key has no organisation; any other key has one.",
            ),
            models.CheckConstraint(
                condition=Q(kind=ApiKeyKind.INTEGRATION, role__in=ApiRole.values)
                | (~Q(kind=ApiKeyKind.INTEGRATION) & Q(role="")),
                name="api_key_integration_keys_have_a_role",
                violation_error_message="An integration key needs an API role; no other key has "
                "one.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def clean(self):
        super().clean()
        self.name = (self.name or "").strip()
        unknown = [s for s in self.scopes or [] if s not in ApiScope.values]
        if unknown or not isinstance(self.scopes, list):
            raise ValidationError({"scopes": f"Unknown scopes: {', '.join(map(str, unknown))}."})
        if not self.scopes:
            raise ValidationError({"scopes": "Give the key at least one scope."})
        self.scopes = sorted(set(self.scopes))
        self._clean_kind()

    def _clean_kind(self) -> None:
        """Each kind carries its own scopes: the staff scopes only on a staff key, which belongs
        to no organisation; an integration key has an API role, no other key has one."""
        allowed = SCOPES_OF_KIND.get(self.kind)
        if allowed is None:
            raise ValidationError({"kind": "Choose the kind of key."})
        beyond = [scope for scope in self.scopes if scope not in allowed]
        if beyond and self.kind == ApiKeyKind.STAFF:
            raise ValidationError({"scopes": "A staff key carries only the staff scopes "
                                   f"({', '.join(STAFF_SCOPES)})."})
        if beyond:
            raise ValidationError({"scopes": f"This kind of key may not carry: "
                                   f"{', '.join(beyond)}."})
        if (self.kind == ApiKeyKind.STAFF) != (self.organisation_id is None):
            raise ValidationError({"organisation": "A staff key belongs to no organisation; "
                                   "an organisation's key names its organisation."})
        if self.kind == ApiKeyKind.INTEGRATION and self.role not in ApiRole.values:
            raise ValidationError({"role": "Choose the role the key holds: buyer or "
                                   "requisitioner."})
        if self.kind != ApiKeyKind.INTEGRATION:
            self.role = ""

    def matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.secret_hash, secret_digest(secret))

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_live(self) -> bool:
        return not self.is_revoked and not self.is_expired

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])

    @property
    def is_integration(self) -> bool:
        return self.kind == ApiKeyKind.INTEGRATION

    @property
    def is_staff_key(self) -> bool:
        return self.kind == ApiKeyKind.STAFF


IDEMPOTENCY_HOURS = 24


class IdempotencyRecord(models.Model):
    """The first response to a POST carrying an `Idempotency-Key`, kept for 24 hours and replayed
    to a repeat of the same request. Keys belong to the caller's organisation (to the staff member
    for a caller without one), so another account reusing a key never sees this record."""

    organisation = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="idempotency_records",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Only for callers without an organisation (staff).",
    )
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(default=0)
    response_body = models.TextField(help_text="The JSON body exactly as first sent.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "key"],
                condition=Q(organisation__isnull=False),
                name="idempotency_key_unique_per_organisation",
            ),
            models.UniqueConstraint(
                fields=["user", "key"],
                condition=Q(organisation__isnull=True),
                name="idempotency_key_unique_per_user",
            ),
            models.CheckConstraint(
                condition=Q(organisation__isnull=False) | Q(user__isnull=False),
                name="idempotency_record_has_owner",
            ),
        ]
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"{self.key} → {self.response_status}"
