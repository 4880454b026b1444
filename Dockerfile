# One production image for the web (gunicorn), the Celery worker and Celery beat; see
# docker-compose.yml. Configuration comes from the environment (README: Configuration).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The dependencies in a layer of their own, rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
# Static files are collected at build time; settings need these variables to load, so
# they get throwaway values that stay in this layer only.
RUN pip install --no-deps . \
    && SECRET_KEY=build-only-placeholder-never-used-at-runtime-0123456789 \
       DATABASE_URL=postgres://build@localhost/build \
       REDIS_URL=redis://localhost:6379/0 \
       python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin clinic

USER clinic
# gunicorn reads WEB_CONCURRENCY; beat keeps its schedule where it may write.
ENV WEB_CONCURRENCY=2 \
    CELERY_BEAT_SCHEDULE_FILENAME=/tmp/celerybeat-schedule
EXPOSE 8000
CMD ["gunicorn", "clinic.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
