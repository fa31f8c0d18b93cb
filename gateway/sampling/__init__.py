"""Online scoring: sample live answers off the hot path, queue them, score them, keep the results.

``sink`` (on the request path) → ``queue`` (``memory`` or ``redis_stream``) → ``worker`` (the
``scoring`` library's scorers, the judge behind ``judge``) → ``results`` (A/B moments and the last
scored samples). ``redact`` strips personal data before anything is stored; ``request_index`` and
``feedback`` attribute user ratings; ``factory`` picks the homes once from the config.
"""
