def buyer(request):
    return {"buyer": getattr(request, "buyer", None)}
