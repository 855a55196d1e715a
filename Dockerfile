# lockstep: a multi-stage build of the `lockstep` binary on a slim runtime image.
#
#   docker build -t lockstep .
#   docker run --rm lockstep devnet --batches 20                      # the devnet, JSON summary
#   docker run -v lockstep-data:/data -p 8545:8545 lockstep node \
#     --superchain /etc/lockstep/devnet/superchain.toml --l1.rpc http://l1:8545 \
#     --datadir /data --http --http.addr 0.0.0.0
#
# The build stage installs what scripts/setup.sh installs for building (libclang for mdbx-sys,
# a C compiler for MDBX, secp256k1 and c-kzg); anvil and solc are for tests only and are not
# needed in the image.

FROM rust:1.95-slim-bookworm AS build
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
       libclang-dev build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml clippy.toml ./
COPY bin bin
COPY crates crates
COPY contracts contracts
COPY etc etc
RUN cargo build --release --locked -p lockstep \
    && cp target/release/lockstep /usr/local/bin/lockstep

FROM debian:bookworm-slim
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /data --create-home lockstep
COPY --from=build /usr/local/bin/lockstep /usr/local/bin/lockstep
COPY etc /etc/lockstep
USER lockstep
WORKDIR /data
VOLUME /data
EXPOSE 8545
ENTRYPOINT ["lockstep"]
CMD ["--help"]
