# cdcd daemon image: `docker build -t cdcd .`
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/cdcd ./cmd/cdcd

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/cdcd /usr/local/bin/cdcd
USER 65534:65534
ENTRYPOINT ["/usr/local/bin/cdcd"]
CMD ["run", "--config", "/etc/cdcd/cdcd.yaml"]
