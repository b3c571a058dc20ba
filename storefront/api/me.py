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
    name = serializers.CharField()
    prefix = serializers.CharField()
    kind = serializers.ChoiceField(
        choices=["integration", "personal", "staff"],
        help_text="integration: a service identity of the organisation with its own API role; "
        "personal: acts as one member with their roles; staff: the manufacturer's systems.")
    role = serializers.CharField(help_text="An integration key's API role; empty otherwise.")
    person = serializers.EmailField(
        source="user.email",
        help_text="The member a personal key acts as, the member responsible for an integration "
        "key (its orders are placed in their name), or a staff key's staff member.")
    scopes = serializers.ListField(child=serializers.CharField())
    expires_at = serializers.DateTimeField(allow_null=True)


class OrganisationFactsSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="organisation_id")
    name = serializers.CharField(source="organisation_name")
    kind = serializers.CharField(source="organisation_kind")
    customer_tier = serializers.CharField()


class SiteFactsSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="site_id")
    name = serializers.CharField(source="site_name")


class CostCentreFactsSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="What to send as `cost_centre` in an order.")
    name = serializers.CharField()


class DeliverySiteSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="What to send as a line's `site` in an order.")
    name = serializers.CharField()
    kind = serializers.CharField()
    address_line1 = serializers.CharField()
    address_line2 = serializers.CharField()
    town = serializers.CharField()
    postcode = serializers.CharField()
    gln = serializers.CharField(help_text="GS1 Global Location Number; empty when not recorded.")


class OrderingFactsSerializer(serializers.Serializer):
    required_fields = serializers.ListField(
        child=serializers.CharField(),
        help_text="Fields of POST /api/v1/orders/ your organisation's orders must carry, by "
        "their names in the body (`lines.site`: every line needs a site because the key has no "
        "default site). An order without one is refused with a 422 naming it.",
    )
    payment_method = serializers.CharField()
    backorders_accepted = serializers.BooleanField()
    cost_centres = CostCentreFactsSerializer(many=True, help_text="Active cost centres.")
    sites = DeliverySiteSerializer(many=True, help_text="Active delivery sites.")


class MeSerializer(serializers.Serializer):
    email = serializers.EmailField(source="user.email")
    organisation = OrganisationFactsSerializer(allow_null=True)
    roles = serializers.ListField(child=serializers.CharField())
    permissions = serializers.ListField(child=serializers.CharField())
    channel = serializers.CharField()
    workflow = serializers.CharField()
    site = SiteFactsSerializer(allow_null=True)
    postcode_area = serializers.CharField()
    territory = serializers.CharField()
    segments = serializers.ListField(child=serializers.CharField())
    professional = serializers.BooleanField()
    key = KeyFactsSerializer(allow_null=True)
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
