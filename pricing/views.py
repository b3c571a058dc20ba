"""Quotes in the storefront for business buyers: request, list, read, accept, reject, renegotiate.
Every quote is reached through the buyer's own organisation; another organisation's id is a 404."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import QuoteRequestForm
from .models import Quote

private = cache_control(private=True, no_cache=True)


def _business_buyer(request):
    buyer = request.buyer
    if buyer.organisation_id is None or not buyer.is_b2b:
        raise PermissionDenied("Quotes are for business accounts.")
    return buyer


def _own_quote(request, pk: int) -> Quote:
    try:
        return selectors.quote_of(buyer=_business_buyer(request), quote_id=pk)
    except Quote.DoesNotExist as exc:
        raise Http404("No such quote.") from exc


@private
@login_required
def quote_list(request):
    buyer = _business_buyer(request)
    return render(request, "pricing/quote_list.html", {
        "quotes": selectors.current_quotes_of(buyer=buyer),
    })


@private
@login_required
def quote_request(request):
    buyer = _business_buyer(request)
    form = QuoteRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            quote = services.quote_request(
                buyer=buyer, lines=form.cleaned_data["lines"], note=form.cleaned_data["note"]
            )
        except services.QuoteError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Quote {quote.number} requested.")
            return redirect("quote_detail", pk=quote.pk)
    return render(request, "pricing/quote_request.html", {"form": form})


@private
@login_required
def quote_detail(request, pk: int):
    quote = _own_quote(request, pk)
    revisions = selectors.quotes_of(buyer=request.buyer).filter(number=quote.number)
    return render(request, "pricing/quote_detail.html", {
        "quote": quote, "lines": quote.lines.all(), "revisions": revisions,
    })


def _act(request, pk: int, action, done: str):
    quote = _own_quote(request, pk)
    try:
        result = action(buyer=request.buyer, quote=quote)
    except services.QuoteError as exc:
        messages.error(request, exc.message)
        return redirect("quote_detail", pk=quote.pk)
    messages.success(request, done.format(quote=result))
    return redirect("quote_detail", pk=result.pk)


@require_POST
@login_required
def quote_accept(request, pk: int):
    return _act(request, pk, services.quote_accept,
                "Quote {quote} accepted: its prices apply to your orders until it expires.")


@require_POST
@login_required
def quote_reject(request, pk: int):
    return _act(request, pk, services.quote_reject, "Quote {quote} rejected.")


@require_POST
@login_required
def quote_revise(request, pk: int):
    note = request.POST.get("note", "")
    return _act(
        request, pk,
        lambda *, buyer, quote: services.quote_revise(quote=quote, buyer=buyer, note=note),
        "Revision {quote.revision} requested; earlier revisions are kept.",
    )
