"""Grafana dashboards as code (``python -m dashboards.generate``) and the Prometheus rules beside them.

The dashboards are built with the official Grafana Foundation SDK and written as JSON into
``dashboards/grafana/``; the recording and alerting rules live in ``dashboards/prometheus/``. Metric
names come from ``gateway/metrics/``; recording-rule names from ``dashboards/prometheus/recording.yml``.
"""
