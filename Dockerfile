FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
# The hashed lock file (make lock): every package pinned, each download checked against its hash.
COPY requirements.lock .
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY . .
RUN useradd --create-home loship && \
    DATABASE_URL=postgres://build/build REDIS_URL=redis://build:6379/0 SECRET_KEY=collectstatic-only \
    python manage.py collectstatic --no-input
USER loship
# gunicorn's worker heartbeat files in memory, not on the image's overlay file system.
ENV GUNICORN_CMD_ARGS="--worker-tmp-dir /dev/shm"
# One image, every process: the command names a line of the Procfile (web, ws, worker, beat, release),
# run as written there with $PORT and $WEB_CONCURRENCY / $WS_CONCURRENCY / $WORKER_CONCURRENCY.
ENV PORT=8000
EXPOSE 8000
CMD ["/app/deploy/procfile", "web"]
