# anjian: the HTTP API on port 8000, data (SQLite file, generated secret key) in the /data volume.
#   docker build -t anjian .
#   docker run -p 8000:8000 -v anjian-data:/data anjian
#   docker run -p 8000:8000 -v anjian-data:/data -e ANJIAN_LOAD_DEMO=1 anjian   # with the demo county
# PostgreSQL: -e ANJIAN_DATABASE_URL=postgresql+asyncpg://user:password@host:5432/anjian
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ANJIAN_DATA_DIR=/data

RUN groupadd --system --gid 10001 anjian \
    && useradd --system --uid 10001 --gid anjian --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin anjian \
    && mkdir -p /data \
    && chown anjian:anjian /data

WORKDIR /app

# Runtime dependencies and the `anjian` command only (no dev extras); every dependency ships
# manylinux wheels, so the slim image needs no compiler. (README.md* : pyproject names it as the
# package description; the glob keeps the build going while it is absent.)
COPY pyproject.toml README.md* ./
COPY app ./app
RUN pip install . \
    && rm -rf build ./*.egg-info

# Migrations are found next to the source tree (app/core/migrations.py looks two levels above
# itself), so the code runs from /app rather than from site-packages.
COPY alembic.ini ./
COPY migrations ./migrations
COPY docker/entrypoint.sh /usr/local/bin/anjian-entrypoint
RUN chmod 0755 /usr/local/bin/anjian-entrypoint
ENV PYTHONPATH=/app

USER anjian
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

ENTRYPOINT ["anjian-entrypoint"]
CMD ["anjian", "serve", "--host", "0.0.0.0", "--port", "8000"]
