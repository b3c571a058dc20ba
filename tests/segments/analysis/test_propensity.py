"""Buying propensity: features as of a date from the orders before it, a time-based holdout
strictly after every training label, a model used only when it beats the cadence baseline, and
scores written in a number of queries that does not depend on the number of buyers."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from segments.analysis import propensity
from segments.analysis.propensity import (
    HORIZON_DAYS,
    baseline_scores,
    calibration_table,
    judge,
    plan_snapshots,
    snapshot_features,
    train_and_score,
)
from segments.analysis.propensity_features import history_tables
from segments.analysis.propensity_today import today_features
from segments.models import Audience, PropensityModel, PropensityScore
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.analysis_propensity import (
    OrderHistory,
    consumers,
    days_before,
    noise_world,
    organisations,
    placer,
    planted_world,
    propensity_catalogue,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def _model(models, audience):
    return next(m for m in models if m.audience == audience)


def _features(snapshot, row) -> dict:
    return dict(zip([name for name, _ in propensity.FEATURES], snapshot.X[row].tolist(),
                    strict=True))


# --- the features, against a hand-computed buyer -------------------------------------------

def test_features_of_one_buyer_match_the_hand_computed_values():
    dressing, gloves, *_ = propensity_catalogue()
    clinic, = organisations(1)
    history = OrderHistory(placer=placer())
    as_of = NOW
    for days, lines in [
        (400, [(dressing, 1, "10.00")]),
        (100, [(dressing, 2, "10.00"), (gloves, 1, "30.00")]),
        (60, [(dressing, 1, "10.00")]),
        (20, [(gloves, 3, "10.00")]),
        (10, [(dressing, 1, "10.00")]),
    ]:
        history.add(organisation=clinic, at=days_before(as_of, days), lines=lines)
    history.add(organisation=clinic, at=days_before(as_of, 5), lines=[(gloves, 9, "99.00")],
                state="cancelled")  # not a purchase
    history.add(organisation=clinic, at=as_of + timedelta(days=3), lines=[(gloves, 1, "5.00")])
    history.write()

    snap = snapshot_features(audience=Audience.ORGANISATIONS, as_of=as_of)

    assert snap.buyers.tolist() == [clinic.pk, clinic.pk]
    by_category = {item: row for row, item in enumerate(snap.items.tolist())}
    dressings = _features(snap, by_category[dressing.category_id])
    glove = _features(snap, by_category[gloves.category_id])
    # Dressings ordered 400, 100, 60, 10 days ago: gaps 300, 40, 50 -> median 50.
    # Revenue in 365 days: 50 + 10 + 30 + 10 = 100 (the 400-day order and the cancelled one out).
    assert dressings == pytest.approx({
        "days_since_item": 10, "item_orders_90d": 2, "item_orders_365d": 3, "item_gap_days": 50,
        "days_since_any": 10, "orders_365d": 4, "log_revenue_365d": np.log1p(100),
        "item_share": 0.4, "due_ratio": 0.2,
    }, abs=1e-3)
    # Gloves ordered 100 and 20 days ago: one gap of 80 days.
    assert glove == pytest.approx({
        "days_since_item": 20, "item_orders_90d": 1, "item_orders_365d": 2, "item_gap_days": 80,
        "days_since_any": 10, "orders_365d": 4, "log_revenue_365d": np.log1p(100),
        "item_share": 0.6, "due_ratio": 0.25,
    }, abs=1e-3)
    labels = {item: int(snap.y[row]) for item, row in by_category.items()}
    assert labels == {dressing.category_id: 0, gloves.category_id: 1}


def test_an_item_ordered_once_takes_the_buyers_cadence_and_a_single_order_a_year():
    dressing, gloves, *_ = propensity_catalogue()
    regular, once = organisations(2)
    history = OrderHistory(placer=placer())
    for days in (90, 60, 50):
        history.add(organisation=regular, at=days_before(NOW, days), lines=[(dressing, 1, "1")])
    history.add(organisation=regular, at=days_before(NOW, 30), lines=[(gloves, 1, "1")])
    history.add(organisation=once, at=days_before(NOW, 30), lines=[(gloves, 1, "1")])
    history.write()

    snap = snapshot_features(audience=Audience.ORGANISATIONS, as_of=NOW, labelled=False)

    gaps = {(b, i): _features(snap, row)["item_gap_days"]
            for row, (b, i) in enumerate(zip(snap.buyers.tolist(), snap.items.tolist()))}
    # The regular buyer's orders 90, 60, 50, 30 days ago: gaps 30, 10, 20 -> median 20.
    assert gaps == pytest.approx({
        (regular.pk, dressing.category_id): 20, (regular.pk, gloves.category_id): 20,
        (once.pk, gloves.category_id): propensity.NO_GAP_DAYS,
    })
    assert snap.y is None


def test_orders_after_the_as_of_date_change_only_the_label():
    dressing, *_ = propensity_catalogue()
    clinic, = organisations(1)
    history = OrderHistory(placer=placer())
    for days in (200, 150, 100):
        history.add(organisation=clinic, at=days_before(NOW, days), lines=[(dressing, 1, "5")])
    history.write()
    as_of = days_before(NOW, 60)
    before = snapshot_features(audience=Audience.ORGANISATIONS, as_of=as_of)

    later = OrderHistory(placer=history.placer)
    later.add(organisation=clinic, at=days_before(NOW, 59), lines=[(dressing, 4, "50")])
    later.add(organisation=clinic, at=days_before(NOW, 20), lines=[(dressing, 4, "50")])
    later.write()
    after = snapshot_features(audience=Audience.ORGANISATIONS, as_of=as_of)

    assert np.array_equal(before.X, after.X)
    assert (before.y.tolist(), after.y.tolist()) == ([0], [1])


def test_products_scored_are_the_buyers_three_most_bought_in_the_year():
    products = propensity_catalogue(5)
    clinic, = organisations(1)
    history = OrderHistory(placer=placer())
    for product, units, days in zip(products, (10, 8, 6, 1, 50), (30, 60, 90, 20, 400),
                                    strict=True):
        history.add(organisation=clinic, at=days_before(NOW, days),
                    lines=[(product, units, "1.00")])
    history.write()

    snap = snapshot_features(audience=Audience.ORGANISATIONS, as_of=NOW, level="product",
                             labelled=False)

    assert sorted(snap.items.tolist()) == sorted(p.pk for p in products[:3])


@pytest.mark.parametrize("audience", [Audience.ORGANISATIONS, Audience.CONSUMERS])
@pytest.mark.parametrize("level", ["category", "product"])
def test_todays_features_for_scoring_are_those_of_the_feature_query(audience, level):
    planted_world(now=NOW, audience=audience, regular=25, random_buyers=25)
    dressing, gloves, *_ = propensity_catalogue()
    single = OrderHistory(placer=placer())
    buyer = ({"organisation": organisations(1)[0]} if audience == Audience.ORGANISATIONS
             else {"consumer": consumers(1)[0]})
    single.add(**buyer, at=days_before(NOW, 3), lines=[(gloves, 2, "7.50")])
    single.write()

    with history_tables(audience=audience, until=NOW):
        derived = today_features(audience=audience, as_of=NOW, level=level)
        queried = snapshot_features(audience=audience, as_of=NOW, level=level, labelled=False)

    assert len(queried.buyers) > 50
    assert derived.buyers.tolist() == queried.buyers.tolist()
    assert derived.items.tolist() == queried.items.tolist()
    assert np.allclose(derived.X, queried.X, rtol=1e-5, atol=1e-4)
    assert derived.y is None


# --- the plan: a holdout strictly after every training label -------------------------------

def test_training_label_windows_end_before_the_holdout_starts():
    plan = plan_snapshots(now=NOW, first_order_at=NOW - timedelta(days=540))

    assert plan.holdout == NOW - timedelta(days=30)
    assert plan.training == [NOW - timedelta(days=30 + 30 * k) for k in range(1, 7)]
    assert max(plan.training) + timedelta(days=HORIZON_DAYS) <= plan.holdout
    assert plan.holdout + timedelta(days=HORIZON_DAYS) <= NOW


def test_training_snapshots_need_ninety_days_of_history():
    plan = plan_snapshots(now=NOW, first_order_at=NOW - timedelta(days=200))

    # now-60 has 140 days before it, now-90 has 110, now-120 only 80.
    assert plan.training == [NOW - timedelta(days=60), NOW - timedelta(days=90)]
    assert plan_snapshots(now=NOW, first_order_at=None).training == []


def test_the_training_reads_each_snapshot_as_planned_and_scores_as_of_now(monkeypatch):
    planted_world(now=NOW, regular=30, random_buyers=30)
    calls = []
    real = propensity.snapshot_features

    def spy(**kwargs):
        snap = real(**kwargs)
        calls.append((kwargs["as_of"], kwargs.get("labelled", True), kwargs.get("level")))
        return snap

    def today_spy(**kwargs):
        calls.append((kwargs["as_of"], False, kwargs.get("level")))
        return real_today(**kwargs)

    real_today = propensity.today_features
    monkeypatch.setattr(propensity, "snapshot_features", spy)
    monkeypatch.setattr(propensity, "today_features", today_spy)
    model = _model(train_and_score(now=NOW), Audience.ORGANISATIONS)

    labelled = [as_of for as_of, with_label, _ in calls if with_label]
    holdout = NOW - timedelta(days=30)
    training = [as_of for as_of in labelled if as_of != holdout]
    assert holdout in labelled and len(training) == 6
    assert all(as_of + timedelta(days=HORIZON_DAYS) <= holdout for as_of in training)
    assert model.cutoff == holdout.date()
    unlabelled = [(as_of, level) for as_of, with_label, level in calls if not with_label]
    assert unlabelled == ([(NOW, "category"), (NOW, "product")] if model.used else [])


# --- learning a planted rhythm; refusing noise ---------------------------------------------

@pytest.mark.parametrize("audience", [Audience.ORGANISATIONS, Audience.CONSUMERS])
def test_a_planted_reorder_rhythm_is_learned_and_beats_the_cadence_baseline(audience):
    world = planted_world(now=NOW, audience=audience)

    models = train_and_score(now=NOW)

    model, other = _model(models, audience), next(m for m in models if m.audience != audience)
    assert model.used, model.verdict
    assert model.auc > model.baseline_auc + 0.01
    assert model.verdict.endswith(": used.") and f"AUC {model.auc:.2f}" in model.verdict
    assert model.train_rows > model.holdout_rows > 0
    assert 0 < model.positive_rate < 1 and 0 <= model.brier < 0.25
    assert sum(row["count"] for row in model.calibration) == model.holdout_rows
    assert [f["name"] for f in model.features] == [name for name, _ in propensity.FEATURES]
    assert not other.used and not other.scores.exists()
    own = "organisation_id" if audience == Audience.ORGANISATIONS else "user_id"
    # The regular buyers reorder every 45 days: those who last ordered 20+ days ago are due
    # within the 30 days, those who ordered in the last 10 days are not.
    now = snapshot_features(audience=audience, as_of=NOW, labelled=False)
    since = {(b, i): x for b, i, x in zip(now.buyers.tolist(), now.items.tolist(),
                                          now.X[:, 0].tolist(), strict=True)}
    scores = {(b, c): p for b, c, p in model.scores.filter(product=None)
              .values_list(own, "category", "probability")}
    due, fresh = [], []
    for buyer_id, product in world.regular.items():
        key = (buyer_id, product.category_id)
        (due if since[key] >= 20 else fresh if since[key] <= 10 else []).append(scores[key])
    assert due and fresh
    assert np.mean(due) > 0.6 > 0.3 > np.mean(fresh)


def test_scores_keep_each_buyers_likeliest_categories_and_the_top_three_products(monkeypatch):
    world = planted_world(now=NOW, regular=40, random_buyers=40)
    # Four categories in this world: keep two per buyer so that the choice matters.
    monkeypatch.setattr(propensity, "TOP_CATEGORIES", 2)
    fitted = []
    real_fit = propensity._fit_best

    def spy(train, holdout):
        best = real_fit(train, holdout)
        fitted.append(best[1])
        return best

    monkeypatch.setattr(propensity, "_fit_best", spy)

    model = _model(train_and_score(now=NOW), Audience.ORGANISATIONS)

    assert model.used, model.verdict
    # The oracle: every pair the buyers ordered, scored by the fitted estimator, ranked per
    # buyer in plain Python; the two likeliest stay, and any other at 0.5 or more.
    snap = snapshot_features(audience=Audience.ORGANISATIONS, as_of=NOW, labelled=False)
    probability = fitted[0].predict_proba(snap.X)[:, 1].tolist()
    per_buyer = {}
    for buyer, category, p in zip(snap.buyers.tolist(), snap.items.tolist(), probability,
                                  strict=True):
        per_buyer.setdefault(buyer, []).append((p, category))
    expected = set()
    for buyer, scored in per_buyer.items():
        ranked = sorted(scored, key=lambda pair: -pair[0])
        expected |= {(buyer, c) for rank, (p, c) in enumerate(ranked) if rank < 2 or p >= 0.5}
    stored = set(model.scores.filter(product=None).values_list("organisation", "category"))
    assert stored == expected
    assert len(stored) < len(snap.buyers)  # some pairs were left out
    assert any(len(scored) > 2 for scored in per_buyer.values())
    products = model.scores.filter(category=None)
    assert products.exists()
    bought = {}
    for buyer, product in products.values_list("organisation", "product"):
        bought.setdefault(buyer, set()).add(product)
    assert max(len(p) for p in bought.values()) <= 3
    assert all(world.regular[b].pk in p for b, p in bought.items() if b in world.regular)


def test_keep_top_keeps_each_buyers_likeliest_pairs_and_any_above_the_floor():
    buyers = np.array([1, 1, 1, 1, 2, 2, 3])
    probability = np.array([0.1, 0.4, 0.3, 0.6, 0.2, 0.2, 0.05])

    keep = propensity.keep_top(buyers, probability, top=2, floor=0.5)

    # Buyer 1: 0.6 and 0.4 are the two likeliest; 0.3 and 0.1 are below the floor.
    # Buyer 2: a tie, both kept as two fit. Buyer 3: its one pair, however unlikely.
    assert keep.tolist() == [False, True, False, True, True, True, True]
    keep = propensity.keep_top(buyers, probability, top=1, floor=0.35)
    assert keep.tolist() == [False, True, False, True, True, False, True]
    assert propensity.keep_top(np.zeros(0, np.int64), np.zeros(0), top=5, floor=0.5).size == 0


def test_pure_noise_is_not_used_and_writes_no_scores():
    noise_world(now=NOW)

    model = _model(train_and_score(now=NOW), Audience.ORGANISATIONS)

    assert not model.used
    assert model.verdict.endswith("not used.")
    assert model.auc is not None and model.auc < 0.6
    assert not PropensityScore.objects.exists()


def test_the_same_history_gives_the_same_model_and_scores():
    planted_world(now=NOW, regular=30, random_buyers=30)

    first = _model(train_and_score(now=NOW), Audience.ORGANISATIONS)
    first_scores = list(first.scores.order_by("organisation", "category", "product")
                        .values_list("organisation", "category", "product", "probability"))
    second = _model(train_and_score(now=NOW), Audience.ORGANISATIONS)
    second_scores = list(second.scores.order_by("organisation", "category", "product")
                         .values_list("organisation", "category", "product", "probability"))

    assert (first.algorithm, first.auc, first.brier, first.calibration) == (
        second.algorithm, second.auc, second.brier, second.calibration)
    assert first_scores == second_scores and first_scores
    assert not first.scores.exists()  # the newer used model replaced them


# --- what happens to earlier scores --------------------------------------------------------

@pytest.mark.parametrize(("age_days", "kept"), [(30, True), (90, False)])
def test_a_failed_training_keeps_a_recent_used_models_scores_only(age_days, kept):
    dressing, *_ = propensity_catalogue()
    clinic, = organisations(1)
    previous = PropensityModel.objects.create(
        audience=Audience.ORGANISATIONS, algorithm="HistGradientBoostingClassifier",
        trained_at=NOW - timedelta(days=age_days), cutoff=NOW.date(), used=True,
    )
    PropensityScore.objects.create(model=previous, organisation=clinic,
                                   category=dressing.category, probability=0.7)

    models = train_and_score(now=NOW)  # no orders at all: nothing to learn from

    assert not any(m.used for m in models)
    assert "Not enough order history" in _model(models, Audience.ORGANISATIONS).verdict
    assert previous.scores.exists() is kept


def test_scores_go_with_their_model_buyer_and_category_though_the_database_checks_no_key():
    dressing, *_ = propensity_catalogue()
    clinic, other = organisations(2)
    model = PropensityModel.objects.create(
        audience=Audience.ORGANISATIONS, algorithm="LogisticRegression", trained_at=NOW,
        cutoff=NOW.date(), used=True,
    )
    for buyer in (clinic, other):
        PropensityScore.objects.create(model=model, organisation=buyer,
                                       category=dressing.category, probability=0.6)

    clinic.delete()
    assert list(PropensityScore.objects.values_list("organisation", flat=True)) == [other.pk]
    model.delete()
    assert not PropensityScore.objects.exists()


# --- the yardsticks ------------------------------------------------------------------------

def test_the_verdict_says_why_in_plain_words():
    assert judge(auc=0.81, baseline=0.74) == (
        True, "AUC 0.81 against the cadence baseline's 0.74: used.")
    assert judge(auc=0.745, baseline=0.74) == (
        False, "AUC 0.74 does not beat the baseline 0.74: not used.")
    assert judge(auc=0.53, baseline=0.40)[0] is False


def test_the_baseline_prefers_the_buyer_closest_to_its_usual_gap():
    X = np.zeros((3, len(propensity.FEATURES)), dtype=np.float32)
    X[:, 0] = [5, 28, 60]  # days since the item
    X[:, 3] = 30  # its usual gap
    assert baseline_scores(X).tolist() == [-25, -2, -30]


def test_the_calibration_table_bins_by_tenths_of_probability():
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.05, 0.15, 0.95, 0.12, 1.0])

    table = calibration_table(y, p)

    assert len(table) == 10
    assert table[0] == {"bin": "0.0–0.1", "predicted": 0.05, "observed": 0.0, "count": 1}
    assert table[1] == {"bin": "0.1–0.2", "predicted": 0.135, "observed": 0.5, "count": 2}
    assert table[9] == {"bin": "0.9–1.0", "predicted": 0.975, "observed": 1.0, "count": 2}
    assert table[5] == {"bin": "0.5–0.6", "predicted": None, "observed": None, "count": 0}


# --- cost ----------------------------------------------------------------------------------

def _queries_of_a_used_training(monkeypatch, *, buyers: int) -> int:
    planted_world(now=NOW, regular=buyers, random_buyers=buyers, seed=buyers)
    monkeypatch.setattr(propensity, "judge", lambda **_: (True, "used for the count"))
    with CaptureQueriesContext(connection) as queries:
        models = train_and_score(now=NOW)
    assert _model(models, Audience.ORGANISATIONS).scores.count() > buyers
    PropensityScore.objects.all().delete()
    return len(queries)


def test_the_queries_of_training_and_scoring_do_not_grow_with_the_buyers(monkeypatch):
    small = _queries_of_a_used_training(monkeypatch, buyers=10)
    large = _queries_of_a_used_training(monkeypatch, buyers=40)

    assert small == large


# --- the admin -----------------------------------------------------------------------------

def test_staff_read_the_holdout_figures_and_managers_see_only_their_buyers_scores(client):
    manager = UserFactory(is_staff=True)
    own, other = OrganisationFactory(account_manager=manager), OrganisationFactory()
    dressing, *_ = propensity_catalogue()
    model = PropensityModel.objects.create(
        audience=Audience.ORGANISATIONS, algorithm="HistGradientBoostingClassifier",
        trained_at=NOW, cutoff=NOW.date(), used=True, auc=0.81, baseline_auc=0.74,
        verdict="AUC 0.81 against the cadence baseline's 0.74: used.",
        calibration=calibration_table(np.array([0, 1]), np.array([0.05, 0.95])),
        features=[{"name": "due_ratio", "meaning": "Days since divided by the usual gap."}],
    )
    for organisation in (own, other):
        PropensityScore.objects.create(model=model, organisation=organisation,
                                       category=dressing.category, probability=0.8)

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(f"/admin/segments/propensitymodel/{model.pk}/change/").content.decode()
    listing = client.get("/admin/segments/propensitymodel/").content.decode()
    assert "0.9–1.0" in page and "95.0%" in page and "due_ratio" in page
    assert "the cadence baseline&#x27;s 0.74: used." in listing
    assert client.get("/admin/segments/propensityscore/?likelihood=high").status_code == 200

    client.force_login(manager)
    scores = client.get("/admin/segments/propensityscore/").content.decode()
    assert own.name in scores and other.name not in scores
