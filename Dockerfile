# syntax=docker/dockerfile:1
#
# Keel's image.
#   build:    docker build -t keel .
#   migrate:  docker run --rm -e DATABASE_URL=... -e JWT_SECRET=... -e TRUSTED_HOSTS=... keel keel migrate
#   serve:    docker run -p 8000:8000 -e DATABASE_URL=... -e JWT_SECRET=... -e TRUSTED_HOSTS=... keel
# ENVIRONMENT is production: every command, migrate included, needs DATABASE_URL, JWT_SECRET
# (32+ bytes) and TRUSTED_HOSTS (the public host names, and localhost for the HEALTHCHECK).
#
# Both stages use the same Python image: the virtual environment made in the builder links
# to that interpreter, and its scripts name /app/.venv/bin/python.

ARG PYTHON_IMAGE=python:3.11-slim
# Keep in step with UV_VERSION in the Makefile.
ARG UV_VERSION=0.13.9

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

COPY --from=uv /uv /usr/local/bin/uv

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app

# Dependencies first, from the lock alone: this layer is rebuilt only when they change.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

# Then Keel itself. It is installed editable (uv's default) and its source stays in /app:
# `keel migrate` finds the Alembic scripts in /app/migrations, next to the packages
# (adapters/sqlalchemy/migrations.py), and the wheel holds only the four packages.
COPY README.md alembic.ini ./
COPY domain ./domain
COPY application ./application
COPY adapters ./adapters
COPY entrypoints ./entrypoints
COPY migrations ./migrations
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev \
 && python -m compileall -q --invalidation-mode checked-hash \
        domain application adapters entrypoints migrations

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# A fixed, numeric uid, so that Kubernetes can check runAsNonRoot.
RUN groupadd --system --gid 10001 keel \
 && useradd --system --uid 10001 --gid keel --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin keel

# Owned by root and only readable by the service: it writes nothing to /app. In production
# the signing key comes from JWT_SECRET; the development key file is never written.
COPY --from=builder /app /app

WORKDIR /app
ENV PATH="/app/.venv/bin:${PATH}" \
    ENVIRONMENT=production \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

USER 10001:10001
EXPOSE 8000

# No curl in the slim image: Python asks. Any error or non-2xx answer exits 1 (unhealthy).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8000/health/live', timeout=4)"]

# Migrations are a separate, one-off command: `docker run --rm IMAGE keel migrate`.
CMD ["keel", "serve", "--host", "0.0.0.0", "--port", "8000"]
