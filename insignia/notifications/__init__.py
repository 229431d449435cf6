"""Emails to recipients: the award email with its claim link, reminders, and the opt-out list."""
