"""Who the API thinks is calling: the BuyerContext facts, and the key in use."""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .authentication import api_key_of


class KeyFactsSerializer(serializers.Serializer):
    name = serializers.CharField()
    prefix = serializers.CharField()
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
    }


@extend_schema(responses=MeSerializer, tags=["account"])
class Me(APIView):
    """The facts the resolver holds about the caller: organisation, roles, segments, territory and
    workflow. Any authenticated caller may ask, whatever the key's scopes."""

    permission_classes = [permissions.IsAuthenticated]

    def get(self, request):
        return Response(MeSerializer(_facts(request.buyer, api_key_of(request))).data)
