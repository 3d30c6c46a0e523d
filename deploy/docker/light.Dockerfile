# worker-light image: agent workspaces (files, git, lint, topology, bundle). No MuJoCo, OpenCV or GL.
#
#   docker build -f deploy/docker/light.Dockerfile -t workerpair/worker-light:dev .
#   docker run --rm -p 50051:50051 -p 9091:9091 -v wp-ws:/var/lib/workerpair/workspaces \
#     workerpair/worker-light:dev
#
# Every flag also reads WORKERPAIR_<FLAG> (worker-light --help lists them); set them with -e or
# the Kubernetes ConfigMap in deploy/k8s. Runtime packages: deploy/docker/light.packages.

# ---- build stage: Debian 12 with the -dev packages of scripts/setup.sh -------------------------
FROM debian:12 AS build
ARG DEBIAN_FRONTEND=noninteractive
COPY deploy/docker/build.packages /tmp/build.packages
RUN apt-get update -q \
 && sed -e 's/#.*//' -e '/^[[:space:]]*$/d' /tmp/build.packages \
      | xargs apt-get install -y -q --no-install-recommends \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DWORKERPAIR_BUILD_TESTS=OFF -DWORKERPAIR_BUILD_BENCHMARKS=OFF \
 && cmake --build /build --target worker-light -j "$(nproc)" \
 && strip /build/services/light/worker-light

# ---- runtime stage: debian:12-slim, only what the binary loads ---------------------------------
FROM debian:12-slim AS runtime
ARG DEBIAN_FRONTEND=noninteractive
COPY deploy/docker/light.packages /tmp/runtime.packages
RUN apt-get update -q \
 && sed -e 's/#.*//' -e '/^[[:space:]]*$/d' /tmp/runtime.packages \
      | xargs apt-get install -y -q --no-install-recommends \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime.packages \
 && groupadd --system --gid 10001 workerpair \
 && useradd --system --uid 10001 --gid workerpair --home-dir /var/lib/workerpair \
      --no-create-home --shell /usr/sbin/nologin workerpair
RUN install -d -o workerpair -g workerpair -m 0750 /var/lib/workerpair /var/lib/workerpair/workspaces
COPY --from=build /build/services/light/worker-light /usr/local/bin/worker-light

ENV WORKERPAIR_LISTEN=0.0.0.0:50051 \
    WORKERPAIR_METRICS_LISTEN=0.0.0.0:9091 \
    WORKERPAIR_ROOT=/var/lib/workerpair/workspaces \
    WORKERPAIR_LOG_JSON=true
USER 10001:10001
WORKDIR /var/lib/workerpair
VOLUME ["/var/lib/workerpair/workspaces"]
# gRPC (grpc.health.v1 + reflection on the same port), Prometheus /metrics
EXPOSE 50051 9091
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/worker-light"]
