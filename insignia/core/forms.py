"""Forms for organisation pages. They only parse input; the rules live in ``core.services``."""

from __future__ import annotations

from django import forms

from insignia.core.models import Role


class OrganisationForm(forms.Form):
    name = forms.CharField(
        label="Organisation name", max_length=200,
        help_text="Shown on your badges and in the emails recipients receive.",
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )


class OrganisationSettingsForm(OrganisationForm):
    brand_colour = forms.CharField(
        label="Brand colour", max_length=7,
        help_text="A hex code such as #1d4ed8; used for buttons and accents on your organisation's pages.",
        widget=forms.TextInput(attrs={"type": "color", "class": "colour-input"}),
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email address", help_text="We send the invitation link here; it works for 7 days.",
                             widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.ISSUER,
                             help_text="Viewers see; issuers design and issue badges; admins also manage members; "
                                       "owners also manage owners.")

    def __init__(self, *args: object, can_own: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not can_own:
            self.fields["role"].choices = [c for c in Role.choices if c[0] != Role.OWNER]


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)
