# controller image: the `controller` CLI (routes calls to worker-light and the worker-heavy pool).
#
#   docker build -f deploy/docker/controller.Dockerfile -t workerpair/controller:dev .
#   docker run --rm -e WORKERPAIR_LIGHT=host:50051 workerpair/controller:dev ping
#
# In Kubernetes it runs as a toolbox Deployment (deploy/k8s/base/controller.yaml):
#   kubectl -n workerpair exec deploy/controller -- controller ping
# Runtime packages: deploy/docker/controller.packages.

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
 && cmake --build /build --target controller -j "$(nproc)" \
 && strip /build/services/controller/controller

# ---- runtime stage: debian:12-slim, only what the binary loads ---------------------------------
FROM debian:12-slim AS runtime
ARG DEBIAN_FRONTEND=noninteractive
COPY deploy/docker/controller.packages /tmp/runtime.packages
RUN apt-get update -q \
 && sed -e 's/#.*//' -e '/^[[:space:]]*$/d' /tmp/runtime.packages \
      | xargs apt-get install -y -q --no-install-recommends \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime.packages \
 && groupadd --system --gid 10001 workerpair \
 && useradd --system --uid 10001 --gid workerpair --home-dir /var/lib/workerpair \
      --no-create-home --shell /usr/sbin/nologin workerpair
COPY --from=build /build/services/controller/controller /usr/local/bin/controller
USER 10001:10001
WORKDIR /tmp
ENTRYPOINT ["/usr/local/bin/controller"]
CMD ["--help"]
