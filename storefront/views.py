from django.shortcuts import render
from django.views.decorators.cache import cache_control


@cache_control(private=True, no_cache=True)
def home(request):
    """The front page greets the buyer as the resolver sees them and links to their account."""
    return render(request, "home.html")
