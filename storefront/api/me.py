"""Who the API thinks is calling: the BuyerContext facts, the key in use, and the reference data
an order needs — the organisation's cost centres and delivery sites, and which order fields its
workflow requires."""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import organisation_cost_centres, organisation_sites
from ordering.workflows import workflow_for

from .authentication import api_key_of
from .permissions import KnownQueryParameters

# The checkout's required inputs under the names of the order body (POST /api/v1/orders/).
API_FIELD_NAMES = {
    "po_number": "po_number",
    "cost_centre": "cost_centre",
    "requested_delivery_date": "requested_delivery_date",
    "line_sites": "lines.site",
}


class KeyFactsSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The name given to the key when it was issued.")
    prefix = serializers.CharField(
        help_text="The key's public prefix (12 hex digits): how it is listed; never the "
        "secret.",
    )
    kind = serializers.ChoiceField(
        choices=["integration", "personal", "staff"],
        help_text="integration: a service identity of the organisation with its own API role; "
        "personal: acts as one member with their roles; staff: the manufacturer's systems.")
    role = serializers.CharField(help_text="An integration key's API role; empty otherwise.")
    person = serializers.EmailField(
        source="user.email",
        help_text="The member a personal key acts as, the member responsible for an integration "
        "key (its orders are placed in their name), or a staff key's staff member.")
    scopes = serializers.ListField(
        child=serializers.CharField(),
        help_text="What the key may do: catalogue:read, orders:write (customer keys), "
        "webhooks:manage; orders:fulfil and prices:import (staff keys only).",
    )
    expires_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the key stops working; null for never.",
    )


class OrganisationFactsSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="organisation_id", help_text="The organisation's id.")
    name = serializers.CharField(source="organisation_name", help_text="The organisation's name.")
    kind = serializers.CharField(
        source="organisation_kind",
        help_text="nhs_trust, ics, private_clinic, clinic_group, distributor, gp_practice, "
        "care_home or pharmacy.",
    )
    customer_tier = serializers.CharField(
        help_text="A, B or C: the tier that decides priority when stock is short.",
    )


class SiteFactsSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="site_id", help_text="The default delivery site's id.")
    name = serializers.CharField(source="site_name", help_text="Its name.")


class CostCentreFactsSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="What to send as `cost_centre` in an order.")
    name = serializers.CharField(help_text="The cost centre's name, e.g. \"Ward 7 consumables\".")


class DeliverySiteSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="What to send as a line's `site` in an order.")
    name = serializers.CharField(help_text="The site's name, e.g. a ward or a theatre store.")
    kind = serializers.CharField(
        help_text="What the site is: ward, theatre, stores, pharmacy, clinic or warehouse.",
    )
    address_line1 = serializers.CharField(help_text="First line of the address.")
    address_line2 = serializers.CharField(help_text="Second line of the address; empty when none.")
    town = serializers.CharField(help_text="The post town.")
    postcode = serializers.CharField(
        help_text="The postcode: it decides the territory of lines delivered there.",
    )
    gln = serializers.CharField(help_text="GS1 Global Location Number; empty when not recorded.")


class OrderingFactsSerializer(serializers.Serializer):
    required_fields = serializers.ListField(
        child=serializers.CharField(),
        help_text="Fields of POST /api/v1/orders/ your organisation's orders must carry, by "
        "their names in the body (`lines.site`: every line needs a site because the key has no "
        "default site). An order without one is refused with a 422 naming it.",
    )
    payment_method = serializers.CharField(help_text="How orders are paid: account or card.")
    backorders_accepted = serializers.BooleanField(
        help_text="Whether what stock cannot fill is backordered (else refused).",
    )
    cost_centres = CostCentreFactsSerializer(many=True, help_text="Active cost centres.")
    sites = DeliverySiteSerializer(many=True, help_text="Active delivery sites.")


class MeSerializer(serializers.Serializer):
    email = serializers.EmailField(
        source="user.email",
        help_text="The email of the user the key or session belongs to.",
    )
    organisation = OrganisationFactsSerializer(
        allow_null=True,
        help_text="The organisation you act for; null for a retail consumer.",
    )
    roles = serializers.ListField(
        child=serializers.CharField(),
        help_text="Your roles in it: buyer, requisitioner, approver, budget_holder, org_admin.",
    )
    permissions = serializers.ListField(
        child=serializers.CharField(),
        help_text="What those roles allow, e.g. place_order, approve_order.",
    )
    channel = serializers.CharField(help_text="b2b or b2c.")
    workflow = serializers.CharField(
        help_text="retail, institutional or distributor: how your orders are placed.",
    )
    site = SiteFactsSerializer(
        allow_null=True,
        help_text="Your default delivery site; null when none.",
    )
    postcode_area = serializers.CharField(
        help_text="The postcode area your territory is decided by, e.g. SE.",
    )
    territory = serializers.CharField(
        help_text="The territory of that postcode area, e.g. london.",
    )
    segments = serializers.ListField(
        child=serializers.CharField(),
        help_text="The codes of every segment you belong to.",
    )
    professional = serializers.BooleanField(help_text="Verified to buy professional-only devices.")
    key = KeyFactsSerializer(
        allow_null=True,
        help_text="The API key of this call; null for a browser session.",
    )
    ordering = OrderingFactsSerializer(
        allow_null=True, help_text="What an order of this organisation needs; null for a "
        "retail consumer.",
    )


def _facts(buyer, key) -> dict:
    return {
        "user": buyer.user,
        "organisation": buyer if buyer.organisation_id is not None else None,
        "roles": sorted(buyer.roles),
        "permissions": sorted(buyer.permissions),
        "channel": buyer.channel,
        "workflow": buyer.workflow,
        "site": buyer if buyer.site_id is not None else None,
        "postcode_area": buyer.postcode_area,
        "territory": buyer.territory,
        "segments": sorted(buyer.segments),
        "professional": buyer.professional,
        "key": key,
        "ordering": _ordering(buyer),
    }


def _ordering(buyer) -> dict | None:
    if buyer.organisation_id is None:
        return None
    workflow = workflow_for(buyer)
    required = [API_FIELD_NAMES[name] for name in workflow.required_fields
                if name in API_FIELD_NAMES and not (name == "line_sites" and buyer.site_id)]
    return {
        "required_fields": required,
        "payment_method": workflow.payment_method,
        "backorders_accepted": workflow.backorders_accepted,
        "cost_centres": organisation_cost_centres(buyer=buyer).filter(is_active=True),
        "sites": organisation_sites(buyer=buyer).filter(is_active=True),
    }


@extend_schema(responses=MeSerializer, tags=["account"])
class Me(APIView):
    """The facts the resolver holds about the caller: organisation, roles, segments, territory and
    workflow. Any authenticated caller may ask, whatever the key's scopes."""

    permission_classes = [permissions.IsAuthenticated, KnownQueryParameters]

    def get(self, request):
        return Response(MeSerializer(_facts(request.buyer, api_key_of(request))).data)
