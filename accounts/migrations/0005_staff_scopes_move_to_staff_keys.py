"""The staff scopes (orders:fulfil, prices:import) are carried by staff keys only.

An organisation's key that carried only staff scopes and was issued by a member of staff becomes
that staff member's staff key (same secret, no organisation). Any other organisation's key loses
its staff scopes; one left with no scope is revoked (staff issue a staff key instead)."""

from django.db import migrations
from django.utils import timezone

STAFF_SCOPES = {"orders:fulfil", "prices:import"}


def move_staff_scopes(apps, schema_editor):
    ApiKey = apps.get_model("accounts", "ApiKey")
    for key in ApiKey.objects.exclude(kind="staff").select_related("created_by"):
        scopes = set(key.scopes or [])
        if not scopes & STAFF_SCOPES:
            continue
        issuer = key.created_by
        if scopes <= STAFF_SCOPES and issuer is not None and issuer.is_staff:
            key.kind, key.organisation, key.user, key.role = "staff", None, issuer, ""
        else:
            key.scopes = sorted(scopes - STAFF_SCOPES)
            if not key.scopes and key.revoked_at is None:
                key.revoked_at = timezone.now()
        key.save()


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0004_api_key_kinds_roles_and_integration_approval"),
    ]

    operations = [
        migrations.RunPython(move_staff_scopes, migrations.RunPython.noop),
    ]
