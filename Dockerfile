# syntax=docker/dockerfile:1
# Genesis Gateway — the production image: `genesis-gateway serve` (default) or `genesis-gateway worker`.
#
#   docker build -t genesis-gateway:0.1.0 .
#   docker run --rm -p 8080:8080 -e MISTRAL_API_KEY=... genesis-gateway:0.1.0
#   docker run --rm -v $PWD/my.yaml:/etc/genesis/gateway.yaml:ro ... genesis-gateway:0.1.0
#
# No Docker engine (nor hadolint) runs on the development machine or in CI, so this file is never
# built there: tests/docker/test_dockerfile.py checks its properties statically (non-root user, no dev
# extras, the entry point is the package's console script, the COPY sources are in the build context,
# the config path matches the Helm chart's mount). Build it wherever Docker runs.

ARG PYTHON_VERSION=3.12

# ---- build: install the package and its runtime dependencies into a virtualenv ----
FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/genesis
WORKDIR /src
# Only what the package build needs (see .dockerignore): the runtime image gets the installed
# package, never the source tree, tests or dev tools.
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY scoring ./scoring
# `.` without extras: no [dev] (pytest, ruff, mypy), no [semantic] (torch-sized).
RUN /opt/genesis/bin/pip install --no-cache-dir .

# ---- runtime: the virtualenv on a clean slim image, run as an unprivileged user ----
FROM python:${PYTHON_VERSION}-slim AS runtime
LABEL org.opencontainers.image.title="genesis-gateway" \
      org.opencontainers.image.description="A/B-testing and monitoring gateway for fine-tuned LLM agents, Mistral-API compatible" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/genesis/bin:$PATH
# A numeric uid/gid, so Kubernetes can verify runAsNonRoot (the chart runs it as 10001 too).
RUN groupadd --system --gid 10001 genesis \
    && useradd --system --uid 10001 --gid genesis --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin genesis
COPY --from=build /opt/genesis /opt/genesis
# The example config, so the image starts as is; the Helm chart mounts its ConfigMap over /etc/genesis.
COPY gateway/examples/gateway.yaml /etc/genesis/gateway.yaml
USER 10001:10001
EXPOSE 8080
# python, not curl: the slim image has no curl. urlopen raises (exit 1) on refusal or a non-2xx answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('GATEWAY_PORT', '8080') + '/healthz', timeout=3)"]
ENTRYPOINT ["genesis-gateway"]
CMD ["serve", "--config", "/etc/genesis/gateway.yaml", "--host", "0.0.0.0"]
