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
EXPOSE 8000
CMD ["uvicorn", "loship.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
