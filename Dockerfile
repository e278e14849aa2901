# Build: the full Rust toolchain, then only the binary moves on.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# The bundled SQLite's build flags.
COPY .cargo ./.cargo
COPY src ./src
COPY migrations ./migrations
COPY assets ./assets
RUN cargo build --release --locked && strip target/release/gitomatic

# Run: a slim image, an unprivileged user, data in /data.
FROM debian:bookworm-slim
RUN useradd --system --create-home --home-dir /data gitomatic
COPY --from=build /src/target/release/gitomatic /usr/local/bin/gitomatic
USER gitomatic
WORKDIR /data
# PORT makes the server listen on 0.0.0.0:$PORT; platforms that set their own PORT win.
ENV PORT=8000 DATABASE_URL=sqlite:///data/gitomatic.db
EXPOSE 8000
VOLUME /data
CMD ["gitomatic", "serve"]
