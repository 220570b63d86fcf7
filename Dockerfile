# herald in a container: built in one stage, run from a small one as a non-root user, with
# the database on a volume.
#   docker build -t herald .
#   docker run -p 8080:8080 -v herald-data:/data -e HERALD_HUB__SECRET=... herald
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin herald

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data herald \
 && mkdir -p /data /etc/herald \
 && chown herald /data
COPY --from=build /src/target/release/herald /usr/local/bin/herald
COPY bot.toml /etc/herald/bot.toml
COPY templates /etc/herald/templates
ENV HERALD_SERVER__LISTEN=0.0.0.0:8080 \
    HERALD_DATABASE__URL=sqlite:///data/herald.db \
    HERALD_TEMPLATES__DIR=/etc/herald/templates
USER herald
WORKDIR /data
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["herald", "--config", "/etc/herald/bot.toml"]
CMD ["serve"]
