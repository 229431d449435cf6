from django.apps import AppConfig


class AwardsConfig(AppConfig):
    name = "insignia.awards"
    label = "awards"
    verbose_name = "Awards"

    def ready(self) -> None:
        from insignia.awards import expiry
        from insignia.site import jobs

        jobs.register_periodic(expiry.PERIODIC_NAME, expiry.sweep_interval(), expiry.run_periodic_sweep)
