# worker-heavy image: stateless MuJoCo simulation, rendering (EGL) and video.
#
#   docker build -f deploy/docker/heavy.Dockerfile -t workerpair/worker-heavy:dev .
#   # CPU (Mesa llvmpipe):
#   docker run --rm -p 50052:50052 -p 9092:9092 --tmpfs /tmp workerpair/worker-heavy:dev
#   # GPU (NVIDIA container toolkit; NVIDIA_DRIVER_CAPABILITIES below asks for the EGL/GL libs):
#   docker run --rm --gpus all -p 50052:50052 -p 9092:9092 workerpair/worker-heavy:dev
#
# Headless EGL goes through glvnd: /usr/share/glvnd/egl_vendor.d/50_mesa.json (libegl-mesa0)
# serves CPU nodes; 10_nvidia.json (copied below) selects libEGL_nvidia.so.0, which the NVIDIA
# runtime mounts from the host driver when the "graphics" capability is requested. glvnd tries
# vendors in file-name order and skips one whose library is absent, so one image serves both.
# Runtime packages: deploy/docker/heavy.packages.

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
 && cmake --build /build --target worker-heavy worker-heavy-runner -j "$(nproc)" \
 && strip /build/services/heavy/worker-heavy /build/services/heavy/worker-heavy-runner

# ---- runtime stage: debian:12-slim, only what the binary loads ---------------------------------
FROM debian:12-slim AS runtime
ARG DEBIAN_FRONTEND=noninteractive
COPY deploy/docker/heavy.packages /tmp/runtime.packages
RUN apt-get update -q \
 && sed -e 's/#.*//' -e '/^[[:space:]]*$/d' /tmp/runtime.packages \
      | xargs apt-get install -y -q --no-install-recommends \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime.packages \
 && groupadd --system --gid 10001 workerpair \
 && useradd --system --uid 10001 --gid workerpair --home-dir /var/lib/workerpair \
      --no-create-home --shell /usr/sbin/nologin workerpair
COPY deploy/docker/10_nvidia.json /usr/share/glvnd/egl_vendor.d/10_nvidia.json
COPY --from=build /build/services/heavy/worker-heavy /usr/local/bin/worker-heavy
# Every job runs in a sandboxed runner process; worker-heavy starts the one beside itself.
COPY --from=build /build/services/heavy/worker-heavy-runner /usr/local/bin/worker-heavy-runner

# NVIDIA container runtime: mount compute, nvidia-smi and the EGL/GL driver libraries into
# whatever GPU the pod is given. Which GPU is the device plugin's to say (a pod requesting
# nvidia.com/gpu gets NVIDIA_VISIBLE_DEVICES set to its allocation): the image sets no
# NVIDIA_VISIBLE_DEVICES, because "all" here would hand every GPU of the node to a pod that
# requested none wherever nvidia is the default runtime. `docker run --gpus` sets it too.
ENV NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics \
    WORKERPAIR_LISTEN=0.0.0.0:50052 \
    WORKERPAIR_METRICS_LISTEN=0.0.0.0:9092 \
    WORKERPAIR_LOG_JSON=true \
    TMPDIR=/tmp
USER 10001:10001
WORKDIR /tmp
# Per-job scratch directories live under /tmp (mount an emptyDir or tmpfs there).
EXPOSE 50052 9092
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/worker-heavy"]
