# The moderation service: gunicorn serving the API with the shipped model; the SQLite database lives in /data.
#   docker build -t comment-moderation .
#   docker run -p 8080:8080 -v moderation-data:/data comment-moderation
# The first start prints an admin API key once (docker logs); keep it.
# The CLI inside is `python -m moderation` (e.g. docker exec <container> python -m moderation keys create --role site).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY requirements.txt ./
RUN pip install -r requirements.txt

# The code is run from /app (not pip-installed), so the shipped model stays at <repo>/models/default.model.
COPY pyproject.toml README.md gunicorn.conf.py ./
COPY model ./model
COPY moderation ./moderation
COPY api ./api
COPY models/default.model ./models/default.model

RUN useradd --system --uid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin moderation \
    && mkdir -p /data \
    && chown moderation:moderation /data \
    && chmod 0700 /data \
    && python -m compileall -q model moderation api

ENV PYTHONPATH=/app \
    MODERATION_DB=/data/moderation.db \
    MODERATION_MODEL=/app/models/default.model \
    MODERATION_HOST=0.0.0.0 \
    PORT=8080 \
    WEB_CONCURRENCY=2

VOLUME ["/data"]
EXPOSE 8080
USER moderation

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=4)"]

# `serve` migrates the database, makes the first admin key if there is none, then execs gunicorn (PID 1 gets SIGTERM).
CMD ["python", "-m", "moderation", "serve"]
