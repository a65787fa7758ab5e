"""A record of each simulation run, so a later command (``calibration``) can tell which
scenario, seed and scale produced the data in the database."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SimulationRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        COMPLETE = "complete", _("complete")
        FAILED = "failed", _("failed")

    scenario = models.CharField(_("scenario"), max_length=100)
    scenario_sha256 = models.CharField(_("scenario file hash"), max_length=64, blank=True)
    seed = models.BigIntegerField(_("seed"))
    scale = models.FloatField(_("scale"))
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    provinces = models.JSONField(_("provinces"), default=list)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    counts = models.JSONField(_("rows written"), default=dict, blank=True)
    indexed = models.BooleanField(_("index computed"), default=False)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("simulation run")
        verbose_name_plural = _("simulation runs")

    def __str__(self):
        return f"{self.scenario} seed {self.seed} ×{self.scale} {self.date_from}..{self.date_to}"
