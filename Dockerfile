# alilink: a static binary on distroless, run as a non-root user.
#
#   docker build -t alilink .
#   docker run -d -p 8080:8080 -v alilink-state:/var/lib/alilink \
#       -e ALILINK_REFRESH_TOKEN=… -e ALILINK_SIGN_SECRET=… alilink
#
# The image listens on all interfaces, so alilink refuses to start without
# ALILINK_SIGN_SECRET (or ALILINK_PUBLIC=true for an open drive). The rotated
# refresh token lives in the /var/lib/alilink volume: keep it across restarts.
# dockerfile_test.go checks the promises made here.

FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0
# The modules first, so that a change to the source reuses this layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# -tags nodemo leaves the demo and its fake drive out of the image (demo_off.go).
RUN go build -tags nodemo -trimpath -ldflags="-s -w" -o /out/alilink . \
    && mkdir -m 0700 /out/state

# static-debian12 has CA certificates, tzdata and a nonroot user (65532), no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/alilink /alilink
COPY --from=build --chown=65532:65532 /out/state /var/lib/alilink
USER 65532:65532
ENV ALILINK_LISTEN=0.0.0.0:8080 \
    ALILINK_STATE_DIR=/var/lib/alilink
VOLUME /var/lib/alilink
EXPOSE 8080
# The binary asks its own /-/healthz (the image has no curl). Kubernetes
# ignores HEALTHCHECK: k8s/deployment.yaml has its own probes.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/alilink", "healthcheck"]
ENTRYPOINT ["/alilink"]
CMD ["serve"]
