# tapline in a container: `docker build -t tapline . && docker run --rm tapline` runs the demo
# (fake GitHub, load, dbt, tables). Real use:
#   docker run --rm -e GITHUB_TOKEN -v "$PWD:/data" tapline run -c /data/tapline.toml
# Every step is one CI runs too (.ci/run): the workspace build and `tapline dbt install`.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --workspace --bins \
 && install -D -t /out target/release/tapline target/release/tap-rest target/release/tap-github target/release/target-sqlite

FROM python:3.11-slim-bookworm
COPY --from=build /out/ /usr/local/bin/
RUN groupadd --gid 10001 tapline && useradd --create-home --uid 10001 --gid 10001 tapline
USER 10001:10001
WORKDIR /home/tapline
# The managed dbt venv (pinned dbt-core + dbt-sqlite), the same installer CI runs.
RUN tapline dbt install
ENTRYPOINT ["tapline"]
CMD ["demo"]
