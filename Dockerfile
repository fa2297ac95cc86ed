# dockgate container image:
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t dockgate .
#   docker run -d --name dockgate --network host -v dockgate-data:/var/lib/dockgate dockgate
#
# The gateway runs as distroless's nonroot user (65532) on the configuration
# the .deb installs (internal/release/packaging/dockgate.yaml, at the same
# path), with its data in the /var/lib/dockgate volume. That configuration
# listens on loopback only (HTTP API 8080, embedded MQTT broker 1883): with
# --network host they are the host's loopback ports, as with the .deb. To
# publish them instead, mount your own configuration over
# /etc/dockgate/dockgate.yaml with non-loopback listeners (which require an
# API token and broker credentials) and secrets in DOCKGATE_* variables.
# Serial devices: --device /dev/ttyUSB0 --group-add dialout's gid (20 on Debian).

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/dockgate ./cmd/dockgate \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/dockgate /usr/bin/dockgate
COPY internal/release/packaging/dockgate.yaml /etc/dockgate/dockgate.yaml
# An empty data directory owned by the runtime user: a new named volume
# starts as a copy of it.
COPY --from=build --chown=65532:65532 /out/data /var/lib/dockgate
USER 65532:65532
WORKDIR /var/lib/dockgate
VOLUME /var/lib/dockgate
EXPOSE 8080 1883
ENTRYPOINT ["/usr/bin/dockgate", "run", "-c", "/etc/dockgate/dockgate.yaml"]
