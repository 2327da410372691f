# memsvc API image. CPU-only torch first (the default wheel would add gigabytes of CUDA).
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1
WORKDIR /app
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY pyproject.toml README.md alembic.ini ./
COPY memsvc ./memsvc
COPY eval ./eval
COPY migrations ./migrations
COPY prompts ./prompts
RUN pip install -e .
EXPOSE 8420
CMD ["memsvc", "serve", "--host", "0.0.0.0"]
