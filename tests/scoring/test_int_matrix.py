"""``int_matrix``: integer query results as a numpy matrix (binary COPY on PostgreSQL)."""

import numpy as np
import pytest

from scoring.counts import int_matrix

pytestmark = pytest.mark.django_db

VALUES = """
    SELECT a, b, c FROM (
        SELECT CAST(1 AS smallint) AS a, CAST(-2 AS integer) AS b, CAST(3000000000 AS bigint) AS c
        UNION ALL
        SELECT CAST(-4 AS smallint), CAST(2147483647 AS integer), CAST(-1 AS bigint)
    ) t WHERE a > %s
"""


def test_mixed_integer_widths_come_back_exactly():
    data = int_matrix(VALUES, [-10], columns=3)
    assert data.dtype == np.int64
    assert data.tolist() == [[1, -2, 3_000_000_000], [-4, 2_147_483_647, -1]]


def test_an_empty_result_is_an_empty_matrix():
    assert int_matrix(VALUES, [10], columns=3).shape == (0, 3)


def test_a_null_is_refused_with_a_message():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the binary reader is PostgreSQL's")
    with pytest.raises(ValueError, match="non-null integer columns"):
        int_matrix("SELECT 1, CAST(NULL AS integer)", [], columns=2)
