# The GPU worker image: CUDA runtime + cuDNN base, ONNX Runtime with the CUDA and
# TensorRT execution providers, and TensorRT's libraries from its pip wheels.
# One container per GPU (docker-compose.yml hands each one card, seen as cuda:0).
# Build from the repository root: docker build -f docker/worker-gpu.Dockerfile .
# The versions come from requirements/gpu.txt (scripts/lock writes it from
# pyproject.toml and requirements/gpu.in, where the GPU runtimes' versions live;
# they must suit the base image's CUDA major, 12). The image is x86_64 only:
# TensorRT publishes no aarch64 wheels on PyPI.
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    VISIOVOX_STORAGE__ROOT=/data \
    VISIOVOX_MODELS__CACHE_DIR=/models

# Ubuntu's python3 and venv follow the base image's release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv

WORKDIR /app
# The locked dependencies first (their layer outlives source changes), every file
# checked against its hash. The lock holds onnxruntime-gpu in place of the CPU
# onnxruntime (both install the same `onnxruntime` module), hence --no-deps.
COPY requirements/gpu.txt ./requirements/
RUN pip install --no-cache-dir --no-deps --require-hashes -r requirements/gpu.txt
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

# ONNX Runtime's TensorRT provider loads libnvinfer from the tensorrt_libs wheel.
ENV LD_LIBRARY_PATH=/opt/venv/lib/python3.12/site-packages/tensorrt_libs:$LD_LIBRARY_PATH

USER 10001:10001
HEALTHCHECK --interval=10s --timeout=5s --retries=3 \
    CMD ["visiovox", "worker", "--device", "cuda:0", "--check"]
CMD ["visiovox", "worker", "--device", "cuda:0"]
