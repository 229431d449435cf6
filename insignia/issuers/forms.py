"""Forms for the issuer pages: they parse input; the services decide what is allowed."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from insignia.issuers.identity import DID_METHOD_TRADE_OFF
from insignia.issuers.models import DidMethod
from insignia.issuers.services import MAX_DESCRIPTION


class IssuerForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="How earners and verifiers will see the issuer.")
    url = forms.URLField(
        label="Website", max_length=500, assume_scheme="https",
        help_text="The issuer's own website, e.g. https://example.org.",
    )
    email = forms.EmailField(label="Contact email", help_text="Published in the issuer's profile.")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=MAX_DESCRIPTION,
        help_text="A sentence or two about who issues these badges.",
    )


class IssuerCreateForm(IssuerForm):
    """Creation also picks the DID method, which cannot change afterwards (issued credentials name the DID)."""

    did_method = forms.ChoiceField(
        label="Signing identity (Open Badges 3.0)", choices=DidMethod.choices, initial=DidMethod.WEB,
        widget=forms.RadioSelect, help_text=DID_METHOD_TRADE_OFF, required=False,
    )

    def clean_did_method(self) -> str:
        """did:web unless did:key is chosen (the radio starts on did:web; a form without it means did:web)."""
        return self.cleaned_data.get("did_method") or DidMethod.WEB


class IssuerImageForm(forms.Form):
    image = forms.FileField(
        help_text="A PNG or SVG logo. SVGs with scripts or external references are refused.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/svg+xml,.png,.svg"}),
    )

    def clean_image(self) -> UploadedFile:
        image: UploadedFile = self.cleaned_data["image"]
        limit = settings.MAX_UPLOAD_BYTES
        if image.size is not None and image.size > limit:
            raise forms.ValidationError(
                f"The file is {image.size:,} bytes; the limit is {limit:,} bytes. Upload a smaller image."
            )
        return image


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand: new credentials will be signed with new keys; the old keys stay published.",
        error_messages={"required": "Tick the box to confirm the rotation."},
    )
