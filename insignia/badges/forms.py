"""The badge editor form. It only parses input; every rule is checked by ``badges.services``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms

from insignia.badges.designer import ICON_LABELS, ICONS, MAX_RIBBON, SHAPE_LABELS, SHAPES, Design
from insignia.badges.models import BadgeClass, ExpiryPolicy
from insignia.badges.services import ALIGNMENT_KEYS, MAX_ALIGNMENTS
from insignia.credentials.model.ob3 import ACHIEVEMENT_TYPES

#: Blank skill rows shown under the filled ones (more can be added after saving).
BLANK_ALIGNMENT_ROWS = 2
ACHIEVEMENT_TYPE_CHOICES = [("Badge", "Badge")] + [
    (t, t) for t in sorted(ACHIEVEMENT_TYPES - {"Badge"}, key=str.lower)
]


class ColourInput(forms.TextInput):
    input_type = "color"


class BadgeForm(forms.Form):
    issuer = forms.ChoiceField(label="Issuer", help_text="The issuer named on every award of this badge.")
    name = forms.CharField(label="Name", max_length=200)
    description = forms.CharField(label="Description", widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text="What the badge recognises, in a sentence or two.")
    criteria_narrative = forms.CharField(
        label="Criteria", required=False, widget=forms.Textarea(attrs={"rows": 6}),
        help_text="How the badge is earned. Markdown: **bold**, *italic*, lists, [links](https://…).")
    criteria_url = forms.CharField(label="Criteria page URL", required=False, max_length=500,
                                   widget=forms.URLInput(attrs={"placeholder": "https://"}),
                                   help_text="A page describing the criteria, if you have one.")
    achievement_type = forms.ChoiceField(label="Achievement type", choices=ACHIEVEMENT_TYPE_CHOICES,
                                         initial="Badge")
    level = forms.CharField(label="Level", required=False, max_length=64,
                            help_text="For example Beginner, Level 2 or Gold.")
    tags = forms.CharField(label="Tags", required=False, max_length=1500, help_text="Separate tags with commas.")
    expiry_policy = forms.ChoiceField(label="Awards expire", choices=ExpiryPolicy.choices,
                                      initial=ExpiryPolicy.NONE, widget=forms.RadioSelect)
    expiry_date = forms.DateField(label="Expiry date", required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    expiry_days = forms.IntegerField(label="Days after the award", required=False, min_value=1, max_value=36_500)
    evidence_required = forms.BooleanField(label="Evidence is required for every award", required=False)

    image_source = forms.ChoiceField(label="Image", widget=forms.RadioSelect, initial="design", choices=[
        ("design", "Design it here"), ("upload", "Upload a PNG or SVG")])
    image = forms.FileField(label="Image file", required=False,
                            help_text="PNG or SVG, square works best (512×512). Scripts and links are refused.",
                            widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/svg+xml"}))
    shape = forms.ChoiceField(label="Shape", choices=[(s, SHAPE_LABELS[s]) for s in SHAPES], initial="circle")
    primary = forms.CharField(label="Main colour", initial=Design.primary, max_length=7, widget=ColourInput)
    secondary = forms.CharField(label="Accent colour", initial=Design.secondary, max_length=7, widget=ColourInput)
    icon = forms.ChoiceField(label="Icon", required=False, initial="star",
                             choices=[(k, ICON_LABELS[k]) for k in ICONS] + [("", "No icon")])
    initials = forms.CharField(label="Initials", required=False, max_length=3,
                               help_text="1 to 3 letters; they replace the icon.")
    ribbon = forms.CharField(label="Ribbon text", required=False, max_length=MAX_RIBBON,
                             help_text=f"Up to {MAX_RIBBON} characters, e.g. a level or year.")

    def __init__(self, *args: Any, issuers: list[tuple[str, str]], editing: BadgeClass | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.fields["issuer"].choices = issuers
        if editing is not None and editing.achievement_type not in dict(ACHIEVEMENT_TYPE_CHOICES):
            self.fields["achievement_type"].choices = [*ACHIEVEMENT_TYPE_CHOICES,
                                                       (editing.achievement_type, editing.achievement_type)]
        if editing is not None:
            self.fields["image_source"].choices = [("keep", "Keep the current image"),
                                                   *self.fields["image_source"].choices]
            self.fields["image_source"].initial = "keep"
            if editing.status != "draft":
                self.fields["issuer"].disabled = True
                self.fields["issuer"].help_text = "The issuer of a published badge cannot change."
        self.alignment_rows: list[dict[str, str]] = []
        self.alignment_errors: dict[int, list[str]] = {}

    # -- alignments (repeated rows, parsed by hand) ------------------------------------------------------
    def load_alignments(self, data: Mapping[str, Any] | None, initial: list[dict[str, Any]]) -> None:
        """Rows from the POST (``alignment-<i>-<key>``) or the badge, plus blank rows to fill in."""
        rows: list[dict[str, str]] = []
        if data is not None:
            for index in range(MAX_ALIGNMENTS + BLANK_ALIGNMENT_ROWS):
                row = {key: str(data.get(f"alignment-{index}-{key}", "")).strip() for key in ALIGNMENT_KEYS}
                if any(row.values()):
                    rows.append(row)
        else:
            rows = [{key: str(item.get(key, "")) for key in ALIGNMENT_KEYS} for item in initial]
        self.alignment_rows = rows
        blanks = max(0, min(BLANK_ALIGNMENT_ROWS, MAX_ALIGNMENTS - len(rows)))
        self.alignment_display = [*rows, *(dict.fromkeys(ALIGNMENT_KEYS, "") for _ in range(blanks))]

    def alignment_items(self) -> list[tuple[int, dict[str, str], list[str]]]:
        return [(i, row, self.alignment_errors.get(i, [])) for i, row in enumerate(self.alignment_display)]

    # -- service arguments -------------------------------------------------------------------------------
    def badge_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = {key: data.get(key) for key in (
            "name", "description", "criteria_narrative", "criteria_url", "achievement_type", "level",
            "expiry_policy", "expiry_date", "expiry_days", "evidence_required")}
        fields["tags"] = [t for t in (data.get("tags") or "").split(",") if t.strip()]
        fields["alignments"] = self.alignment_rows
        if not self.fields["issuer"].disabled:
            fields["issuer"] = data["issuer"]
        return fields

    def design_params(self) -> dict[str, Any]:
        return {key: self.cleaned_data.get(key) or "" for key in ("shape", "primary", "secondary", "icon",
                                                                   "initials", "ribbon")}

    def add_service_error(self, field: str | None, message: str) -> None:
        """Put a service's message on the field it names (skill rows have their own list)."""
        if field and field.startswith("alignments."):
            parts = field.split(".")
            index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            if not self.alignment_errors:
                self.add_error(None, "Check the skills marked below.")
            self.alignment_errors.setdefault(index, []).append(message)
            return
        if field == "alignments":
            field = None
        self.add_error(field if field in self.fields else None, message)


def initial_for(badge: BadgeClass) -> dict[str, Any]:
    """The form's initial values for an existing badge."""
    design = {**Design().to_json(), **(badge.design or {})}
    return {
        "issuer": badge.issuer.public_id, "name": badge.name, "description": badge.description,
        "criteria_narrative": badge.criteria_narrative, "criteria_url": badge.criteria_url,
        "achievement_type": badge.achievement_type, "level": badge.level, "tags": ", ".join(badge.tags or []),
        "expiry_policy": badge.expiry_policy,
        "expiry_date": badge.expiry_date.date() if badge.expiry_date else None,
        "expiry_days": badge.expiry_days, "evidence_required": badge.evidence_required,
        "image_source": "keep", **design,
    }
