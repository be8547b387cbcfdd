# PgBouncer from Debian 12's package, the same build bench/topology.py verifies natively.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends pgbouncer \
    && rm -rf /var/lib/apt/lists/*
USER postgres
EXPOSE 6432
# The auth file is written from the environment at start, so no password is kept in the image.
CMD ["sh", "-c", "printf '\"%s\" \"%s\"\\n' \"$DB_USER\" \"$DB_PASSWORD\" > /tmp/userlist.txt && exec pgbouncer /etc/pgbouncer/pgbouncer.ini"]
