"""People: sign-up, login and email verification (django-allauth), with email as the identity."""
