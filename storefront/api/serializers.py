"""Shared serializer pieces: money as exact decimal strings; input naming only known fields."""

from rest_framework import serializers


class Money(serializers.DecimalField):
    """A Decimal rendered exactly as the engine computed it (a string, never a float)."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=None, decimal_places=None, **kwargs)


class StrictInput(serializers.Serializer):
    """Input that names an unknown field is refused, so a client can never believe it set a
    price, an organisation or a status that the server ignored."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field: the server decides this."] for name in unknown}
                )
        return super().to_internal_value(data)
