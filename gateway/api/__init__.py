"""HTTP routes: chat, models, health, metrics. Handlers are thin: they translate HTTP to the proxy."""
