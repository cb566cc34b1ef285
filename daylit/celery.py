import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "daylit.settings")

app = Celery("daylit")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def close_old_database_connections(task=None, **kwargs) -> None:
    """Around each task, what Django does around each request: close connections past CONN_MAX_AGE or
    unusable after an error (CELERY_DB_REUSE_MAX keeps Celery from closing them all). Not for eager
    runs: inline, the caller's connection (and its transaction) is the one in use."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
