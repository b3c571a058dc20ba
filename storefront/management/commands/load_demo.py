"""`python manage.py load_demo`: create or update the demo world, then print what it holds and who
can sign in. Safe to run again: it updates rows in place and never duplicates them."""
from django.core.management.base import BaseCommand

from accounts.models import Budget, CostCentre, Membership, Organisation, Site, User
from insights.services.aggregates import rebuild as rebuild_sales_aggregates
from ordering.models import Order
from segments.models import Segment
from storefront.demo import DEMO_PASSWORD, load_demo_world
from storefront.demo.history import compute_demo_segments
from storefront.demo.organisations import ORGANISATIONS
from storefront.demo.people import MEMBERS, PEOPLE


def _role_label(roles: tuple[str, ...]) -> str:
    return ", ".join(role.replace("_", " ") for role in roles)


def login_rows() -> list[tuple[str, str, str]]:
    """(email, who they are, where they belong) for every demo login, in the order of DEMO.md."""
    names = {spec.key: spec.name for spec in ORGANISATIONS}
    rows = []
    for person in PEOPLE:
        places = [
            f"{names[m.organisation]} ({_role_label(m.roles)})"
            for m in MEMBERS
            if m.email == person.email
        ]
        if places:
            where = "; ".join(places)
        elif person.superuser:
            where = "— (superuser)"
        elif person.staff:
            where = "— (staff)"
        else:
            where = f"— (home postcode {person.postcode})"
        rows.append((person.email, person.who, where))
    return rows


class Command(BaseCommand):
    help = "Load (or refresh) the demo organisations, people and segments. Idempotent."

    def handle(self, *args, **options):
        load_demo_world()
        run = compute_demo_segments()
        # The reports read aggregates only: built now, so they have figures on first start.
        aggregates = rebuild_sales_aggregates()
        counts = {
            "organisations": Organisation.objects.count(),
            "sites": Site.objects.count(),
            "cost centres": CostCentre.objects.count(),
            "budgets": Budget.objects.count(),
            "users": User.objects.count(),
            "memberships": Membership.objects.count(),
            "segments": Segment.objects.count(),
            "orders": Order.objects.count(),
        }
        self.stdout.write(self.style.SUCCESS("Demo world loaded."))
        self.stdout.write(", ".join(f"{n} {label}" for label, n in counts.items()))
        self.stdout.write(f"Segments computed from the order history: {run}")
        learned = run.counts.get("affinities") or {}
        self.stdout.write(f"Complementary products learned from it: {learned.get('pairs', 0)} "
                          f"pairs ordered together, {learned.get('favourites', 0)} peer "
                          f"favourites, in {learned.get('scopes', 0)} scopes")
        self.stdout.write(f"Sales aggregates for the reports: {aggregates}")
        self.stdout.write(f"\nEvery demo login uses the password {DEMO_PASSWORD}:\n")
        rows = [("email", "who", "organisation (role)"), *login_rows()]
        email_width = max(len(row[0]) for row in rows)
        who_width = max(len(row[1]) for row in rows)
        for email, who, where in rows:
            self.stdout.write(f"  {email:<{email_width}}  {who:<{who_width}}  {where}")
