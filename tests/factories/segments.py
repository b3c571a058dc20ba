import factory

from segments.models import Segment, SegmentCondition, SegmentKind, SegmentMembership


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    code = factory.Sequence(lambda n: f"segment-{n}")
    name = factory.Sequence(lambda n: f"Segment {n}")
    kind = SegmentKind.STATIC


class SegmentConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SegmentCondition

    segment = factory.SubFactory(SegmentFactory, kind=SegmentKind.RULE)
    field = "kind"
    operator = "is"
    value = "nhs_trust"


class SegmentMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SegmentMembership

    segment = factory.SubFactory(SegmentFactory)
