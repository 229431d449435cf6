"""The verify form: one file, or one pasted link/JSON/JWT, and optionally the recipient to check."""

from __future__ import annotations

from django import forms


class VerifyForm(forms.Form):
    file = forms.FileField(
        label="Badge file", required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".png,.svg,.json,.jwt,.jws,.txt,image/png,image/svg+xml,"
                                                         "application/json,application/ld+json,text/plain"}),
        help_text="A badge image with the credential inside (PNG or SVG), credential JSON, or a JWT.",
    )
    text = forms.CharField(
        label="Or paste a link, JSON or JWT", required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocapitalize": "off",
                                     "placeholder": "https://… or {\"@context\": …} or eyJ…"}),
        help_text="The badge's link (for example its page or assertion URL), the credential's JSON, or its JWT.",
    )
    recipient = forms.CharField(
        label="Awarded to", required=False, max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"}),
        help_text="The email address or web address you were told the badge belongs to: we check it was "
                  "really awarded to it. Nothing you type is stored.",
    )
