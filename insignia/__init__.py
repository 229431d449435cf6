"""Insignia: an open-source platform for Open Badges 2.0 and 3.0 credentials."""

__version__ = "0.1.0"
