"""Optional integrations: ``faust.contrib.opentelemetry`` (tracing, the ``otel`` extra)."""
