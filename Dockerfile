# One image for every process of the app: web (the default command), Celery worker and beat,
# migrations, and the RingCentral simulator; docker-compose.yml picks the command per service.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The processes run as this user (uid 10001, set numerically below so a runtime can check it is
# not root). The code stays owned by root, so they cannot change it.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app

# Runtime dependencies only (requirements-dev.txt is for tests and linters). First, on their
# own, so a code change does not reinstall them.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY . .

# WhiteNoise serves /app/staticfiles. Settings insist on a SECRET_KEY when DEBUG is off: this
# throwaway value exists in this build step only and signs nothing.
RUN SECRET_KEY=collectstatic-only DEBUG=false python manage.py collectstatic --noinput

# The metrics volume is mounted here (docker-compose.yml); a new named volume takes this
# folder's owner, so the app's user can write its counts (docs/metrics.md).
RUN mkdir -p /metrics && chown 10001:10001 /metrics

USER 10001:10001

EXPOSE 8000

# Empties the container's metrics directory, then runs the command (docker/entrypoint.sh).
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "smsapp.wsgi:application", "--config", "docker/gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
