"""Examples of every request body and successful answer in the OpenAPI schema: one NHS trust's
world (Riverside University Hospitals, contract NHS-2025-118), its distributor and the
manufacturer's ERP, in pounds sterling. `add_examples` (a drf-spectacular post-processing hook)
puts them on the operations; a list's example is one page of such rows."""

from .example_payloads import (
    ACKNOWLEDGED,
    BACKORDER,
    BASKET,
    BASKET_REQUEST,
    CANCELLED,
    CONTRACT,
    DELIVERED,
    DELIVERY,
    ENDPOINT,
    HOST,
    ME,
    ORDER,
    ORDER_REQUEST,
    ORDER_SUMMARY,
    PRICE_UPSERT,
    PRICE_UPSERT_REQUEST,
    PRODUCT,
    QUOTE,
    ROUTED,
    ROUTED_ACCEPTED,
    ROUTED_ACKNOWLEDGED,
    ROUTED_DECLINED,
    ROUTED_DELIVERED,
    ROUTED_SHIPPED,
    ROUTED_SUMMARY,
    SHIPMENT,
    SHIPPED,
    SPLINT,
    TEST_DELIVERY,
)

# Per operation: the request body, and the answer by status (a list's row is shown as a page).

PAGE = "page"


def _page(row: dict, path: str) -> dict:
    address = path.replace("{id}", "12")
    return {"next": f"{HOST}/api/v1/{address}?cursor=cD0yMDI2LTA0LTEzKzEwJTNBMjE%3D",
            "previous": None, "results": [row]}


EXAMPLES = {
    ("get", "/api/v1/me/"): {"200": ("An NHS trust's ward purchaser, with an ERP key", ME)},
    ("get", "/api/v1/products/"): {
        "200": ("Your contract price and a line only your distributor sells",
                {"next": f"{HOST}/api/v1/products/?cursor=cD1PUi1XU1AtTS1M", "previous": None,
                 "results": [SPLINT, PRODUCT]}),
    },
    ("get", "/api/v1/products/{sku}/"): {"200": ("A contract price at 50+ boxes", PRODUCT)},
    ("post", "/api/v1/prices/quote-basket/"): {
        "request": ("A dressing and a splint", BASKET_REQUEST),
        "200": ("Priced lines and totals", BASKET),
    },
    ("get", "/api/v1/contracts/"): {"200": ("An NHS framework contract", (PAGE, CONTRACT))},
    ("get", "/api/v1/contracts/{id}/"): {"200": ("An NHS framework contract", CONTRACT)},
    ("get", "/api/v1/quotes/"): {"200": ("An accepted quote", (PAGE, QUOTE))},
    ("get", "/api/v1/quotes/{id}/"): {"200": ("An accepted quote", QUOTE)},
    ("post", "/api/v1/price-lists/{code}/items/bulk-upsert/"): {
        "request": ("Two tiers of a dressing and a splint's price", PRICE_UPSERT_REQUEST),
        "200": ("Three rows read, two changed", PRICE_UPSERT),
    },
    ("get", "/api/v1/orders/"): {"200": ("An allocated ward order", (PAGE, ORDER_SUMMARY))},
    ("post", "/api/v1/orders/"): {
        "request": ("A ward order on contract, with its PO and cost centre", ORDER_REQUEST),
        "201": ("Placed, approved and allocated", {"orders": [ORDER]}),
    },
    ("get", "/api/v1/orders/{number}/"): {"200": ("An allocated ward order", ORDER)},
    ("post", "/api/v1/orders/{number}/cancel/"): {
        "request": ("With a reason", {"comment": "Duplicate of PO-2026-0412"}),
        "200": ("Cancelled", CANCELLED),
    },
    ("get", "/api/v1/backorders/"): {"200": ("A line 40 boxes short", (PAGE, BACKORDER))},
    ("get", "/api/v1/routed-orders/"): {
        "200": ("A trust's order awaiting your answer", (PAGE, ROUTED_SUMMARY)),
    },
    ("get", "/api/v1/routed-orders/{number}/"): {
        "200": ("At the trust's contract price, which names you", ROUTED),
    },
    ("post", "/api/v1/routed-orders/{number}/accept/"): {
        "request": ("Delivery in two working days", {"expected_delivery_date": "2026-04-17"}),
        "200": ("Accepted", ROUTED_ACCEPTED),
    },
    ("post", "/api/v1/routed-orders/{number}/decline/"): {
        "request": ("No stock", {"reason": "No stock of the left-hand medium until May."}),
        "200": ("Declined", ROUTED_DECLINED),
    },
    ("post", "/api/v1/routed-orders/{number}/acknowledge/"): {
        "request": ("Your sales order number", {"erp_reference": "SHD-SO-20931"}),
        "200": ("Acknowledged", ROUTED_ACKNOWLEDGED),
    },
    ("post", "/api/v1/routed-orders/{number}/shipments/"): {
        "request": ("By DPD, one lot", {
            "tracking_number": "15501234567890", "carrier": "DPD",
            "tracking_url": "https://track.dpd.co.uk/parcels/15501234567890",
            "shipped_at": "2026-04-15T13:30:00+01:00",
            "lots": [{"line": 90212, "lot_number": "WSP2602", "expiry_date": None,
                      "quantity": 4}]}),
        "200": ("Shipped", ROUTED_SHIPPED),
    },
    ("post", "/api/v1/routed-orders/{number}/delivery/"): {
        "request": ("Signed for on the ward", {"delivered_on": "2026-04-16",
                                               "received_by": "S. Okafor, Ward 7"}),
        "200": ("Delivered", ROUTED_DELIVERED),
    },
    ("get", "/api/v1/fulfilment/orders/"): {
        "200": ("An allocated trust order", (PAGE, ORDER_SUMMARY)),
    },
    ("get", "/api/v1/fulfilment/orders/{number}/"): {"200": ("An allocated trust order", ORDER)},
    ("post", "/api/v1/fulfilment/orders/{number}/acknowledge/"): {
        "request": ("The ERP's sales order", {"erp_reference": "SO-88121"}),
        "200": ("Acknowledged", ACKNOWLEDGED),
    },
    ("post", "/api/v1/fulfilment/orders/{number}/shipments/"): {
        "request": ("Royal Mail, two lots", {
            "tracking_number": "RM482216795GB", "carrier": "Royal Mail Tracked 24",
            "tracking_url": SHIPMENT["tracking_url"], "shipped_at": "2026-04-14T15:02:00+01:00",
            "lots": [{"line": 90211, "lot_number": "MM24117", "expiry_date": "2028-11-30",
                      "quantity": 40},
                     {"line": 90211, "lot_number": "MM24203", "expiry_date": "2029-02-28",
                      "quantity": 20}]}),
        "200": ("Shipped", SHIPPED),
    },
    ("post", "/api/v1/fulfilment/orders/{number}/delivery/"): {
        "request": ("Signed for on the ward", {"delivered_on": "2026-04-15",
                                               "received_by": "S. Okafor, Ward 7"}),
        "200": ("Delivered", DELIVERED),
    },
    ("get", "/api/v1/webhooks/"): {"200": ("The ERP's listener", (PAGE, ENDPOINT))},
    ("post", "/api/v1/webhooks/"): {
        "request": ("The ERP's listener", {"url": ENDPOINT["url"],
                                           "description": ENDPOINT["description"]}),
        "201": ("Added, with its signing secret", ENDPOINT),
    },
    ("get", "/api/v1/webhooks/{id}/"): {"200": ("The ERP's listener", ENDPOINT)},
    ("patch", "/api/v1/webhooks/{id}/"): {
        "request": ("Switch it off during an ERP upgrade", {"is_active": False}),
        "200": ("Switched off", {**ENDPOINT, "is_active": False}),
    },
    ("post", "/api/v1/webhooks/{id}/rotate-secret/"): {
        "200": ("A new secret", {**ENDPOINT, "secret": "whsec_N2pQe8Wc5Rb1Yt7Lk0Hd4Zs9Mf3Ju6Ag"}),
    },
    ("post", "/api/v1/webhooks/{id}/test/"): {
        "202": ("Queued", TEST_DELIVERY),
    },
    ("get", "/api/v1/webhooks/{id}/deliveries/"): {
        "200": ("A delivered order event", (PAGE, DELIVERY)),
    },
}


def _value(value, path: str):
    if isinstance(value, tuple) and value[0] == PAGE:
        return _page(value[1], path.removeprefix("/api/v1/"))
    return value


def add_examples(result, generator, request, public):
    """Put each operation's examples on its JSON request body and answers. An example for an
    operation or status the schema does not have is an error: the table follows the API."""
    paths = result.get("paths", {})
    for (method, path), answers in EXAMPLES.items():
        operation = paths[path][method]
        for status, (summary, value) in answers.items():
            if status == "request":
                content = operation["requestBody"]["content"]
            else:
                content = operation["responses"][status]["content"]
            example = {"summary": summary, "value": _value(value, path)}
            content["application/json"]["examples"] = {"example": example}
    return result
