"""Output shapes of the index API (documented in the OpenAPI schema). Views build plain dicts
from ``scoring.pages`` rows; these serializers render and document them."""

from rest_framework import serializers

from scoring.pages import WINDOWS


class ColumnSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="Column key of the methodology's display layout.")
    name = serializers.CharField()
    max = serializers.DecimalField(max_digits=5, decimal_places=2, source="maximum")


class ChangeSerializer(serializers.Serializer):
    score = serializers.DecimalField(max_digits=6, decimal_places=2)
    places = serializers.IntegerField(
        allow_null=True, help_text="Places gained (positive) or lost (negative)."
    )


class RankingRowSerializer(serializers.Serializer):
    unit = serializers.CharField(help_text='Unit key: "42" province, "P42" centre, "C18073".')
    kind = serializers.CharField()
    province = serializers.CharField()
    name = serializers.CharField()
    rank = serializers.IntegerField(allow_null=True)
    rank_of = serializers.IntegerField(allow_null=True)
    total = serializers.DecimalField(max_digits=5, decimal_places=2)
    groups = serializers.DictField(
        child=serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    )
    group_ranks = serializers.DictField(child=serializers.IntegerField())
    change_day = ChangeSerializer(allow_null=True, help_text="Since the previous day.")
    change_week = ChangeSerializer(allow_null=True, help_text="Since seven days before.")


class SelectionSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="Snapshot date, or the last day of a custom range.")
    window = serializers.ChoiceField(choices=[k for k, _ in WINDOWS])
    window_from = serializers.DateField(help_text="First day of the window.")
    methodology = serializers.CharField()


class RankingPageSerializer(SelectionSerializer):
    scope = serializers.CharField(help_text='"nation", or the province code ranked within.')
    columns = ColumnSerializer(many=True)
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RankingRowSerializer(many=True)


class IndicatorSerializer(serializers.Serializer):
    numerator = serializers.IntegerField(allow_null=True)
    denominator = serializers.IntegerField(allow_null=True)
    ratio = serializers.DecimalField(
        max_digits=7, decimal_places=2, allow_null=True, help_text="Percent, 2 decimals."
    )
    score = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    max = serializers.DecimalField(max_digits=5, decimal_places=2)
    group = serializers.CharField(help_text="Display column the indicator belongs to.")


class ScoreSerializer(SelectionSerializer):
    total = serializers.DecimalField(max_digits=5, decimal_places=2)
    rank = serializers.IntegerField(allow_null=True)
    rank_of = serializers.IntegerField(allow_null=True)
    groups = serializers.DictField(
        child=serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    )
    group_ranks = serializers.DictField(child=serializers.IntegerField())
    indicators = serializers.DictField(child=IndicatorSerializer())


class UnitScoresPageSerializer(serializers.Serializer):
    unit = serializers.CharField()
    kind = serializers.CharField()
    province = serializers.CharField()
    name = serializers.CharField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ScoreSerializer(many=True)
