"""The rep's book in admin: an account manager's accounts with their segments and movement, the
lapsed and at-risk ones, open quotes and who is likely to order soon. A superuser may open any
staff member's book (`?manager=<id>`); everyone else sees their own."""

from django.contrib import admin
from django.http import Http404
from django.template.response import TemplateResponse

from accounts.models import User

from .book import rep_book


def _whose_book(request):
    wanted = request.GET.get("manager", "")
    if not wanted or not request.user.is_superuser:
        return request.user
    if not wanted.isdigit():
        raise Http404("No such account manager.")
    manager = User.objects.filter(pk=int(wanted), is_staff=True).first()
    if manager is None:
        raise Http404("No such account manager.")
    return manager


def rep_book_view(request):
    manager = _whose_book(request)
    managers = []
    if request.user.is_superuser:
        managers = list(User.objects.filter(is_staff=True).order_by("full_name", "email"))
    context = {
        **admin.site.each_context(request),
        "title": f"Book of {manager.full_name or manager.email}",
        "manager": manager,
        "managers": managers,
        "book": rep_book(user=manager),
    }
    return TemplateResponse(request, "admin/pricing/rep_book.html", context)
