from django.apps import AppConfig


class BulkConfig(AppConfig):
    name = "insignia.bulk"
    label = "bulk"
    verbose_name = "Bulk issuing"

    def ready(self) -> None:
        from insignia.bulk import services
        from insignia.site import jobs

        jobs.register(services.JOB_KIND, services.run_bulk_issue, resume=services.unfinished_jobs)
