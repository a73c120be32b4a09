# Production image: the web process by default; run the worker and beat from the same image
# with the commands in Procfile, e.g. `docker run IMAGE celery -A config worker --loglevel INFO`.
# Configure it through the environment (.env.example lists every variable); at least
# DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS (keep 127.0.0.1 in it for the HEALTHCHECK),
# OCPI_BASE_URL, DATABASE_URL and REDIS_URL. Run `python manage.py migrate` once per release.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/app/var \
    PORT=8000

RUN useradd --create-home --uid 10001 --user-group app
WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes.
# The project itself has no installable packages (`packages = []`): it runs from /app.
COPY pyproject.toml README.md ./
RUN pip install . && rm -rf build ./*.egg-info

COPY --chown=app:app . .
RUN mkdir -p "$VAR_DIR" && chown app:app "$VAR_DIR"
USER app

# Static files for the admin and the API docs, served by WhiteNoise from $VAR_DIR/static.
# The dummy key is set for this step only, so that no key is written into the image.
RUN DJANGO_SECRET_KEY=collectstatic-only-not-a-secret python manage.py collectstatic --no-input

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"

CMD ["sh", "-c", "exec uvicorn config.asgi:application --lifespan off --host 0.0.0.0 --port ${PORT:-8000} --workers ${WEB_CONCURRENCY:-2}"]
