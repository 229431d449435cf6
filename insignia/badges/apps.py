from django.apps import AppConfig


class BadgesConfig(AppConfig):
    name = "insignia.badges"
    label = "badges"
    verbose_name = "Badges"
