"""Benchmark-only server pieces for ``bench_http``: a settings module that adds the bare view
beside the product's URLs. Never imported by the product (portal.settings / portal.urls)."""
