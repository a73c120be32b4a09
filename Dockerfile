# Production image: the web process by default; run the worker and beat from the same image
# with the commands in Procfile, e.g. `docker run IMAGE celery -A config worker --loglevel INFO`.
# Configure it through the environment (.env.example lists every variable); at least
# DJANGO_SECRET_KEY, OCPI_TOKEN_KEY, DATABASE_URL (without them no process starts: the image
# runs in production mode, OCPI_PRODUCTION=1), DJANGO_ALLOWED_HOSTS (keep 127.0.0.1 in it for
# the HEALTHCHECK), OCPI_BASE_URL and REDIS_URL. Run `python manage.py migrate` once per release.
# Trying the image on a laptop without them: -e OCPI_PRODUCTION=0.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/app/var \
    PORT=8000 \
    OCPI_PRODUCTION=1

RUN useradd --create-home --uid 10001 --user-group app
WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes.
# The project itself has no installable packages (`packages = []`): it runs from /app.
COPY pyproject.toml README.md ./
RUN pip install . && rm -rf build ./*.egg-info

COPY --chown=app:app . .
RUN mkdir -p "$VAR_DIR" && chown app:app "$VAR_DIR" && chmod 700 "$VAR_DIR"
USER app

# Static files for the admin and the API docs, served by WhiteNoise from $VAR_DIR/static.
# The dummy key is set for this step only, so that no key is written into the image; it runs
# out of production mode, which would ask for the real keys and database.
RUN OCPI_PRODUCTION=0 DJANGO_SECRET_KEY=collectstatic-only-not-a-secret \
    python manage.py collectstatic --no-input

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"

CMD ["sh", "-c", "exec uvicorn config.asgi:application --lifespan off --host 0.0.0.0 --port ${PORT:-8000} --workers ${WEB_CONCURRENCY:-2}"]
