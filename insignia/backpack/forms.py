"""Wallet forms: parse input only; the rules live in ``services``."""

from __future__ import annotations

from typing import Any

from django import forms

from insignia.awards.models import Visibility
from insignia.backpack.models import Collection
from insignia.backpack.queries import STATUS_FILTERS

STATUS_LABELS = {"pending": "Pending", "active": "Active", "expired": "Expired", "suspended": "Suspended",
                 "revoked": "Revoked", "declined": "Declined", "unverified": "Not verified"}
ORIGIN_CHOICES = [("", "Anywhere"), ("insignia", "Issued here"), ("imported", "Imported (any way)"),
                  ("url", "Imported from a URL"), ("file", "Imported from an image"), ("json", "Imported as JSON"),
                  ("jwt", "Imported as a JWT")]
VISIBILITY_HELP = {
    Visibility.UNLISTED: "Only people with the link can open the page; search engines are asked not to index it.",
    Visibility.PUBLIC: "Listed on your portfolio and open to search engines.",
    Visibility.HIDDEN: "The page says only that a valid credential exists. The file you share still verifies.",
}


class WalletFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Badge or issuer"}))
    status = forms.ChoiceField(label="Status", required=False,
                               choices=[("", "Any status"), *[(s, STATUS_LABELS[s]) for s in STATUS_FILTERS]])
    collection = forms.ChoiceField(label="Collection", required=False, choices=[("", "Any collection")])
    origin = forms.ChoiceField(label="Origin", required=False, choices=ORIGIN_CHOICES)

    def __init__(self, *args: Any, collections: list[Collection] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["collection"].choices = [("", "Any collection"), *[(c.public_id, c.name) for c in collections]]


class VisibilityForm(forms.Form):
    visibility = forms.ChoiceField(label="Who can see this badge's page", choices=Visibility.choices,
                                   widget=forms.RadioSelect)
    show_recipient_name = forms.BooleanField(label="Show my name on the badge's page", required=False)


class CollectionForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    description = forms.CharField(label="Description", required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    visibility = forms.ChoiceField(label="Who can see it", choices=Visibility.choices, initial=Visibility.UNLISTED,
                                   help_text="Unlisted: anyone with the link. Public: also listed on your portfolio. "
                                             "Hidden: only you.")


class AddToCollectionForm(forms.Form):
    collection = forms.ChoiceField(label="Add to collection", choices=())

    def __init__(self, *args: Any, collections: list[Collection] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["collection"].choices = [(c.public_id, c.name) for c in collections]


class IdentityForm(forms.Form):
    kind = forms.ChoiceField(label="Type", choices=[("url", "Web address"), ("did", "DID")])
    value = forms.CharField(label="Web address or DID", max_length=320,
                            help_text="For example https://ada.example/about or did:key:z6Mk…")


class DidProofForm(forms.Form):
    jws = forms.CharField(label="Signed code (compact JWS)", max_length=20000,
                          widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"}),
                          help_text="Sign the code shown above with a key your DID document lists under "
                                    "authentication or assertionMethod; put that key's id in the JWS header "
                                    "as kid.")


class ProfileForm(forms.Form):
    display_name = forms.CharField(label="Name shown on your portfolio", required=False, max_length=200)
    headline = forms.CharField(label="Headline", required=False, max_length=300,
                               help_text="One line, for example “Data steward at Acme Research”.")
    portfolio_enabled = forms.BooleanField(label="Turn on my public portfolio page", required=False)


class DeleteAccountForm(forms.Form):
    password = forms.CharField(label="Your password", required=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    confirm_email = forms.CharField(label="Type your email address to confirm", required=False, max_length=320)

    def __init__(self, *args: Any, has_password: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["confirm_email" if has_password else "password"]
