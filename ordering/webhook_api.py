"""Webhook endpoints through the REST API (scope webhooks:manage, an organisation admin's right):
list and add endpoints, change or switch one off, rotate its signing secret, send a test event,
read its delivery log, delete it. The same services as the account pages; another
organisation's endpoint does not exist for the caller (404)."""

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from storefront.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from storefront.api.pagination import NewestFirstPagination
from storefront.api.permissions import WEBHOOKS_MANAGE
from storefront.api.serializers import StrictInput

from .models import WebhookDelivery, WebhookEndpoint
from .selectors import organisation_webhook_endpoints, webhook_deliveries_of
from .services.webhooks import (
    webhook_endpoint_change,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_ping,
    webhook_endpoint_rotate_secret,
)

TAG = "webhooks"


class WebhookEndpointSerializer(serializers.ModelSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="Signs every delivery: `Webhook-Signature: v1=<hex>` is the HMAC-SHA256 of "
        "'<Webhook-Timestamp>.<body>' with this secret.",
    )
    created_by = serializers.EmailField(source="created_by.email", read_only=True,
                                        allow_null=True, default=None,
        help_text="Who added the endpoint; null when staff or a key did.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "is_active", "secret", "created_by", "created_at"]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "The endpoint's id: its address in the API."},
            "url": {"help_text": "The http(s) address that receives the events."},
            "description": {"help_text": "What receives the events, in your words."},
            "is_active": {"help_text": "false: the endpoint receives nothing, retries included."},
            "created_at": {"help_text": "When the endpoint was added."},
        }


class WebhookEndpointInput(StrictInput):
    url = serializers.URLField(
        max_length=300,
        help_text="The http(s) address that receives the events. Addresses of this server or "
        "of a private network are refused unless the operator allows them "
        "(WEBHOOK_ALLOW_PRIVATE_URLS).",
    )
    description = serializers.CharField(max_length=120, required=False, allow_blank=True,
                                        default="", help_text="What receives the events.")


class WebhookEndpointChange(StrictInput):
    url = serializers.URLField(
        max_length=300, required=False,
        help_text="A new http(s) address; the same rules as when adding one.",
    )
    description = serializers.CharField(
        max_length=120, required=False, allow_blank=True,
        help_text="A new description.",
    )
    is_active = serializers.BooleanField(
        required=False, help_text="false: the endpoint receives nothing more until switched on.",
    )


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(source="event.id", read_only=True,
                                     help_text="The Webhook-Id header; the same on every attempt.")
    event_type = serializers.CharField(
        source="event.type", read_only=True,
        help_text="The event's type, e.g. order.ship.",
    )

    class Meta:
        model = WebhookDelivery
        fields = ["id", "event_id", "event_type", "state", "attempts", "last_attempt_at",
                  "last_status_code", "last_error", "next_attempt_at", "delivered_at",
                  "created_at"]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "The delivery's id (one per event and endpoint)."},
            "state": {"help_text": "pending (to be attempted, or retried), delivered, or dead "
                      "(given up after the last attempt)."},
            "attempts": {"help_text": "Attempts so far."},
            "last_attempt_at": {"help_text": "When it was last attempted; null before."},
            "last_status_code": {"help_text": "Your endpoint's last HTTP status; null when it "
                                 "gave none (timeout, refused connection)."},
            "last_error": {"help_text": "Why the last attempt failed; empty after a success."},
            "next_attempt_at": {"help_text": "When it is attempted next (while an attempt "
                                "runs, the end of its lease)."},
            "delivered_at": {"help_text": "When your endpoint answered 2xx; null before."},
            "created_at": {"help_text": "When the event was dispatched to this endpoint."},
        }


class _Endpoints:
    def endpoints(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookEndpoint.objects.none()
        return organisation_webhook_endpoints(buyer=self.request.buyer)

    def endpoint(self, pk: int) -> WebhookEndpoint:
        endpoint = self.endpoints().filter(pk=pk).first()
        if endpoint is None:
            raise Http404("No such webhook endpoint.")
        return endpoint


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


EXAMPLE_ENDPOINT = OpenApiExample(
    "An ERP's receiver",
    value={"url": "https://erp.riverside-nhs.example/webhooks/storefront",
           "description": "Oracle ERP (test)"},
    request_only=True,
)


@extend_schema_view(
    get=extend_schema(tags=[TAG], summary="Your organisation's webhook endpoints"),
    post=extend_schema(
        tags=[TAG], summary="Add a webhook endpoint; the answer holds its signing secret",
        request=WebhookEndpointInput, responses={201: WebhookEndpointSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER], examples=[EXAMPLE_ENDPOINT],
    ),
)
class WebhookEndpointList(_Endpoints, generics.ListAPIView):
    """Endpoints receive every order event of your organisation, signed with their secret."""

    required_scopes = {"GET": WEBHOOKS_MANAGE, "POST": WEBHOOKS_MANAGE}
    serializer_class = WebhookEndpointSerializer
    pagination_class = NewestFirstPagination
    filter_backends = ()

    def get_queryset(self):
        return self.endpoints()

    @idempotent
    def post(self, request):
        data = _valid(WebhookEndpointInput, request)
        endpoint = webhook_endpoint_create(
            organisation_id=request.buyer.organisation_id, url=data["url"],
            description=data["description"], created_by=request.user,
        )
        return Response(WebhookEndpointSerializer(endpoint).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        tags=[TAG], summary="One webhook endpoint",
        description="One endpoint of your organisation, with its signing secret. Another "
        "organisation's endpoint answers 404.",
    ),
    patch=extend_schema(
        tags=[TAG], summary="Change an endpoint's address or description, or switch it off and on",
        description="Change what is sent; what is not sent stays. `\"is_active\": false` stops "
        "every delivery to it, retries included, until it is switched on again. A refused "
        "address is a 422 naming `url`.",
        request=WebhookEndpointChange, responses={200: WebhookEndpointSerializer},
    ),
    delete=extend_schema(
        tags=[TAG], summary="Delete an endpoint with its delivery log",
        description="Delete the endpoint and its delivery log; the events stay, and other "
        "endpoints keep receiving them.",
        responses={204: None},
    ),
)
class WebhookEndpointDetail(_Endpoints, APIView):
    required_scopes = {"GET": WEBHOOKS_MANAGE, "PATCH": WEBHOOKS_MANAGE,
                       "DELETE": WEBHOOKS_MANAGE}
    serializer_class = WebhookEndpointSerializer

    def get(self, request, pk: int):
        return Response(WebhookEndpointSerializer(self.endpoint(pk)).data)

    def patch(self, request, pk: int):
        endpoint = self.endpoint(pk)
        changed = webhook_endpoint_change(endpoint=endpoint,
                                          **_valid(WebhookEndpointChange, request))
        return Response(WebhookEndpointSerializer(changed).data)

    def delete(self, request, pk: int):
        webhook_endpoint_delete(endpoint=self.endpoint(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class NoInput(StrictInput):
    """An action that takes no input: an empty JSON object (or no body)."""


@extend_schema_view(post=extend_schema(
    tags=[TAG], summary="Rotate an endpoint's signing secret (the old one stops at once)",
    description="Give the endpoint a new secret at once: every delivery from now on, retries of "
    "older events included, is signed with it. Switch your receiver to the new secret when you "
    "are shown it.",
    request=NoInput, responses={200: WebhookEndpointSerializer},
    parameters=[IDEMPOTENCY_KEY_PARAMETER],
))
class WebhookEndpointRotateSecret(_Endpoints, APIView):
    required_scopes = {"POST": WEBHOOKS_MANAGE}

    @idempotent
    def post(self, request, pk: int):
        _valid(NoInput, request)
        endpoint = webhook_endpoint_rotate_secret(endpoint=self.endpoint(pk))
        return Response(WebhookEndpointSerializer(endpoint).data)


@extend_schema_view(post=extend_schema(
    tags=[TAG], summary="Send a signed webhook.test event to this endpoint alone",
    description="Queue a `webhook.test` event to this endpoint alone, signed like every other "
    "event; the answer is its delivery, which the delivery log then follows. An endpoint "
    "switched off answers 404.",
    request=NoInput, responses={202: WebhookDeliverySerializer},
    parameters=[IDEMPOTENCY_KEY_PARAMETER],
))
class WebhookEndpointTest(_Endpoints, APIView):
    required_scopes = {"POST": WEBHOOKS_MANAGE}

    @idempotent
    def post(self, request, pk: int):
        _valid(NoInput, request)
        endpoint = self.endpoint(pk)
        if not endpoint.is_active:
            raise Http404("No such active webhook endpoint.")
        delivery = webhook_endpoint_ping(endpoint=endpoint)
        return Response(WebhookDeliverySerializer(delivery).data,
                        status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=[TAG], summary="An endpoint's delivery log, newest first")
class WebhookDeliveryList(_Endpoints, generics.ListAPIView):
    """Every delivery to this endpoint: its event, state, attempts and the last answer."""

    required_scopes = {"GET": WEBHOOKS_MANAGE}
    serializer_class = WebhookDeliverySerializer
    pagination_class = NewestFirstPagination
    filter_backends = ()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookDelivery.objects.none()
        return webhook_deliveries_of(endpoint=self.endpoint(self.kwargs["pk"]))
