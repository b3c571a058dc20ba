"""The payloads of the schema's examples: one NHS trust's world (Riverside University Hospitals,
contract NHS-2025-118), its distributor and the manufacturer's ERP, in pounds sterling; the
answers after each action are the order as that action leaves it."""

import copy

HOST = "https://shop.example.org"
TRUST = "Riverside University Hospitals NHS Foundation Trust"
DISTRIBUTOR = "Solent Healthcare Distribution"

# Catalogue ----------------------------------------------------------------------------------------

PRICE = {
    "currency": "GBP",
    "unit_price": "7.9000",
    "vat_rate": "0.20",
    "unit_price_gross": "9.4800",
    "shown": "7.9000",
    "shown_label": "ex VAT",
    "source": "contract",
    "tier_min_quantity": 50,
    "explanation": "Contract NHS-2025-118 (lot 3), 50+ tier",
    "price_list_code": "nhs-2025-118-lot-3",
    "tiers": [{"min_quantity": 1, "unit_price": "8.4000"},
              {"min_quantity": 50, "unit_price": "7.9000"}],
    "min_order_qty": 1,
    "max_order_qty": None,
    "order_multiple": 1,
}

PRODUCT = {
    "sku": "WC-ALG-1010",
    "name": "Calcium alginate dressing 10 × 10 cm, box of 10",
    "description": "Sterile calcium alginate dressing for moderately to heavily exuding wounds. "
                   "Forms a gel on contact with exudate; **remove in one piece**.",
    "plain_description": "Sterile calcium alginate dressing for moderately to heavily exuding "
                         "wounds. Forms a gel on contact with exudate; remove in one piece.",
    "category": {"slug": "wound-care", "name": "Wound care"},
    "manufacturer": {"slug": "meridian-medical", "name": "Meridian Medical Ltd"},
    "gtin": "5012345670010",
    "device_class": "IIb",
    "gmdn_code": "47861",
    "gmdn_term": "Alginate wound dressing, non-antimicrobial",
    "sterile": True,
    "single_use": True,
    "contains_latex": False,
    "pack_size": 10,
    "unit_of_measure": "box",
    "regulatory_status": "on_market",
    "vat_category": "standard",
    "professional_only": True,
    "in_stock": True,
    "price": PRICE,
    "availability": {"status": "direct", "distributor_name": "", "distributor_contact": None,
                     "reason": "Availability in your area is confirmed at checkout."},
    "updated_at": "2026-04-13T09:12:44.120318+01:00",
}

SPLINT = {
    **PRODUCT,
    "sku": "OR-WSP-M-L",
    "name": "Wrist brace with thumb spica, medium, left",
    "description": "Breathable wrist and thumb support with a removable palmar stay.",
    "plain_description": "Breathable wrist and thumb support with a removable palmar stay.",
    "category": {"slug": "orthopaedic-supports", "name": "Orthopaedic supports"},
    "gtin": "5012345670027",
    "device_class": "I",
    "gmdn_code": "38627",
    "gmdn_term": "Wrist/thumb orthosis",
    "sterile": False,
    "single_use": False,
    "pack_size": 1,
    "unit_of_measure": "each",
    "professional_only": False,
    "price": {**PRICE, "unit_price": "14.2500", "unit_price_gross": "17.1000",
              "shown": "14.2500", "source": "contract", "tier_min_quantity": 1,
              "explanation": "Contract NHS-2025-131 (lot 2)",
              "price_list_code": "nhs-2025-131-lot-2",
              "tiers": [{"min_quantity": 1, "unit_price": "14.2500"}]},
    "availability": {
        "status": "via_distributor",
        "distributor_name": DISTRIBUTOR,
        "distributor_contact": {"name": "Priya Natarajan", "phone": "023 8061 4420",
                                "email": "nhs.orders@solent-healthcare.co.uk"},
        "reason": f"{DISTRIBUTOR} holds the exclusive right to this line in London.",
    },
    "updated_at": "2026-03-02T16:40:05.901224+00:00",
}

BASKET_REQUEST = {"lines": [{"sku": "WC-ALG-1010", "quantity": 60},
                            {"sku": "OR-WSP-M-L", "quantity": 4}]}
BASKET = {
    "lines": [
        {"sku": "WC-ALG-1010", "quantity": 60, "price": PRICE,
         "total": {"currency": "GBP", "net": "474.00", "vat": "94.80", "gross": "568.80"}},
        {"sku": "OR-WSP-M-L", "quantity": 4, "price": SPLINT["price"],
         "total": {"currency": "GBP", "net": "57.00", "vat": "11.40", "gross": "68.40"}},
    ],
    "totals": [{"currency": "GBP", "net": "531.00", "vat": "106.20", "gross": "637.20"}],
    "complete": True,
}

CONTRACT = {
    "id": 118,
    "reference": "NHS-2025-118",
    "lot": "3",
    "status": "active",
    "valid_from": "2025-04-01",
    "valid_to": "2027-03-31",
    "organisation": {"id": 42, "name": TRUST},
    "price_list_code": "nhs-2025-118-lot-3",
    "currency": "GBP",
    "updated_at": "2026-01-15T11:03:27.554810+00:00",
}

QUOTE = {
    "id": 311,
    "number": "Q-2026-0142",
    "revision": 2,
    "state": "accepted",
    "currency": "GBP",
    "expires_on": "2026-06-30",
    "requested_at": "2026-03-28T10:15:00+01:00",
    "answered_at": "2026-04-02T14:48:12+01:00",
    "accepted_at": "2026-04-03T09:02:51+01:00",
    "note": "Theatre restock for the new day-surgery unit: 400 boxes over the quarter.",
    "response_note": "Held for the quarter at the 400-box price; delivery from our Leeds hub.",
    "lines": [{"sku": "WC-ALG-1010", "name": PRODUCT["name"], "quantity": 400,
               "target_price": "7.2000", "unit_price": "7.3500"}],
}

PRICE_UPSERT_REQUEST = {"items": [
    {"sku": "WC-ALG-1010", "unit_price": "8.4000", "min_quantity": 1, "min_order_qty": 1,
     "max_order_qty": None, "order_multiple": 1, "currency": "GBP"},
    {"sku": "WC-ALG-1010", "unit_price": "7.9000", "min_quantity": 50},
    {"sku": "OR-WSP-M-L", "unit_price": "14.2500"},
]}
PRICE_UPSERT = {"price_list": "nhs-2025-118-lot-3", "rows": 3, "written": 2}

# The caller ---------------------------------------------------------------------------------------

ME = {
    "email": "ward7.purchasing@riverside.nhs.uk",
    "organisation": {"id": 42, "name": TRUST, "kind": "nhs_trust", "customer_tier": "A"},
    "roles": ["buyer", "requisitioner"],
    "permissions": ["browse", "place_order", "raise_requisition"],
    "channel": "b2b",
    "workflow": "institutional",
    "site": {"id": 7, "name": "Ward 7 (Acute Medicine)"},
    "postcode_area": "SE",
    "territory": "london",
    "segments": ["nhs-trusts", "nhs-framework-118", "rfm-champions"],
    "professional": True,
    "key": {"name": "Oracle ERP (production)", "prefix": "3f9c2a7b1d04",
            "kind": "integration", "role": "buyer",
            "person": "it.integrations@riverside.nhs.uk",
            "scopes": ["catalogue:read", "orders:write"], "expires_at": "2027-04-01T00:00:00Z"},
    "ordering": {
        "required_fields": ["po_number", "cost_centre", "requested_delivery_date"],
        "payment_method": "account",
        "backorders_accepted": True,
        "cost_centres": [{"code": "W7-CONS", "name": "Ward 7 consumables"},
                         {"code": "THR-STK", "name": "Main theatres stock"}],
        "sites": [{"id": 7, "name": "Ward 7 (Acute Medicine)", "kind": "ward",
                   "address_line1": "St Olave's Wing, Riverside Hospital",
                   "address_line2": "Riverside Road", "town": "London", "postcode": "SE1 7EH",
                   "gln": "5012345000017"},
                  {"id": 9, "name": "Main theatres store", "kind": "stores",
                   "address_line1": "Lower Ground, Riverside Hospital", "address_line2": "",
                   "town": "London", "postcode": "SE1 7EH", "gln": ""}],
    },
}

# Orders -------------------------------------------------------------------------------------------

BUYER = "Sam Okoro (buyer, requisitioner)"
SITE = {"id": 7, "name": "Ward 7 (Acute Medicine)", "postcode": "SE1 7EH"}

ORDER_SUMMARY = {
    "number": "P26-7KQ4-M2XD",
    "state": "allocated",
    "state_label": "Allocated",
    "workflow": "institutional",
    "placed_at": "2026-04-13T10:21:07.482193+01:00",
    "updated_at": "2026-04-13T10:24:51.007116+01:00",
    "placed_by": "ward7.purchasing@riverside.nhs.uk",
    "placed_via_key": {"name": "Oracle ERP (production)", "prefix": "3f9c2a7b1d04",
                       "kind": "integration", "role": "buyer"},
    "organisation": TRUST,
    "fulfiller": None,
    "po_number": "PO-2026-0413",
    "cost_centre": "W7-CONS",
    "requested_delivery_date": "2026-04-20",
    "expected_delivery_date": None,
    "erp_reference": "",
    "currency": "GBP",
    "total_net": "474.00",
    "total_vat": "94.80",
    "total_gross": "568.80",
    "payment_method": "account",
}

ORDER_LINE = {
    "id": 90211,
    "sku": "WC-ALG-1010",
    "name": PRODUCT["name"],
    "quantity": 60,
    "site": SITE,
    "unit_price": "7.9000",
    "vat_rate": "0.20",
    "price_source": "contract",
    "price_explanation": "Contract NHS-2025-118 (lot 3), 50+ tier",
    "line_net": "474.00",
    "line_vat": "94.80",
    "line_gross": "568.80",
    "allocated_quantity": 60,
    "backordered_quantity": 0,
    "shipped_quantity": 0,
    "held_reason": "",
    "lots": [],
}

ORDER = {
    **ORDER_SUMMARY,
    "decline_reason": "",
    "lines": [ORDER_LINE],
    "shipments": [],
    "approvals": [{"position": 1, "rule_name": "Every requisition",
                   "approver_role": "approver", "status": "approved",
                   "decided_at": "2026-04-13T10:24:50.911853+01:00",
                   "comment": "Within the ward's monthly budget."}],
    "events": [
        {"action": "place", "from_state": "", "to_state": "pending_approval",
         "actor": BUYER, "comment": "", "at": "2026-04-13T10:21:07.482193+01:00"},
        {"action": "approve", "from_state": "pending_approval", "to_state": "approved",
         "actor": "Dr Helen Marsh (approver)", "comment": "Within the ward's monthly budget.",
         "at": "2026-04-13T10:24:50.911853+01:00"},
        {"action": "submit", "from_state": "approved", "to_state": "submitted",
         "actor": "System", "comment": "", "at": "2026-04-13T10:24:50.962410+01:00"},
        {"action": "allocate", "from_state": "submitted", "to_state": "allocated",
         "actor": "System", "comment": "", "at": "2026-04-13T10:24:51.007116+01:00"},
    ],
}

ORDER_REQUEST = {
    "lines": [{"sku": "WC-ALG-1010", "quantity": 60, "site": 7, "expected_unit_price": "7.9000"}],
    "po_number": "PO-2026-0413",
    "cost_centre": "W7-CONS",
    "requested_delivery_date": "2026-04-20",
    "contract": 118,
}

SHIPPED_LINE = {**ORDER_LINE, "shipped_quantity": 60, "lots": [
    {"lot_number": "MM24117", "expiry_date": "2028-11-30", "quantity": 40},
    {"lot_number": "MM24203", "expiry_date": "2029-02-28", "quantity": 20},
]}
SHIPMENT = {"carrier": "Royal Mail Tracked 24", "tracking_number": "RM482216795GB",
            "tracking_url": "https://www.royalmail.com/track-your-item#/tracking-results/"
                            "RM482216795GB",
            "shipped_at": "2026-04-14T15:02:00+01:00"}


def order_after(action: str, state: str, *, before: str = "allocated", **changes) -> dict:
    """The order example as an action leaves it: its state, the fields it set, one more event."""
    order = copy.deepcopy(ORDER)
    event = {"action": action, "from_state": before, "to_state": state,
             "actor": changes.pop("actor", "System"),
             "comment": changes.pop("comment", ""), "at": changes.pop("at")}
    order.update(state=state, state_label=state.replace("_", " ").capitalize(),
                 updated_at=event["at"], **changes)
    order["events"].append(event)
    return order


ERP = ("(reported by API key “SAP S/4HANA” (8d1e7c40a2b9…) issued by "
       "erp-owner@meridian-medical.co.uk)")
ACKNOWLEDGED = order_after("acknowledge", "allocated", erp_reference="SO-88121",
                           comment=f"ERP reference SO-88121 {ERP}",
                           at="2026-04-13T11:02:13+01:00")
SHIPPED = order_after("ship", "shipped", erp_reference="SO-88121", lines=[SHIPPED_LINE],
                      shipments=[SHIPMENT], comment=f"Tracking RM482216795GB {ERP}",
                      at="2026-04-14T15:02:00+01:00")
DELIVERED = order_after("deliver", "delivered", before="shipped", erp_reference="SO-88121",
                        lines=[SHIPPED_LINE], shipments=[SHIPMENT],
                        comment=f"Received by S. Okafor, Ward 7 {ERP}",
                        at="2026-04-15T09:40:00+01:00")
CANCELLED = order_after("cancel", "cancelled", actor=BUYER, comment="Duplicate of PO-2026-0412",
                        lines=[{**ORDER_LINE, "allocated_quantity": 0}],
                        at="2026-04-13T10:40:00+01:00")

BACKORDER = {"order": "P26-9TRB-4WQA", "line": 90388, "sku": "WC-ALG-1010",
             "name": PRODUCT["name"], "quantity": 120, "allocated_quantity": 80,
             "backordered_quantity": 40, "requested_delivery_date": "2026-04-24"}

# Routed orders (the distributor's view) -----------------------------------------------------------

ROUTED_SUMMARY = {
    "number": "P26-3HCN-Q8ZL",
    "state": "routed",
    "workflow": "institutional",
    "placed_at": "2026-04-13T10:21:07.482193+01:00",
    "updated_at": "2026-04-13T10:21:07.482193+01:00",
    "placed_by": "ward7.purchasing@riverside.nhs.uk",
    "placed_via_key": {"name": "Oracle ERP (production)", "prefix": "3f9c2a7b1d04",
                       "kind": "integration", "role": "buyer"},
    "organisation": TRUST,
    "fulfiller": DISTRIBUTOR,
    "po_number": "PO-2026-0413",
    "requested_delivery_date": "2026-04-20",
    "expected_delivery_date": None,
    "erp_reference": "",
    "currency": "GBP",
    "total_net": "57.00",
}

ROUTED_LINE = {
    "id": 90212,
    "sku": "OR-WSP-M-L",
    "name": SPLINT["name"],
    "quantity": 4,
    "site": SITE,
    "unit_price": "14.2500",
    "line_net": "57.00",
    "price_basis": "contract",
    "price_explanation": "Contract NHS-2025-131 (lot 2) names you as its fulfiller",
    "allocated_quantity": 0,
    "backordered_quantity": 0,
    "shipped_quantity": 0,
    "lots": [],
}

ROUTED = {
    **ROUTED_SUMMARY,
    "decline_reason": "",
    "delivery_name": "Ward 7 (Acute Medicine)",
    "delivery_address": "St Olave's Wing, Riverside Hospital\nRiverside Road\nLondon",
    "delivery_postcode": "SE1 7EH",
    "lines": [ROUTED_LINE],
    "shipments": [],
    "events": [{"action": "place", "from_state": "", "to_state": "routed", "actor": BUYER,
                "comment": "", "at": "2026-04-13T10:21:07.482193+01:00"}],
}

SOLENT = "Priya Natarajan (buyer, fulfiller)"


def routed_after(action: str, state: str, *, before: str = "routed", **changes) -> dict:
    """The routed order example as the distributor's action leaves it."""
    order = copy.deepcopy(ROUTED)
    event = {"action": action, "from_state": before, "to_state": state, "actor": SOLENT,
             "comment": changes.pop("comment", ""), "at": changes.pop("at")}
    order.update(state=state, updated_at=event["at"], **changes)
    order["events"].append(event)
    return order


ROUTED_LOTS = [{"lot_number": "WSP2602", "expiry_date": None, "quantity": 4}]
ROUTED_SHIPPED_LINE = {**ROUTED_LINE, "allocated_quantity": 4, "shipped_quantity": 4,
                       "lots": ROUTED_LOTS}
ROUTED_SHIPMENT = {"carrier": "DPD", "tracking_number": "15501234567890",
                   "tracking_url": "https://track.dpd.co.uk/parcels/15501234567890",
                   "shipped_at": "2026-04-15T13:30:00+01:00"}
ROUTED_ACCEPTED = routed_after("accept", "accepted_by_distributor",
                               expected_delivery_date="2026-04-17",
                               at="2026-04-13T12:05:00+01:00")
ROUTED_DECLINED = routed_after("decline", "declined_by_distributor",
                               decline_reason="No stock of the left-hand medium until May.",
                               comment="No stock of the left-hand medium until May.",
                               at="2026-04-13T12:05:00+01:00")
ROUTED_ACKNOWLEDGED = routed_after("acknowledge", "accepted_by_distributor",
                                   before="accepted_by_distributor",
                                   expected_delivery_date="2026-04-17",
                                   erp_reference="SHD-SO-20931", at="2026-04-13T12:06:30+01:00")
ROUTED_SHIPPED = routed_after("ship", "shipped", before="accepted_by_distributor",
                              expected_delivery_date="2026-04-17",
                              erp_reference="SHD-SO-20931", lines=[ROUTED_SHIPPED_LINE],
                              shipments=[ROUTED_SHIPMENT], comment="Tracking 15501234567890",
                              at="2026-04-15T13:30:00+01:00")
ROUTED_DELIVERED = routed_after("deliver", "delivered", before="shipped",
                                expected_delivery_date="2026-04-17",
                                erp_reference="SHD-SO-20931", lines=[ROUTED_SHIPPED_LINE],
                                shipments=[ROUTED_SHIPMENT],
                                comment="Received by S. Okafor, Ward 7",
                                at="2026-04-16T10:12:00+01:00")

# Webhooks -----------------------------------------------------------------------------------------

ENDPOINT = {
    "id": 12,
    "url": "https://erp.riverside.nhs.uk/integrations/storefront/events",
    "description": "Oracle ERP order listener (production)",
    "is_active": True,
    "secret": "whsec_Vq7d2Lr0cM8pWk3sXy9TnB4hJg6eFa1Z",
    "created_by": "procurement.admin@riverside.nhs.uk",
    "created_at": "2026-02-09T08:45:31.220114+00:00",
}
DELIVERY = {
    "id": 55013,
    "event_id": "0b6f6f58-4f3c-4a51-9a4e-3c1f7d6b2a10",
    "event_type": "order.ship",
    "state": "delivered",
    "attempts": 1,
    "last_attempt_at": "2026-04-14T15:02:01.114208+01:00",
    "last_status_code": 200,
    "last_error": "",
    "next_attempt_at": "2026-04-14T15:02:01.114208+01:00",
    "delivered_at": "2026-04-14T15:02:01.392664+01:00",
    "created_at": "2026-04-14T15:02:00.981533+01:00",
}
TEST_DELIVERY = {**DELIVERY, "id": 55101, "event_id": "5d0c1f7e-9a2b-4c64-8f03-2be61a7d90c4",
                 "event_type": "webhook.test", "state": "pending", "attempts": 0,
                 "last_attempt_at": None, "last_status_code": None, "delivered_at": None,
                 "next_attempt_at": "2026-04-14T16:20:00.004117+01:00",
                 "created_at": "2026-04-14T16:20:00.004117+01:00"}
