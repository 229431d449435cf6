"""The upload form: it only carries the file; the service reads and judges it."""

from __future__ import annotations

from django import forms

from insignia.bulk import csvparse


class BulkUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(f"UTF-8 (“CSV UTF-8” in Excel), comma-, semicolon- or tab-separated, up to "
                   f"{csvparse.MAX_BULK_BYTES // 1_048_576} MB and {csvparse.MAX_BULK_ROWS:,} rows."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size is not None and upload.size > csvparse.MAX_BULK_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1_048_576:.1f} MB; the limit is "
                f"{csvparse.MAX_BULK_BYTES // 1_048_576} MB. Split it into smaller files.")
        return upload
