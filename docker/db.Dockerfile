# PostgreSQL 15 from Debian's own packages: no image registry is needed, only apt.
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* /var/lib/postgresql/15 \
 && install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data \
 && install -d -o postgres -g postgres -m 0775 /run/postgresql
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
COPY docker/db-entrypoint.sh /usr/local/bin/db-entrypoint
USER postgres
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/db-entrypoint"]
