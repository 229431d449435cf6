from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "insignia.accounts"
    label = "accounts"
    verbose_name = "Accounts"
