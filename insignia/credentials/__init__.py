"""The Insignia standards kernel: Open Badges 2.0/3.0, VC 2.0, Data Integrity, baking, verification.

Framework-free: nothing here imports Django. I/O happens only through objects the caller passes in.
"""

from insignia.credentials.errors import CredentialError

__all__ = ["CredentialError"]
