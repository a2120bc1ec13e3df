"""Forms of the fraud review pages: the queue's filters and decisions, flags, settings, a partner's reply."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import Workspace
from attribution.fraud.settings import Rules
from attribution.fraud.signals import SIGNALS
from partners.models import Partner, Program


class ReviewFilterForm(forms.Form):
    program = forms.ModelChoiceField(
        label="Program", required=False, queryset=Program.objects.none(), empty_label="Any program"
    )
    partner = forms.ModelChoiceField(
        label="Partner", required=False, queryset=Partner.objects.none(), empty_label="Any partner"
    )
    min_score = forms.IntegerField(label="Score at least", required=False, min_value=0, max_value=100)
    replied = forms.ChoiceField(
        label="Partner's explanation",
        required=False,
        choices=[("", "Either"), ("yes", "Explained"), ("no", "Not explained yet")],
    )

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = Program.objects.for_workspace(workspace).order_by("name")  # type: ignore[attr-defined]
        self.fields["partner"].queryset = Partner.objects.for_workspace(workspace).order_by("name")  # type: ignore[attr-defined]


class ReviewDecisionForm(forms.Form):
    ACTIONS = [("clear", "Clear"), ("reject", "Reject")]

    action = forms.ChoiceField(label="Decision", choices=ACTIONS)
    ids = forms.TypedMultipleChoiceField(label="Commissions", coerce=int, choices=[])
    reason = forms.CharField(label="Reason (shown to the partner when rejected)", required=False, max_length=1000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any id may be submitted; the services only touch the workspace's own held rows.
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else self.data.get("ids", [])
        self.fields["ids"].choices = [(value, value) for value in raw if str(value).isdigit()]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("action") == "reject" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Tell the partner why; they will see this reason.")
        return data


class FlagForm(forms.Form):
    partner = forms.ModelChoiceField(label="Partner", queryset=Partner.objects.none(), empty_label="Choose a partner")
    reason = forms.CharField(label="Why (for your team)", required=False, max_length=1000)

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = Partner.objects.for_workspace(workspace).order_by("name")  # type: ignore[attr-defined]


class ReplyForm(forms.Form):
    message = forms.CharField(
        label="Your explanation",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="You can explain once. The team reads it before deciding.",
    )


class FraudSettingsForm(forms.Form):
    """The review threshold, then a weight (and a threshold where the signal has one) per signal."""

    review_threshold = forms.IntegerField(
        label="Hold commissions scoring at least",
        min_value=1,
        max_value=100,
        help_text="Out of 100. Held commissions wait for your review instead of being approved when the hold ends.",
    )

    def __init__(self, *args: Any, rules: Rules, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("review_threshold", rules.review_threshold)
        for key, signal in SIGNALS.items():
            self.fields[f"weight_{key}"] = forms.IntegerField(
                label=f"{signal.label}: points", min_value=0, max_value=100, help_text=signal.help
            )
            self.initial.setdefault(f"weight_{key}", rules.weights[key])
            if signal.threshold is not None:
                self.fields[f"threshold_{key}"] = forms.FloatField(
                    label=f"{signal.label}: {signal.threshold_label}",
                    min_value=0,
                    max_value=1_000_000,
                    help_text=signal.threshold_label,
                )
                self.initial.setdefault(f"threshold_{key}", rules.thresholds[key])

    def signal_rows(self) -> list[tuple[forms.BoundField, forms.BoundField | None]]:
        return [
            (self[f"weight_{key}"], self[f"threshold_{key}"] if f"threshold_{key}" in self.fields else None)
            for key in SIGNALS
        ]

    def weights(self) -> dict[str, int]:
        return {key: self.cleaned_data[f"weight_{key}"] for key in SIGNALS}

    def thresholds(self) -> dict[str, float]:
        return {
            key: self.cleaned_data[f"threshold_{key}"] for key in SIGNALS if f"threshold_{key}" in self.cleaned_data
        }
