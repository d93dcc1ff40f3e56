#!/bin/sh
# Gives each service a PostgreSQL role of its own that owns its database and nothing else: it
# cannot create databases or roles, and no other role (PUBLIC) may connect to its database.
# Run by the postgres image on its first start (compose mounts this folder as
# /docker-entrypoint-initdb.d), or by hand against any server with a superuser:
#   ORDER_DB_PASSWORD=... INVENTORY_DB_PASSWORD=... NOTIFICATION_DB_PASSWORD=... \
#     PGHOST=db.example.com PGUSER=postgres sh docker/postgres/service-roles.sh
# Idempotent: run again, it resets each role's password and privileges.
# SERVICE_ROLE_PREFIX (default ordering_) names roles and databases: ordering_order, ...
set -eu
prefix="${SERVICE_ROLE_PREFIX:-ordering_}"
for service in order inventory notification; do
  upper=$(echo "$service" | tr '[:lower:]' '[:upper:]')
  password=$(eval "printf '%s' \"\${${upper}_DB_PASSWORD:?set ${upper}_DB_PASSWORD}\"")
  name="${prefix}${service}"
  psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --username "${POSTGRES_USER:-${PGUSER:-postgres}}" \
    --dbname postgres -v name="$name" -v password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'name')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name') \gexec
ALTER ROLE :"name" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \gexec
ALTER DATABASE :"name" OWNER TO :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
\connect :"name"
ALTER SCHEMA public OWNER TO :"name";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SQL
done
