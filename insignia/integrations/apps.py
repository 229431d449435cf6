from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "insignia.integrations"
    label = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from insignia.integrations import delivery
        from insignia.site import jobs

        jobs.register(delivery.JOB_KIND, delivery.run_delivery_job, resume=delivery.pending_jobs)
