# memsvc API image. CPU-only torch first (the default wheel would add gigabytes of CUDA).
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
WORKDIR /src
COPY pyproject.toml README.md ./
COPY memsvc ./memsvc
COPY eval ./eval
# A regular (non-editable) install: migrations, alembic.ini and prompts ship in the package.
RUN pip install . && rm -rf /src
# Run as an unprivileged user. The data folder is the compose volume; the ONNX query model
# exported at first start is kept on it too (MEMSVC_EMBED__ONNX_DIR), so a restart or a
# new container reuses it instead of exporting again.
RUN useradd --system --uid 10001 --home-dir /var/lib/memsvc --create-home memsvc
ENV MEMSVC_DATA_DIR=/var/lib/memsvc MEMSVC_EMBED__ONNX_DIR=/var/lib/memsvc/onnx
USER memsvc
WORKDIR /var/lib/memsvc
EXPOSE 8420
CMD ["memsvc", "serve", "--host", "0.0.0.0"]
