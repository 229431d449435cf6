from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "insignia.notifications"
    label = "notifications"
    verbose_name = "Notifications"
