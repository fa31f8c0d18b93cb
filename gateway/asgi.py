"""The ASGI entry point for ``serve``: builds the app from ``GATEWAY_*`` variables, in each worker."""

from __future__ import annotations

from gateway.api.chat import ChatFastPath
from gateway.app import build_state, create_app
from gateway.logging import configure_logging
from gateway.runtime import tune_gc
from gateway.settings import ConfigError, Settings, load_config


def create_from_env() -> ChatFastPath:
    """The app a worker process serves; the only place besides the CLI that reads the environment."""
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    if settings.config is None:
        raise ConfigError("GATEWAY_CONFIG is not set: point it at the YAML file (see examples/gateway.yaml)")
    config = load_config(settings.config)
    if settings.redis_url:
        config = config.model_copy(update={"redis_url": settings.redis_url})
    # The collector is tuned in a serving process only: tests build many apps in one process.
    return create_app(build_state(settings, config), on_startup=[tune_gc])
