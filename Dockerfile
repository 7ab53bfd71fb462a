# Production image: the API server only. DATABASE_URL must point at a PostgreSQL server;
# the embedded database is for laptops and tests, not containers.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY open287g ./open287g
# /docs serves the Markdown pages; in an installed package they live beside the templates.
COPY docs ./open287g/pages/docs
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 open287g
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
# The sync's archive (compose.yaml mounts a volume here; Docker gives it this owner).
RUN mkdir -p /var/lib/open287g/archive && chown open287g /var/lib/open287g/archive
USER open287g
ENV PYTHONUNBUFFERED=1
EXPOSE 8000
# Fail fast with a clear message when DATABASE_URL is missing.
ENTRYPOINT ["sh", "-c", ": \"${DATABASE_URL:?DATABASE_URL is required}\" && exec open287g serve --host 0.0.0.0 --port 8000 \"$@\"", "--"]
