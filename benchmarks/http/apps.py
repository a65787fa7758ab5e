from django.apps import AppConfig


class BenchHttpConfig(AppConfig):
    name = "benchmarks.http"
    label = "bench_http"
    default_auto_field = "django.db.models.BigAutoField"
