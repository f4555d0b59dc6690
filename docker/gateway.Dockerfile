# The VisioVox image for the gateway, the CPU workers and Flower: a slim Python base,
# the package with its default (CPU) engines and the `flower` extra from the lock
# (requirements/flower.txt, written by scripts/lock), run as a non-root user.
# Build from the repository root: docker build -f docker/gateway.Dockerfile .
FROM python:3.11.10-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VISIOVOX_STORAGE__ROOT=/data \
    VISIOVOX_MODELS__CACHE_DIR=/models \
    VISIOVOX_REDIS__EMBEDDED_DIR=/data/redis

WORKDIR /app
# The locked dependencies first (their layer outlives source changes): exactly the
# versions in requirements/flower.txt, every file checked against its hash.
COPY requirements/flower.txt ./requirements/
RUN pip install --no-cache-dir --no-deps --require-hashes -r requirements/flower.txt
COPY pyproject.toml README.md ./
COPY src ./src
COPY configs ./configs
# The project itself; the lock already holds its dependencies.
# hadolint ignore=DL3013
RUN pip install --no-cache-dir --no-deps . \
    && groupadd --system --gid 10001 visiovox \
    && useradd --system --uid 10001 --gid visiovox --home-dir /app --no-create-home visiovox \
    && mkdir -p /data /models \
    && chown visiovox:visiovox /data /models

USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["visiovox", "serve", "--host", "0.0.0.0", "--port", "8000"]
