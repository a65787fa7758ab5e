"""Store the periodic tasks defined in code (every app's ``tasks.BEAT_SCHEDULE``) in
django-celery-beat, so they show and can be edited in admin. Idempotent: a second run changes
nothing; schedules edited in admin are kept unless ``--reset``."""

from __future__ import annotations

import json
from datetime import timedelta

from celery.schedules import crontab, schedule
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from scoring.tasks import beat_schedules


def _schedule_fields(entry_schedule) -> dict:
    if isinstance(entry_schedule, int | float):
        entry_schedule = timedelta(seconds=entry_schedule)
    if isinstance(entry_schedule, timedelta):
        entry_schedule = schedule(entry_schedule)
    if isinstance(entry_schedule, crontab):
        tab = CrontabSchedule.from_schedule(entry_schedule)
        tab.timezone = settings.CELERY_TIMEZONE
        found = CrontabSchedule.objects.filter(
            minute=tab.minute,
            hour=tab.hour,
            day_of_week=tab.day_of_week,
            day_of_month=tab.day_of_month,
            month_of_year=tab.month_of_year,
            timezone=tab.timezone,
        ).first()
        if found is None:
            tab.save()
            found = tab
        return {"crontab": found, "interval": None}
    if isinstance(entry_schedule, schedule):
        seconds = int(entry_schedule.run_every.total_seconds())
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=seconds, period=IntervalSchedule.SECONDS
        )
        return {"interval": interval, "crontab": None}
    raise CommandError(f"unsupported schedule {entry_schedule!r}")


class Command(BaseCommand):
    help = "Store the periodic tasks defined in code in django-celery-beat (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset", action="store_true", help="overwrite schedules edited in admin"
        )

    @transaction.atomic
    def handle(self, *args, reset, **options):
        created = updated = kept = 0
        for name, entry in sorted(beat_schedules().items()):
            options_ = dict(entry.get("options") or {})
            fields = {
                "task": entry["task"],
                "args": json.dumps(list(entry.get("args", ()))),
                "kwargs": json.dumps(dict(entry.get("kwargs", {}))),
                "description": entry.get("description", ""),
                "expire_seconds": options_.get("expires"),
                "queue": options_.get("queue"),
            }
            task = PeriodicTask.objects.filter(name=name).first()
            if task is None:
                PeriodicTask.objects.create(
                    name=name, **fields, **_schedule_fields(entry["schedule"])
                )
                created += 1
                continue
            if reset:
                fields |= _schedule_fields(entry["schedule"])
            changed = {k: v for k, v in fields.items() if getattr(task, k) != v}
            if changed:
                for key, value in changed.items():
                    setattr(task, key, value)
                task.save()
                updated += 1
            else:
                kept += 1
        self.stdout.write(f"periodic tasks: {created} created, {updated} updated, {kept} unchanged")
