"""The Celery application: queues `dispatch`, `notifications` and `default`; beat from the database."""

import os

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loship.settings")

app = Celery("loship")
app.config_from_object("django.conf:settings", namespace="CELERY")
QUEUES = ("default", "dispatch", "notifications")
app.conf.task_queues = tuple(Queue(name, Exchange(name), routing_key=name) for name in QUEUES)
app.autodiscover_tasks()
