def buyer(request):
    return {"buyer": getattr(request, "buyer", None)}


def account_service(request):
    """For a concierge account, its named account manager with direct contact, shown on every
    page: read from the resolver's context, so it costs no query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"concierge_manager": None}
    context = getattr(request, "buyer", None)
    if context is None or context.service_tier != "concierge":
        return {"concierge_manager": None}
    return {"concierge_manager": context.account_manager}
