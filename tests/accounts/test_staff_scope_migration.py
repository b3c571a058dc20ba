"""The data migration that moves the staff scopes onto staff keys: an organisation's key that
carried only staff scopes, issued by staff, becomes its issuer's staff key with the same secret;
any other loses its staff scopes, and one left with none is revoked."""

import importlib

import pytest
from django.apps import apps

from accounts.keys import ApiKey, ApiKeyKind, secret_digest
from tests.factories import MembershipFactory, UserFactory

migration = importlib.import_module("accounts.migrations.0005_staff_scopes_move_to_staff_keys")


def stored_key(organisation, user, scopes, created_by, prefix) -> ApiKey:
    """A key as it was stored before staff keys existed (bypassing today's validation)."""
    return ApiKey.objects.create(organisation=organisation, user=user, created_by=created_by,
                                 name=prefix, prefix=prefix, secret_hash=secret_digest(prefix),
                                 scopes=scopes)


@pytest.mark.django_db
def test_staff_scopes_move_to_staff_keys_and_leave_customer_keys():
    member = MembershipFactory()
    organisation, user = member.organisation, member.user
    staff = UserFactory(is_staff=True)
    fulfil = stored_key(organisation, user, ["orders:fulfil"], staff, "fulfil")
    mixed = stored_key(organisation, user, ["catalogue:read", "prices:import"], staff, "mixed")
    self_issued = stored_key(organisation, user, ["prices:import"], user, "self")
    plain = stored_key(organisation, user, ["orders:write"], user, "plain")

    migration.move_staff_scopes(apps, None)

    for key in (fulfil, mixed, self_issued, plain):
        key.refresh_from_db()
    assert (fulfil.kind, fulfil.organisation, fulfil.user) == (ApiKeyKind.STAFF, None, staff)
    assert fulfil.matches("fulfil") and fulfil.scopes == ["orders:fulfil"]
    assert (mixed.kind, mixed.scopes, mixed.is_revoked) == ("personal", ["catalogue:read"], False)
    assert self_issued.kind == "personal" and self_issued.is_revoked
    assert (plain.scopes, plain.is_revoked) == (["orders:write"], False)
