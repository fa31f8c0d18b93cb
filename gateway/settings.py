"""Typed configuration: the YAML file (upstreams, agents, prices) and the process settings around it.

The YAML file is read once at start and validated by pydantic; a bad file fails with the path of
the bad field. Strings in it may name environment variables as ``${NAME}`` or ``${NAME:-default}``,
so one file serves a laptop, CI and production. Process settings (where the file is, Redis, the
listen address) come from ``GATEWAY_*`` environment variables and override the file.
"""

from __future__ import annotations

import itertools
import os
import re
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from urllib.parse import SplitResult, urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from scoring.composite import ScoringConfig
from scoring.scorers.judge import JudgeConfig

Variant = Literal["candidate", "baseline"]
VARIANTS: tuple[Variant, ...] = ("candidate", "baseline")

DEFAULT_REDIS_PREFIX = "genesis:"

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_AGENT_NAME = re.compile(r"^[a-z][a-z0-9_\-]{0,62}$")


def split_proxy_url(url: str) -> SplitResult:
    """``url`` split, when it is an ``http://[user:pass@]host:port`` proxy URL; else a ``ValueError``
    showing it without its password (the config check and ``gateway.upstream.pool.Proxy`` share it)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme.lower() != "http" or not parts.hostname or port is None:
        shown = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()  # never the password
        raise ValueError(f"a proxy must be an http://[user:pass@]host:port URL, not {shown!r}")
    return parts


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file and the bad field."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class UpstreamKind(StrEnum):
    MISTRAL = "mistral"
    OPENAI = "openai"
    SIMULATED = "simulated"


class SimulatorConfig(_Frozen):
    """How the built-in simulator behaves: pace and failure injection, for demos and benchmarks."""

    first_token_ms: float = Field(default=40.0, ge=0)
    """Delay before the first byte (non-streaming: before the whole answer)."""
    tokens_per_second: float = Field(default=400.0, gt=0)
    """Streaming pace after the first token."""
    error_rate: float = Field(default=0.0, ge=0, le=1)
    """Share of requests answered with a 503, to exercise retries, fallbacks and alerts."""
    seed: int = 0
    """Seed of the failure injection, so a demo run is repeatable."""


class UpstreamConfig(_Frozen):
    """One upstream server and how to reach it."""

    kind: UpstreamKind
    base_url: str | None = None
    """Root URL without ``/v1`` (``https://api.mistral.ai``, ``http://vllm:8000``)."""
    api_key_env: str | None = None
    """Name of the environment variable that holds the upstream key; the key itself never sits in the file."""
    models: tuple[str, ...] = ()
    """Concrete model ids served here that clients may call directly (passed through, metered, no experiment)."""
    timeout_s: float = Field(default=300.0, gt=0)
    """Longest wait for the upstream's answer, or between two streamed events."""
    connect_timeout_s: float = Field(default=5.0, gt=0)
    max_connections: int = Field(default=1024, ge=1)
    """Size of the pooled connection set to this upstream, per worker process: one per concurrent
    request, so it bounds how many answers (streams included) can be in flight at once."""
    retries: int = Field(default=1, ge=0, le=5)
    """Extra attempts on connection errors and 502/503/504 before the first byte reaches the client."""
    simulator: SimulatorConfig = SimulatorConfig()
    proxy: str | None = None
    """An egress proxy for this upstream, ``http://[user:pass@]host:port`` (credentials go in
    ``Proxy-Authorization: Basic``). Connections tunnel through it with ``CONNECT`` (TLS to the
    upstream inside the tunnel for https; an http upstream is tunnelled too, so the proxy must allow
    CONNECT to its port). Unset, it comes from the environment: ``https_proxy``/``HTTPS_PROXY`` for an
    https upstream, ``http_proxy``/``HTTP_PROXY`` for an http one (lower case first), unless the
    upstream's host is in ``no_proxy``/``NO_PROXY`` (comma-separated hosts or domain suffixes, a
    leading dot optional, ``:port`` optional, ``*`` for all) or a loopback address (``localhost``,
    ``127.0.0.0/8``, ``::1``: the proxy's loopback is not this machine's). Set here, it wins over both."""

    @field_validator("proxy")
    @classmethod
    def _http_proxy_url(cls, proxy: str | None) -> str | None:
        if proxy is not None:
            split_proxy_url(proxy)
        return proxy

    @model_validator(mode="after")
    def _needs_url(self) -> UpstreamConfig:
        if self.kind is not UpstreamKind.SIMULATED and not self.base_url:
            raise ValueError(f"an upstream of kind {self.kind.value!r} needs base_url")
        return self


class Route(_Frozen):
    """Where one variant of an agent is served: a model id on a named upstream."""

    model: str = Field(min_length=1)
    upstream: str = Field(min_length=1)


MAX_ROLLOUT_STEPS = 20


class RolloutRequest(_Frozen):
    """What an operator asks for: the shares to go through, and the time between two steps."""

    steps: tuple[float, ...] = Field(min_length=1, max_length=MAX_ROLLOUT_STEPS)
    """Candidate shares in percent, strictly increasing, each within 0–100; the first applies at once."""
    interval_s: float = Field(gt=0, le=30 * 86_400)
    """Seconds between two steps."""

    @field_validator("steps")
    @classmethod
    def _increasing_percentages(cls, steps: tuple[float, ...]) -> tuple[float, ...]:
        for share in steps:
            if not 0 <= share <= 100:
                raise ValueError(f"every step must be a share within 0–100 %, not {share}")
        for before, after in itertools.pairwise(steps):
            if after <= before:
                raise ValueError(f"steps must be strictly increasing: {after} follows {before}")
        return steps


class AgentConfig(_Frozen):
    """One agent's experiment: its fine-tuned candidate against its baseline."""

    candidate: Route
    baseline: Route
    candidate_share: float = Field(default=50.0, ge=0, le=100)
    """Percent of units sent to the candidate; steps of 0.01 % (10,000 buckets)."""
    sample_rate: float = Field(default=0.1, ge=0, le=1)
    """Share of answers sampled for quality scoring."""
    enabled: bool = True
    """False is the kill switch: every request goes to the baseline."""
    salt: str | None = None
    """Hash salt of the experiment; defaults to the agent name. Changing it re-randomises every unit."""
    allow_force_variant: bool = False
    """Whether ``X-Genesis-Variant`` may force a variant (benchmarks, QA); off for production agents."""
    fallback_to_baseline: bool = True
    """Serve the baseline when the candidate's upstream fails before answering."""
    overrides: dict[str, Variant] = Field(default_factory=dict)
    """Unit ids pinned to a variant whatever the share."""
    rollout: RolloutRequest | None = None
    """A staged rollout to start with the agent's flags: ``{steps: [5, 25, 50, 100], interval_s: 1800}``.
    Its first step is the candidate share (so ``candidate_share`` is left out), and the gateway
    steps through the rest, held by the A/B gate like one started with ``flags rollout``. Like every
    flag in the file it seeds the agent's flags when they are first created: with Redis, flags
    already there (changed at run time) win, and a schedule started or stopped at run time stays so."""
    description: str = ""

    @model_validator(mode="after")
    def _rollout_sets_the_share(self) -> AgentConfig:
        if self.rollout is not None and "candidate_share" in self.model_fields_set:
            raise ValueError("give either candidate_share or rollout: a rollout's first step is the share")
        if self.rollout is not None and not self.enabled:
            raise ValueError("a killed agent (enabled: false) cannot start a rollout")
        return self


class Price(_Frozen):
    """USD per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)


class ApiKey(_Frozen):
    """A key an agent presents to the gateway (distinct from upstream keys)."""

    name: str
    key_env: str
    """Environment variable holding the key."""
    agents: tuple[str, ...] = ("*",)
    """Agents this key may call; ``*`` for all."""


class AuthConfig(_Frozen):
    """Agent authentication. With no keys listed, the gateway is open (the embedded demo)."""

    keys: tuple[ApiKey, ...] = ()


class ExperimentsConfig(_Frozen):
    """The A/B analysis: when a candidate is promoted, kept running or rolled back (``gateway.experiments``)."""

    min_samples: int = Field(default=150, ge=2)
    """Scored samples each arm needs before any verdict other than ``continue`` (GrowthBook's default)."""
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    """Significance level of the tests; intervals are ``1 - alpha`` two-sided."""
    threshold: float = Field(default=8.0, ge=0, le=10)
    """The bar a candidate's overall mean score must clear (the benchmark's pass threshold)."""
    non_inferiority_margin: float = Field(default=0.2, ge=0, le=10)
    """Score points the candidate's overall mean may trail the baseline by and still be promoted."""
    pass_rate_margin: float = Field(default=0.05, ge=0, le=1)
    """Pass-rate points (a fraction) the candidate may trail the baseline by and still be promoted."""
    sequential: bool = True
    """Decide on always-valid intervals, safe under the continuous re-analysis (fixed-horizon Welch if false)."""
    sequential_tuning: float = Field(default=1000.0, gt=0)
    """Total samples (both arms) at which the always-valid interval is narrowest."""
    interval_s: float = Field(default=60.0, gt=0)
    """Seconds between two analyses of every agent (metrics and automatic rollback)."""
    auto_rollback: bool = False
    """Set the candidate share to 0 by itself on a rollback verdict (otherwise it only reports and holds rollouts)."""


class RedactionConfig(_Frozen):
    """What is blanked out of sampled prompts and answers before they are queued or stored."""

    emails: bool = True
    """E-mail addresses become ``[email]``."""
    phones: bool = True
    """Phone-number-like digit groups (9 to 15 digits) become ``[phone]``."""
    cards: bool = True
    """Card-like numbers (13 to 19 digits, spaces or dashes allowed) become ``[card]``."""
    patterns: tuple[str, ...] = ()
    """Extra regular expressions (internal account ids, ...); each match becomes ``[redacted]``."""

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from exc
        return patterns


class JudgeSettings(_Frozen):
    """The LLM judge of online scoring: off by default, rate-limited and capped per agent and day."""

    enabled: bool = False
    upstream: str | None = None
    """Name of the upstream (from ``upstreams``) that serves the judge model."""
    model: str | None = None
    """Model id of the judge on that upstream; its price comes from ``prices``."""
    requests_per_s: float = Field(default=1.0, gt=0)
    """Judge calls per second, shared by every worker through Redis (per process in the embedded home);
    samples over the rate get heuristic scores only."""
    burst: int = Field(default=5, ge=1)
    daily_budget_usd: float = Field(default=5.0, ge=0)
    """Judge spend per agent per UTC day (shared by all workers through Redis); over it, heuristics only."""
    rubric: JudgeConfig = JudgeConfig()
    """How the judge is called and weighed (the scoring library's own settings)."""

    @model_validator(mode="after")
    def _names_model(self) -> JudgeSettings:
        if self.enabled and not (self.upstream and self.model):
            raise ValueError("an enabled judge needs both upstream and model")
        return self


class ScoringSettings(_Frozen):
    """Online scoring: how sampled answers are queued, scored, kept and redacted.

    Without ``redis_url`` the queue is in memory and a worker task scores inside the gateway; with
    it, the gateway only appends to a Redis stream and ``genesis-gateway worker`` processes score.
    """

    enabled: bool = True
    """False: sampled answers are discarded (no queue, no worker)."""
    scorers: ScoringConfig = ScoringConfig()
    """The scorers, per-agent profiles and pass threshold — the same settings the benchmark uses.
    Its ``judge`` must stay empty: the online judge is configured under ``judge`` below."""
    judge: JudgeSettings = JudgeSettings()
    queue_max_size: int | None = Field(default=None, ge=1)
    """Samples waiting in this process (memory queue, or not yet written to Redis); beyond it, dropped.
    Left out: 1,000 in the embedded home, where each waits whole (prompt and answer) for the in-process
    scorer held to its CPU share, and 10,000 with Redis, where they wait a few ms for the next batched
    write (and as many request ids for the index's next flush)."""
    concurrency: int = Field(default=1, ge=1, le=64)
    """Scoring loops per process (useful when the judge's latency dominates)."""
    embedded_cpu_share: float = Field(default=0.1, gt=0, le=1)
    """Embedded home only: the most of its event loop's CPU the in-process scorer takes while requests
    are waiting (an idle gateway scores at full speed). 0.1 keeps nine tenths of the core for requests
    at any sample rate; samples beyond what the share scores wait in the queue, then are dropped and
    counted (``queue_full``). 1 lets scoring compete with requests as an equal task. Production rates
    belong in the Redis home, where ``genesis-gateway worker`` processes score on their own cores."""
    redaction: RedactionConfig = RedactionConfig()
    retention_s: float = Field(default=7 * 86_400, gt=0)
    """How long stored scored samples (and the duplicate guard) are kept."""
    keep_last: int = Field(default=1_000, ge=1)
    """Scored samples kept per agent for inspection and export (the oldest are dropped first)."""
    index_ttl_s: float = Field(default=3_600, gt=0)
    """How long a request id can receive feedback."""
    index_max_entries: int = Field(default=100_000, ge=1)
    """Request ids the embedded home keeps in memory: for feedback, and (each up to this many) the scored
    and the rated ones, as duplicate guards; the oldest go first. ~96 bytes an id: the default keeps
    a gateway under 100 MB per process (docs/performance.md) and covers an hour of 28 requests/s; the
    Redis home keeps its ids in Redis instead."""
    key_prefix: str = DEFAULT_REDIS_PREFIX
    """Prefix of every Redis key scoring writes; left out, it is the config's ``redis_prefix``."""
    stream: str = "scoring:samples"
    """The sample stream (after ``key_prefix``)."""
    group: str = "scorers"
    """The consumer group every worker joins."""
    dead_letter_stream: str = "scoring:dead"
    """Where entries that failed ``dead_letter_after`` times go, with the error (after ``key_prefix``)."""
    stream_max_len: int = Field(default=100_000, ge=100)
    """Approximate cap of both streams (XADD MAXLEN ~); the oldest entries are trimmed beyond it."""
    claim_idle_s: float = Field(default=60.0, gt=0)
    """A delivered entry not acknowledged for this long is re-claimed by another worker; keep it
    above the slowest scoring (the judge's timeout)."""
    dead_letter_after: int = Field(default=5, ge=1)
    """Deliveries after which a failing entry goes to the dead-letter stream."""
    batch_size: int = Field(default=32, ge=1, le=1_000)
    """Entries a worker reads per Redis round trip (gateways write up to 256 per call)."""
    block_ms: int = Field(default=1_000, ge=10)
    """Longest wait of a worker's read on an empty stream."""
    redis_timeout_s: float = Field(default=2.0, gt=0)
    """Socket timeout of scoring's Redis calls, so a hung Redis drops samples instead of piling them up."""

    def queue_limit(self, *, redis: bool) -> int:
        """``queue_max_size``, or the default of the home (``redis``: the Redis home)."""
        if self.queue_max_size is not None:
            return self.queue_max_size
        return 10_000 if redis else 1_000

    @model_validator(mode="after")
    def _judge_in_one_place(self) -> ScoringSettings:
        if self.scorers.judge is not None:
            raise ValueError("scorers.judge: configure the online judge under scoring.judge instead")
        return self


class GatewayConfig(_Frozen):
    """The whole YAML file."""

    upstreams: dict[str, UpstreamConfig]
    agents: dict[str, AgentConfig]
    prices: dict[str, Price] = Field(default_factory=dict)
    auth: AuthConfig = AuthConfig()
    redis_url: str | None = None
    redis_prefix: str = Field(default=DEFAULT_REDIS_PREFIX, min_length=1)
    """Prefix of every Redis key: the flags', and scoring's unless ``scoring.key_prefix`` is set apart.
    Give each deployment sharing a Redis its own; ``GATEWAY_REDIS_PREFIX`` overrides it."""
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    """Largest request body accepted; larger ones get 413."""
    sse_keepalive_s: float = Field(default=15.0, ge=0)
    """A stream silent this long (a model queueing or thinking) gets an SSE comment, ``: ping``, so that
    load balancers and proxies with idle timeouts (often 60 s) keep the client's connection; both SDKs
    skip comments. 0 turns it off."""
    scoring: ScoringSettings = ScoringSettings()
    """Online scoring of sampled answers (queue, worker, stored results, redaction, judge)."""
    experiments: ExperimentsConfig = ExperimentsConfig()
    """The A/B analysis and its automatic decisions."""

    @model_validator(mode="before")
    @classmethod
    def _scoring_follows_the_prefix(cls, data: Any) -> Any:
        # One knob: scoring's keys go under redis_prefix unless the file sets scoring.key_prefix itself.
        if not isinstance(data, dict):
            return data
        scoring = data.get("scoring")
        if scoring is None or (isinstance(scoring, dict) and "key_prefix" not in scoring):
            prefix = data.get("redis_prefix", DEFAULT_REDIS_PREFIX)
            return {**data, "scoring": {**(scoring or {}), "key_prefix": prefix}}
        return data

    def with_redis_prefix(self, prefix: str | None) -> GatewayConfig:
        """This config under ``prefix`` (``GATEWAY_REDIS_PREFIX``; ``None`` keeps the file's).

        Scoring's keys move with it, unless the file set ``scoring.key_prefix`` to something else.
        """
        if prefix is None or prefix == self.redis_prefix:
            return self
        scoring = self.scoring
        if scoring.key_prefix == self.redis_prefix:
            scoring = scoring.model_copy(update={"key_prefix": prefix})
        return self.model_copy(update={"redis_prefix": prefix, "scoring": scoring})

    @field_validator("agents")
    @classmethod
    def _agent_names(cls, agents: dict[str, AgentConfig]) -> dict[str, AgentConfig]:
        for name in agents:
            if not _AGENT_NAME.match(name):
                raise ValueError(f"agent name {name!r} must match {_AGENT_NAME.pattern}")
        return agents

    @model_validator(mode="after")
    def _references_resolve(self) -> GatewayConfig:
        for agent, cfg in self.agents.items():
            for variant, route in (("candidate", cfg.candidate), ("baseline", cfg.baseline)):
                if route.upstream not in self.upstreams:
                    known = ", ".join(sorted(self.upstreams))
                    raise ValueError(
                        f"agents.{agent}.{variant}.upstream: unknown upstream {route.upstream!r} (known: {known})"
                    )
        judge = self.scoring.judge
        if judge.enabled and judge.upstream not in self.upstreams:
            raise ValueError(f"scoring.judge.upstream: unknown upstream {judge.upstream!r}")
        for key in self.auth.keys:
            for agent in key.agents:
                if agent != "*" and agent not in self.agents:
                    raise ValueError(f"auth.keys.{key.name}.agents: unknown agent {agent!r}")
        return self

    @model_validator(mode="after")
    def _model_names_unambiguous(self) -> GatewayConfig:
        # The request's ``model`` picks the route, so one name must never mean two things.
        served: dict[str, str] = {}
        for name, upstream in self.upstreams.items():
            for model in upstream.models:
                if model in served:
                    raise ValueError(
                        f"upstreams.{name}.models: {model!r} is already served by upstream {served[model]!r}"
                    )
                served[model] = name
        for agent in self.agents:
            if agent in served:
                raise ValueError(f"agents.{agent}: the name is also a model listed in upstreams.{served[agent]}.models")
        return self


class Settings(BaseSettings):
    """Process settings, from ``GATEWAY_*`` environment variables or keyword arguments."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", frozen=True, extra="ignore")

    config: Path | None = None
    """The YAML file (``GATEWAY_CONFIG``)."""
    redis_url: str | None = None
    """Redis for shared state (``GATEWAY_REDIS_URL``); overrides the file's ``redis_url``."""
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "info"
    admin_token: str | None = None
    """Read-write admin token (``GATEWAY_ADMIN_TOKEN``)."""
    admin_tokens: str | None = None
    """Named admin tokens, ``"alice:<token>:rw,grafana:<token>:ro"`` (``GATEWAY_ADMIN_TOKENS``)."""
    redis_prefix: str | None = None
    """Overrides the file's ``redis_prefix``, the prefix of every Redis key (``GATEWAY_REDIS_PREFIX``)."""


def expand_env(value: Any, env: dict[str, str], path: tuple[str, ...] = ()) -> Any:
    """Replace ``${NAME}`` and ``${NAME:-default}`` in every string of a parsed YAML tree.

    An unset variable without a default is a ``ConfigError`` naming the dotted path where it is used.
    """
    if isinstance(value, str):
        return _ENV_REF.sub(lambda m: _lookup(m, env, path), value)
    if isinstance(value, list):
        return [expand_env(v, env, (*path, str(i))) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: expand_env(v, env, (*path, str(k))) for k, v in value.items()}
    return value


def _lookup(match: re.Match[str], env: dict[str, str], path: tuple[str, ...]) -> str:
    name, default = match.group(1), match.group(2)
    if name in env and env[name] != "":
        return env[name]
    if default is not None:
        return default
    where = ".".join(path) or "(top level)"
    raise ConfigError(f"{where}: environment variable {name} is not set and has no default")


def parse_config(text: str, *, source: str = "<config>", env: dict[str, str] | None = None) -> GatewayConfig:
    """Parse and validate YAML text; errors name the source and the dotted path of the bad field."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping")
    try:
        expanded = expand_env(raw, dict(os.environ) if env is None else env)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    try:
        return GatewayConfig.model_validate(expanded)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {describe_validation_error(exc)}") from exc


def load_config(path: Path, *, env: dict[str, str] | None = None) -> GatewayConfig:
    """Read and validate the YAML file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    return parse_config(text, source=str(path), env=env)


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem: ``agents.support_agent.candidate_share: Input should be ...``."""
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"{where}: {err['msg']}")
    return "; ".join(lines)
