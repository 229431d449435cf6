"""Forms for the award pages: they parse input; the services decide what is allowed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from insignia.awards.evidence import EvidenceUpload, check_evidence_size
from insignia.awards.models import RecipientKind
from insignia.awards.queries import STATUS_FILTERS
from insignia.awards.services import MAX_NAME, MAX_NARRATIVE, MAX_REASON, EvidenceItem
from insignia.core.errors import ServiceError


class IssueForm(forms.Form):
    recipient_kind = forms.ChoiceField(label="Recipient identified by", choices=RecipientKind.choices,
                                       initial=RecipientKind.EMAIL)
    recipient = forms.CharField(
        label="Recipient", max_length=320,
        help_text="An email address, a web address (https://…), a phone number in international form (+44…) "
                  "or a DID (did:…). Only a salted hash of it goes into the credential.",
    )
    recipient_name = forms.CharField(label="Recipient's name", max_length=MAX_NAME, required=False,
                                     help_text="Shown on the public badge page; not put in the credential.")
    evidence_url = forms.CharField(label="Evidence URL", max_length=2000, required=False,
                                   help_text="A link to the work that earned the badge.")
    evidence_narrative = forms.CharField(label="Evidence description", max_length=MAX_NARRATIVE, required=False,
                                         widget=forms.Textarea(attrs={"rows": 3}))
    evidence_file = forms.FileField(
        label="Evidence file", required=False, max_length=1000,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,.txt,application/pdf,image/png,"
                                                         "image/jpeg,text/plain"}),
        help_text="A PDF, PNG, JPEG or plain-text file. It is published with the credential as a download.",
    )
    issued_on = forms.DateField(label="Award date", required=False,
                                widget=forms.DateInput(attrs={"type": "date"}),
                                help_text="Leave empty for now.")

    def clean_evidence_file(self) -> Any:
        """Refuse an oversized file before it is read (its content is checked by the service)."""
        upload = self.cleaned_data.get("evidence_file")
        if upload and upload.size is not None:
            try:
                check_evidence_size(upload.size)
            except ServiceError as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from None
        return upload

    def issue_arguments(self) -> dict[str, object]:
        """The service arguments for the cleaned form."""
        data = self.cleaned_data
        evidence = [EvidenceItem(url=data["evidence_url"], narrative=data["evidence_narrative"])]
        uploaded = data.get("evidence_file")
        evidence_file = None
        if uploaded:
            uploaded.seek(0)
            evidence_file = EvidenceUpload(content=uploaded.read(), filename=uploaded.name or "",
                                           content_type=uploaded.content_type or "")
        day = data.get("issued_on")
        issued_on = None
        if day is not None and day != timezone.localdate():
            issued_on = timezone.make_aware(datetime.combine(day, time.min))
        return {"recipient_kind": data["recipient_kind"], "recipient": data["recipient"],
                "recipient_name": data["recipient_name"], "evidence": evidence, "evidence_file": evidence_file,
                "issued_on": issued_on}


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=MAX_REASON, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Recorded in the audit log and shown on the public badge page.")


SELECTED = mark_safe(" selected")


class PlainSelect(forms.Select):
    """A ``<select>`` written out directly instead of through Django's widget templates (one template render per
    option): the badge filter lists every badge of the organisation on every page of the award list. The same
    markup as :class:`~django.forms.Select` for flat choices; option groups fall back to Django's rendering."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        chosen = set(self.format_value(value))
        options: list[tuple[str, str, Any]] = []
        selected_one = False
        for choice, label in self.choices:
            if isinstance(label, (list, tuple)):
                return super().render(name, value, attrs, renderer)
            key = "" if choice is None else str(choice)
            selected = key in chosen and (self.allow_multiple_selected or not selected_one)
            selected_one = selected_one or selected
            options.append((key, SELECTED if selected else "", label))
        final = {"name": name, **self.build_attrs(self.attrs, attrs)}
        return format_html("<select{}>\n{}\n</select>", flatatt(final),
                           format_html_join("\n", '<option value="{}"{}>{}</option>', options))


class AwardFilterForm(forms.Form):
    q = forms.CharField(label="Recipient", required=False, max_length=320)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *((s, s.title()) for s in STATUS_FILTERS)])
    badge = forms.ChoiceField(required=False, choices=[("", "Any badge")], widget=PlainSelect)

    def __init__(self, *args: Any, badges: Iterable[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["badge"].choices = [("", "Any badge"), *badges]  # type: ignore[attr-defined]
