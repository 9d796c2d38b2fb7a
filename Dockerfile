# Builds the snapshotter and ships it in a small runtime image (runs as root: it mounts filesystems).
# docker build -t containerd-lazy-snapshotter .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
# ReadyToRun (precompiled) so that the daemon does not JIT its READ path while containers start.
RUN dotnet publish src/Snapshotter/Snapshotter.csproj -c Release -r linux-x64 --self-contained false \
      -p:PublishReadyToRun=true -o /out -nologo

FROM mcr.microsoft.com/dotnet/aspnet:10.0
# Chunk codecs come from the system libraries (zstd, lz4_block).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libzstd1 liblz4-1 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out /opt/snapshotter
COPY deploy/config.json /etc/containerd-lazy-snapshotter/config.json
ENTRYPOINT ["/opt/snapshotter/snapshotter"]
CMD ["serve", "--config", "/etc/containerd-lazy-snapshotter/config.json"]
