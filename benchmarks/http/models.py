from django.db import models

TABLE = "bench_bare_row"
CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} "
    "(id bigserial PRIMARY KEY, at timestamptz NOT NULL, note varchar(100) NOT NULL)"
)


class BareRow(models.Model):
    """The limit's row: one insert through the ORM (table created by the benchmark itself)."""

    at = models.DateTimeField()
    note = models.CharField(max_length=100)

    class Meta:
        app_label = "bench_http"
        managed = False
        db_table = TABLE
