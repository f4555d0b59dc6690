# The GPU worker image: CUDA runtime + cuDNN base, ONNX Runtime with the CUDA and
# TensorRT execution providers, and TensorRT's libraries from its pip wheels.
# One container per GPU (docker-compose.yml hands each one card, seen as cuda:0).
# Build from the repository root: docker build -f docker/worker-gpu.Dockerfile .
# ORT_VERSION and TENSORRT_VERSION must suit the base image's CUDA major (12).
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

ARG ORT_VERSION=1.31.1
ARG TENSORRT_VERSION=11.4.0.106

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
COPY pyproject.toml README.md ./
COPY src ./src
COPY configs ./configs
# The default install brings the CPU onnxruntime; the GPU build replaces it (both
# install the same `onnxruntime` module, so the CPU one goes first).
RUN pip install --no-cache-dir . \
    && pip uninstall --yes onnxruntime \
    && pip install --no-cache-dir "onnxruntime-gpu==${ORT_VERSION}" "tensorrt-cu12==${TENSORRT_VERSION}" \
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
