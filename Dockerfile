# The moderation service in production: nginx on 0.0.0.0:8080 in front of gunicorn's sync workers, which listen
# only on a unix socket inside the container (`moderation serve --proxy`, as `make serve-prod`); the SQLite
# database lives in /data.
#   docker build -t comment-moderation .
#   docker run -p 8080:8080 -v moderation-data:/data comment-moderation
# The first start prints an admin API key once (docker logs); keep it.
# The CLI inside is `python -m moderation` (e.g. docker exec <container> python -m moderation keys create --role site).
# Debian 12 (bookworm): its nginx-light is the nginx the project's tests run against.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# nginx buffers slow clients for the sync workers (gunicorn's deployment docs require such a proxy in front of
# them). Its package would start a service of its own while installing: a policy-rc.d answering 101 stops that.
RUN set -eux; \
    made_policy=; \
    if [ ! -e /usr/sbin/policy-rc.d ]; then \
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; made_policy=1; \
    fi; \
    apt-get update; \
    apt-get install -y --no-install-recommends nginx-light; \
    if [ -n "$made_policy" ]; then rm /usr/sbin/policy-rc.d; fi; \
    rm -rf /var/lib/apt/lists/*; \
    nginx -v

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

# MODERATION_HOST and PORT are nginx's address; gunicorn has no port at all, only the socket in its run directory.
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

# `serve --proxy` migrates the database, makes the first admin key if there is none, then stays as PID 1 and
# supervises gunicorn (on a unix socket in a private run directory under /tmp) and nginx (as this non-root user,
# in the foreground, with a configuration generated into that directory). SIGTERM (`docker stop`) stops nginx
# gracefully, then gunicorn: usually within a second or two, at most 15 s with requests in flight
# (`docker stop -t 20` to wait that long). If either child dies, the other is stopped and the container exits.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "moderation", "serve", "--proxy"]
