from django.apps import AppConfig


class AwardsConfig(AppConfig):
    name = "insignia.awards"
    label = "awards"
    verbose_name = "Awards"
