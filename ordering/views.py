"""Cart, checkout, orders (and reorders), requisition lists, approvals and routed-order pages.
Each view parses input, calls one service or selector with `request.buyer`, and renders.
Checkout pages of another workflow are 404: a retail consumer never meets an institutional
checkout, nor the reverse. A list or order the buyer may not see is 404, POSTs included."""

import csv
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_POST

from accounts.selectors import organisation_cost_centres
from pricing.selectors import contracts_of
from segments.resolver import Workflow
from segments.service_levels import service_level_for

from .errors import OrderError
from .forms import (
    AddressForm,
    AddToCartForm,
    InstitutionalForm,
    ListLineAddForm,
    PaymentForm,
    QuickOrderForm,
    ReliefForm,
    RenameListForm,
    RequisitionListForm,
    RoutedAnswerForm,
    SaveCartAsListForm,
)
from .models import DeliveryOption, OrderState
from .rules import allowed_actions
from .selectors import (
    approval_queue,
    may_order,
    order_for,
    order_list,
    own_requisition_lists,
    requisition_list_for,
    requisition_list_page,
    routed_export_lines,
    routed_order_for,
    routed_orders_for,
    support_offers_for,
)
from .services.approvals import order_approve, order_cancel, order_escalate, order_reject
from .services.carts import (
    cart_add,
    cart_line_update,
    quick_order_add,
    quick_order_rows_from_csv,
    quick_order_rows_from_text,
)
from .services.checkout import (
    Declaration,
    DeliveryAddress,
    InstitutionalDetails,
    checkout_distributor,
    checkout_institutional,
    checkout_retail,
    checkout_review,
    delivered_buyer,
    delivery_options_for,
)
from .services.lists import (
    order_reorder,
    requisition_list_create,
    requisition_list_delete,
    requisition_list_from_cart,
    requisition_list_line_add,
    requisition_list_line_update,
    requisition_list_rename,
    requisition_list_review,
    requisition_list_share,
    requisition_list_to_cart,
)
from .services.recalls import may_remove_held_lines, order_line_remove_held
from .services.relief import declaration_problems
from .services.routing import routed_order_accept, routed_order_decline
from .workflows import workflow_for

ADDRESS_KEY = "ordering:retail-address"
DECLARATION_KEY = "ordering:relief-declaration"
ORDERS_PAGE = 50


def buyer_page(view):
    """Signed-in, personal: never cached by a shared cache."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        patch_cache_control(response, private=True, no_cache=True, max_age=0)
        return response

    return wrapper


def for_workflow(*names):
    """Only buyers of these workflows find the page; everyone else gets 404."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.buyer.workflow not in names:
                raise Http404("No such page.")
            return view(request, *args, **kwargs)

        return buyer_page(wrapper)

    return decorate


def _delivery_postcode(request) -> str | None:
    """The retail delivery postcode given at checkout (kept in the session), if any."""
    if request.buyer.workflow != Workflow.RETAIL:
        return None
    return (request.session.get(ADDRESS_KEY) or {}).get("postcode") or None


def _cart_buyer(request):
    """The buyer whose territory judges the cart: a consumer's as delivered to the address given
    at checkout once there is one (where the goods go decides the territory), else as resolved."""
    try:
        return delivered_buyer(request.buyer, _delivery_postcode(request))
    except OrderError:
        request.session.pop(ADDRESS_KEY, None)
        return request.buyer


def _back(request, fallback: str):
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else fallback)


# Cart ----------------------------------------------------------------------------------------


@buyer_page
def cart_detail(request):
    cart_buyer = _cart_buyer(request)
    review = checkout_review(buyer=cart_buyer)
    save_form = None
    if review.lines and may_order(request.buyer):
        save_form = SaveCartAsListForm(own_lists=list(own_requisition_lists(request.buyer)))
    return render(request, "ordering/cart.html", {
        "review": review, "workflow": workflow_for(request.buyer),
        "quick_form": QuickOrderForm(), "save_form": save_form, "cart_buyer": cart_buyer,
        "support_offers": support_offers_for(buyer=request.buyer, in_cart=_in_cart(review)),
    })


def _in_cart(review) -> set[int]:
    return {line.checked.product_id for line in review.lines}


@require_POST
@buyer_page
def cart_add_view(request):
    form = AddToCartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a quantity of at least 1.")
        return _back(request, reverse("cart"))
    try:
        line = cart_add(buyer=_cart_buyer(request), product_id=form.cleaned_data["product"],
                        quantity=form.cleaned_data["quantity"])
    except OrderError as error:
        messages.error(request, error.message)
        return _back(request, reverse("cart"))
    messages.success(request, f"Added to your cart ({line.quantity} in total).")
    return _back(request, reverse("cart"))


@require_POST
@buyer_page
def cart_line_view(request, line_id: int):
    try:
        cart_line_update(buyer=_cart_buyer(request), line_id=line_id,
                         quantity=request.POST.get("quantity", ""))
    except OrderError as error:
        messages.error(request, error.message)
    return redirect("cart")


@buyer_page
def quick_order(request):
    form = QuickOrderForm(request.POST or None, request.FILES or None)
    row_errors = {}
    if request.method == "POST" and form.is_valid():
        try:
            upload = form.cleaned_data.get("file")
            rows = (quick_order_rows_from_csv(upload.read()) if upload
                    else quick_order_rows_from_text(form.cleaned_data["lines"]))
            added = quick_order_add(buyer=_cart_buyer(request), rows=rows)
        except OrderError as error:
            form.add_error(None, error.message)
            row_errors = error.rows
        else:
            messages.success(request, f"{added} line(s) added to your cart.")
            return redirect("cart")
    status = 422 if request.method == "POST" else 200
    return render(request, "ordering/quick_order.html",
                  {"form": form, "row_errors": sorted(row_errors.items())}, status=status)


@buyer_page
def checkout_start(request):
    names = {Workflow.RETAIL: "checkout_retail_address",
             Workflow.INSTITUTIONAL: "checkout_institutional",
             Workflow.DISTRIBUTOR: "checkout_distributor"}
    return redirect(names[request.buyer.workflow])


# Retail checkout ------------------------------------------------------------------------------


@for_workflow(Workflow.RETAIL)
def retail_address(request):
    user = request.user
    initial = request.session.get(ADDRESS_KEY) or {"name": user.full_name,
                                                   "postcode": user.postcode}
    form = AddressForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        review = _address_review(request, form)
        if review is not None:
            request.session[ADDRESS_KEY] = {**form.cleaned_data,
                                            "postcode": review.delivery_postcode}
            return redirect("checkout_retail_relief" if review.relief_eligible
                            else "checkout_retail_payment")
    return render(request, "ordering/retail_address.html",
                  {"form": form, "workflow": workflow_for(request.buyer)},
                  status=422 if request.method == "POST" else 200)


def _address_review(request, form):
    """The cart judged for the address typed in, or None with the postcode field telling why it
    cannot go there (an invalid postcode, a line not sold for delivery there)."""
    try:
        review = checkout_review(buyer=request.buyer,
                                 delivery_postcode=form.cleaned_data["postcode"])
    except OrderError as error:
        form.add_error("postcode", error.message)
        return None
    refused = [line for line in review.lines if not line.checked.ok]
    if not refused:
        return review
    names = {line.cart_line_id: line.product.name
             for line in checkout_review(buyer=request.buyer).lines if line.product}
    for line in refused:
        problem = line.checked.problem
        if line.product is None:
            problem = f"{names.get(line.cart_line_id, 'A product in your cart')}: {problem}"
        form.add_error("postcode", f"{problem} Remove it from your cart or choose another "
                                   "delivery address.")
    return None


def _declaration_from(data: dict) -> Declaration:
    return Declaration(
        full_name=data["full_name"], address=data["address"], condition=data["condition"],
        confirmed=data["confirmed"], signed_on_behalf=data["signed_on_behalf"],
        signer_name=data["signer_name"], signer_relationship=data["signer_relationship"],
    )


@for_workflow(Workflow.RETAIL)
def retail_relief(request):
    review = checkout_review(buyer=_cart_buyer(request))
    if not review.relief_eligible:
        return redirect("checkout_retail_payment")
    form = ReliefForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["claim"] == "no":
            request.session.pop(DECLARATION_KEY, None)
            return redirect("checkout_retail_payment")
        problems = declaration_problems(_declaration_from(form.cleaned_data))
        if not problems:
            request.session[DECLARATION_KEY] = {
                k: v for k, v in form.cleaned_data.items() if k != "claim"
            }
            return redirect("checkout_retail_payment")
        for field_name, message in problems.items():
            form.add_error(field_name, message)
    return render(request, "ordering/retail_relief.html", {
        "form": form, "review": review, "workflow": workflow_for(request.buyer),
    })


@for_workflow(Workflow.RETAIL)
def retail_payment(request):
    address = request.session.get(ADDRESS_KEY)
    if not address:
        return redirect("checkout_retail_address")
    saved = request.session.get(DECLARATION_KEY)
    declaration = _declaration_from(saved) if saved else None
    review = checkout_review(buyer=_cart_buyer(request), relief=declaration is not None)
    options = delivery_options_for(service_level_for(buyer=request.buyer))
    form = PaymentForm(request.POST or None, initial={"token": review.price_token},
                       delivery_options=options)
    if request.method == "POST" and form.is_valid():
        try:
            order = checkout_retail(
                buyer=request.buyer, address=DeliveryAddress(**address),
                card_number=form.cleaned_data["card_number"],
                expected_token=form.cleaned_data["token"], declaration=declaration,
                delivery_option=form.cleaned_data["delivery_option"] or DeliveryOption.STANDARD,
            )
        except OrderError as error:
            if error.review is None:
                form.add_error(error.field if error.field in form.fields else None,
                               error.message)
            else:  # the new review to confirm, with a fresh form (the card number not echoed)
                review = error.review
                messages.error(request, error.message)
                form = PaymentForm(initial={"token": review.price_token},
                                   delivery_options=options)
        else:
            request.session.pop(ADDRESS_KEY, None)
            request.session.pop(DECLARATION_KEY, None)
            if order.state == OrderState.AWAITING_PAYMENT:
                messages.info(request, f"Thank you: order {order.number} is waiting for your "
                              "card payment to be confirmed.")
            else:
                messages.success(request, f"Thank you: order {order.number} is confirmed.")
            return redirect("order_detail", number=order.number)
    return render(request, "ordering/retail_payment.html", {
        "form": form, "review": review, "address": address, "declaration": declaration,
        "workflow": workflow_for(request.buyer),
        "support_offers": support_offers_for(buyer=request.buyer, in_cart=_in_cart(review)),
    })


# Institutional and distributor checkout -------------------------------------------------------


def _line_sites(request, review) -> dict[int, int]:
    chosen = {}
    for line in review.lines:
        raw = request.POST.get(f"site-{line.cart_line_id}", "")
        if raw.isdigit():
            chosen[line.cart_line_id] = int(raw)
    return chosen


def _organisation_checkout(request, place, template_name):
    buyer = request.buyer
    cost_centres = [c for c in organisation_cost_centres(buyer=buyer) if c.is_active]
    contracts = list(contracts_of(buyer=buyer))
    service = service_level_for(buyer=buyer)
    form = InstitutionalForm(request.POST or None, cost_centres=cost_centres,
                             contracts=contracts if len(contracts) > 1 else (),
                             delivery_options=delivery_options_for(service))
    line_sites, contract_id = {}, None
    if request.method == "POST":
        initial_review = checkout_review(buyer=buyer)
        line_sites = _line_sites(request, initial_review)
        if form.is_valid():
            contract_id = form.cleaned_data["contract"]
    try:
        review = checkout_review(buyer=buyer, contract_id=contract_id, line_sites=line_sites)
    except OrderError as error:
        messages.error(request, error.message)
        return redirect("cart")
    if request.method == "POST" and form.is_valid() and "place" in request.POST:
        details = InstitutionalDetails(
            po_number=form.cleaned_data["po_number"],
            cost_centre_id=form.cleaned_data["cost_centre"],
            requested_delivery_date=form.cleaned_data["requested_delivery_date"],
            contract_id=contract_id, line_sites=line_sites,
            delivery_option=form.cleaned_data["delivery_option"] or DeliveryOption.STANDARD,
        )
        try:
            orders = place(buyer=buyer, details=details,
                           expected_token=form.cleaned_data["token"])
        except OrderError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
            review = error.review or review
        else:
            for order in orders:
                messages.success(request, f"Order {order.number}: {order.get_state_display()}.")
            return redirect("order_detail", number=orders[0].number)
    total = review.net
    category_paths = [line.product.category.path for line in review.lines if line.product]
    workflow = workflow_for(buyer, total=total, category_paths=category_paths)
    return render(request, template_name, {
        "form": form, "review": review, "workflow": workflow, "token": review.price_token,
        "service": service,
        "support_offers": support_offers_for(buyer=buyer, in_cart=_in_cart(review)),
        "line_sites": {line.cart_line_id: line.site_id for line in review.lines},
    })


@for_workflow(Workflow.INSTITUTIONAL)
def institutional_checkout(request):
    return _organisation_checkout(request, checkout_institutional, "ordering/checkout_org.html")


@for_workflow(Workflow.DISTRIBUTOR)
def distributor_checkout(request):
    return _organisation_checkout(request, checkout_distributor, "ordering/checkout_org.html")


# Orders -------------------------------------------------------------------------------------


@buyer_page
def orders(request):
    rows = list(order_list(request.buyer)[:ORDERS_PAGE])
    return render(request, "ordering/order_list.html", {"orders": rows})


@buyer_page
def orders_export(request):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="orders.csv"'
    writer = csv.writer(response)
    writer.writerow(["number", "placed_at", "placed_by", "state", "po_number", "cost_centre",
                     "fulfiller", "currency", "total_net", "total_vat", "total_gross"])
    for order in order_list(request.buyer).iterator(chunk_size=500):
        writer.writerow([
            order.number, order.placed_at.isoformat(), order.placed_by.email, order.state,
            order.po_number, order.cost_centre.code if order.cost_centre else "",
            order.fulfiller.name if order.fulfiller else "", order.currency, order.total_net,
            order.total_vat, order.total_gross,
        ])
    return response


def _order_page(request, order, *, reorder_problems=(), status=200):
    return render(request, "ordering/order_detail.html", {
        "order": order, "actions": allowed_actions(order, request.buyer),
        "pending": order.state == OrderState.PENDING_APPROVAL,
        "may_reorder": may_order(request.buyer), "reorder_problems": reorder_problems,
        "may_remove_held": may_remove_held_lines(order, request.buyer),
    }, status=status)


@buyer_page
def order_detail(request, number: str):
    return _order_page(request, order_for(request.buyer, number))


@require_POST
@buyer_page
def order_reorder_view(request, number: str):
    order = order_for(request.buyer, number)
    try:
        added = order_reorder(buyer=_cart_buyer(request), number=order.number)
    except OrderError as error:
        messages.error(request, error.message)
        if not error.rows:
            return redirect("order_detail", number=number)
        return _order_page(request, order, reorder_problems=list(error.rows.values()),
                           status=422)
    messages.success(
        request,
        f"{added} line(s) of order {order.number} added to your cart at today's prices, which "
        "may differ from the prices on the order.",
    )
    return redirect("cart")


ORDER_ACTIONS = {
    "approve": lambda order, buyer, comment: order_approve(order=order, actor_buyer=buyer,
                                                           comment=comment),
    "reject": lambda order, buyer, comment: order_reject(order=order, actor_buyer=buyer,
                                                         comment=comment),
    "cancel": lambda order, buyer, comment: order_cancel(order=order, actor_buyer=buyer,
                                                         comment=comment),
    "escalate": lambda order, buyer, comment: order_escalate(order=order, actor_buyer=buyer),
}


@require_POST
@buyer_page
def order_line_remove_view(request, number: str, line_id: int):
    """Remove a line a recall holds, so the rest of the order can go on."""
    order = order_for(request.buyer, number)
    try:
        order_line_remove_held(order=order, line_id=line_id, actor_buyer=request.buyer)
    except OrderError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Order {number}: the held line was removed.")
    return redirect("order_detail", number=number)


@require_POST
@buyer_page
def order_action(request, number: str, action: str):
    order = order_for(request.buyer, number)
    act = ORDER_ACTIONS.get(action)
    if act is None:
        raise Http404("No such action.")
    try:
        act(order, request.buyer, request.POST.get("comment", ""))
    except OrderError as error:
        messages.error(request, error.message)
        return redirect("order_detail", number=number)
    messages.success(request, f"Order {number}: {action} done.")
    return redirect("order_detail", number=number)


@for_workflow(Workflow.INSTITUTIONAL, Workflow.DISTRIBUTOR)
def approvals(request):
    return render(request, "ordering/approval_queue.html",
                  {"orders": list(approval_queue(request.buyer)[:ORDERS_PAGE])})


# Routed orders (distributor portal) ---------------------------------------------------------


@for_workflow(Workflow.DISTRIBUTOR)
def routed_orders(request):
    rows = list(routed_orders_for(request.buyer)[:ORDERS_PAGE])
    return render(request, "ordering/routed_list.html", {"orders": rows})


@for_workflow(Workflow.DISTRIBUTOR)
def routed_orders_export(request):
    """Every line of the orders routed to the distributor, at the prices it sees."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="routed-orders.csv"'
    writer = csv.writer(response)
    writer.writerow(["number", "placed_at", "customer", "state", "po_number", "sku", "product",
                     "quantity", "site", "currency", "unit_price", "line_net", "price_basis",
                     "price_explanation"])
    for line in routed_export_lines(request.buyer).iterator(chunk_size=500):
        order = line.order
        customer = order.organisation.name if order.organisation else order.delivery_name
        writer.writerow([
            order.number, order.placed_at.isoformat(), customer, order.state, order.po_number,
            line.product.sku, line.product.name, line.quantity,
            line.site.name if line.site else order.delivery_postcode, order.currency,
            "" if line.routed_unit_price is None else line.routed_unit_price,
            "" if line.routed_line_net is None else line.routed_line_net, line.price_basis,
            line.routed_price_explanation,
        ])
    return response


@for_workflow(Workflow.DISTRIBUTOR)
def routed_order(request, number: str):
    order = routed_order_for(request.buyer, number)
    form = RoutedAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if request.POST.get("answer") == "accept":
                routed_order_accept(
                    order=order, actor_buyer=request.buyer,
                    expected_delivery_date=form.cleaned_data["expected_delivery_date"],
                )
            else:
                routed_order_decline(order=order, actor_buyer=request.buyer,
                                     reason=form.cleaned_data["reason"])
        except OrderError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Your answer on {order.number} was sent to the buyer.")
            return redirect("routed_order", number=number)
    return render(request, "ordering/routed_detail.html", {"order": order, "form": form})


# Requisition lists ---------------------------------------------------------------------------


@buyer_page
def requisition_lists(request):
    buyer = request.buyer
    form = RequisitionListForm(request.POST or None, shareable=buyer.organisation_id is not None)
    if request.method == "POST" and form.is_valid():
        try:
            created = requisition_list_create(
                buyer=buyer, name=form.cleaned_data["name"],
                shared=form.cleaned_data.get("shared", False),
            )
        except OrderError as error:
            form.add_error("name" if error.code.startswith("name") else None, error.message)
        else:
            messages.success(request, f"List “{created.name}” created: now add its lines.")
            return redirect("requisition_list", list_id=created.pk)
    return render(request, "ordering/list_index.html", {
        "lists": list(requisition_list_page(buyer)), "form": form, "may_order": may_order(buyer),
    }, status=422 if request.method == "POST" else 200)


def _list_page(request, requisition_list, *, add_form=None, problems=None, status=200):
    review = requisition_list_review(buyer=request.buyer, requisition_list=requisition_list)
    problems = problems or {}
    return render(request, "ordering/list_detail.html", {
        "review": review, "list": requisition_list,
        "rows": [(line, problems.get(line.line.product_id, "")) for line in review.lines],
        "add_form": add_form or ListLineAddForm(),
        "rename_form": RenameListForm(initial={"name": requisition_list.name}),
    }, status=status)


@buyer_page
def requisition_list_detail(request, list_id: int):
    return _list_page(request, requisition_list_for(request.buyer, list_id))


@require_POST
@buyer_page
def requisition_list_add_view(request, list_id: int):
    requisition_list = requisition_list_for(request.buyer, list_id)
    form = ListLineAddForm(request.POST)
    if form.is_valid():
        try:
            line = requisition_list_line_add(
                buyer=request.buyer, list_id=requisition_list.pk,
                sku=form.cleaned_data["sku"], quantity=form.cleaned_data["quantity"],
            )
        except OrderError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"{line.product.sku}: {line.quantity} on the list.")
            return redirect("requisition_list", list_id=requisition_list.pk)
    return _list_page(request, requisition_list_for(request.buyer, list_id), add_form=form,
                      status=422)


@require_POST
@buyer_page
def requisition_list_line_view(request, list_id: int, line_id: int):
    requisition_list = requisition_list_for(request.buyer, list_id)
    try:
        requisition_list_line_update(buyer=request.buyer, list_id=requisition_list.pk,
                                     line_id=line_id, quantity=request.POST.get("quantity", ""))
    except OrderError as error:
        messages.error(request, error.message)
    return redirect("requisition_list", list_id=requisition_list.pk)


@require_POST
@buyer_page
def requisition_list_rename_view(request, list_id: int):
    requisition_list = requisition_list_for(request.buyer, list_id)
    form = RenameListForm(request.POST)
    try:
        if not form.is_valid():
            raise OrderError("name_required", "Give the list a name of up to 80 characters.")
        renamed = requisition_list_rename(buyer=request.buyer, list_id=requisition_list.pk,
                                          name=form.cleaned_data["name"])
    except OrderError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The list is now called “{renamed.name}”.")
    return redirect("requisition_list", list_id=requisition_list.pk)


@require_POST
@buyer_page
def requisition_list_share_view(request, list_id: int):
    requisition_list = requisition_list_for(request.buyer, list_id)
    shared = request.POST.get("shared") == "yes"
    try:
        requisition_list_share(buyer=request.buyer, list_id=requisition_list.pk, shared=shared)
    except OrderError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Shared with your colleagues: they may use it, not change it."
                         if shared else "The list is yours alone again.")
    return redirect("requisition_list", list_id=requisition_list.pk)


@require_POST
@buyer_page
def requisition_list_delete_view(request, list_id: int):
    requisition_list = requisition_list_for(request.buyer, list_id)
    try:
        requisition_list_delete(buyer=request.buyer, list_id=requisition_list.pk)
    except OrderError as error:
        messages.error(request, error.message)
        return redirect("requisition_list", list_id=requisition_list.pk)
    messages.success(request, f"List “{requisition_list.name}” deleted.")
    return redirect("requisition_lists")


@require_POST
@buyer_page
def requisition_list_to_cart_view(request, list_id: int):
    requisition_list = requisition_list_for(request.buyer, list_id)
    try:
        added = requisition_list_to_cart(buyer=_cart_buyer(request), list_id=requisition_list.pk)
    except OrderError as error:
        messages.error(request, error.message)
        if not error.rows:
            return redirect("requisition_list", list_id=requisition_list.pk)
        return _list_page(request, requisition_list, problems=error.rows, status=422)
    messages.success(request, f"{added} line(s) of “{requisition_list.name}” added to your cart "
                              "at today's prices.")
    return redirect("cart")


@require_POST
@buyer_page
def cart_save_as_list(request):
    form = SaveCartAsListForm(request.POST,
                              own_lists=list(own_requisition_lists(request.buyer)))
    if not form.is_valid():
        messages.error(request, " ".join(form.non_field_errors()) or
                       "Name the new list, or choose one of your lists to replace.")
        return redirect("cart")
    try:
        saved = requisition_list_from_cart(buyer=request.buyer, name=form.cleaned_data["name"],
                                           list_id=form.cleaned_data.get("replace"))
    except OrderError as error:
        messages.error(request, error.message)
        return redirect("cart")
    messages.success(request, f"Your cart is saved as the list “{saved.name}”.")
    return redirect("requisition_list", list_id=saved.pk)
