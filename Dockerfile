# The storefront image: one image for web (gunicorn), worker and beat (Celery).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=storefront.settings.production

WORKDIR /app
RUN useradd --create-home --uid 1000 storefront

# Dependencies first, so a code change does not reinstall them. The project runs from /app.
COPY pyproject.toml README.md ./
RUN pip install .

COPY --chown=storefront:storefront . .
RUN mkdir -p /app/staticfiles /app/media && chown storefront:storefront /app/staticfiles /app/media

USER storefront
EXPOSE 8000
CMD ["gunicorn", "storefront.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-"]
