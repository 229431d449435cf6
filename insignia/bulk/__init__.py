"""Bulk issuing from a CSV file: a dry-run preview, then a resumable background job."""
