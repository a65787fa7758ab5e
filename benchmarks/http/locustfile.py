"""Locust users of ``bench_http``: BENCH_TARGET=submit posts online dossier submissions through
the REST API (each user with its own citizen token); BENCH_TARGET=bare posts to the bare view."""

import itertools
import json
import os
import random

from locust import FastHttpUser, constant, task

TARGET = os.environ["BENCH_TARGET"]
TOKENS = json.loads(os.environ.get("BENCH_TOKENS", "[]"))
CENTRES = json.loads(os.environ.get("BENCH_CENTRES", "[]"))
PROCEDURE = os.environ.get("BENCH_PROCEDURE", "")
DOCUMENTS = json.loads(os.environ.get("BENCH_DOCUMENTS", "[]"))
_numbers = itertools.count()


class Client(FastHttpUser):
    wait_time = constant(0)  # closed loop: each of the users sends its next request at once

    def on_start(self):
        n = next(_numbers)
        self.token = TOKENS[n % len(TOKENS)] if TOKENS else ""
        self.rng = random.Random(n)

    @task
    def send(self):
        if TARGET == "bare":
            self.client.post("/bench/bare/", name="bare")
            return
        self.client.post(
            "/api/v1/dossiers/",
            json={
                "procedure": PROCEDURE,
                "centre": self.rng.choice(CENTRES),
                "document_names": DOCUMENTS,
            },
            headers={"Authorization": f"Token {self.token}"},
            name="submit",
        )
