from django.apps import AppConfig


class BackpackConfig(AppConfig):
    name = "insignia.backpack"
    label = "backpack"
    verbose_name = "Backpack (the earner's wallet)"
