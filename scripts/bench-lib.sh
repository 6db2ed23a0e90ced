# Helpers the benchmarks share (sourced by bench-pull.sh and bench-build.sh).

# oci_layout DIR REF LAYER.tar...: an OCI image layout in DIR with one image named REF (amd64, CMD /bin/sh, one
# history entry per layer: buildah refuses a base whose history does not account for its layers). Each layer is
# gzipped (-6) beside its tar, as LAYER.tar.gz, and stored as a blob.
oci_layout() {
  local dir=$1 ref=$2; shift 2
  local diff_ids=() layers_json=() history=() layer digest
  mkdir -p "$dir/blobs/sha256"
  for layer in "$@"; do
    diff_ids+=("\"sha256:$(sha256sum < "$layer" | cut -d' ' -f1)\"")
    gzip -6 -c "$layer" > "$layer.gz"
    digest=$(sha256sum < "$layer.gz" | cut -d' ' -f1)
    cp "$layer.gz" "$dir/blobs/sha256/$digest"
    layers_json+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$digest\",\"size\":$(stat -c %s "$layer.gz")}")
    history+=('{"created_by":"bench layer"}')
  done
  local IFS=,
  local config="{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sh\"],\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[${diff_ids[*]}]},\"history\":[${history[*]}]}"
  local config_digest
  config_digest=$(printf '%s' "$config" | sha256sum | cut -d' ' -f1)
  printf '%s' "$config" > "$dir/blobs/sha256/$config_digest"
  local manifest="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$config_digest\",\"size\":${#config}},\"layers\":[${layers_json[*]}]}"
  local manifest_digest
  manifest_digest=$(printf '%s' "$manifest" | sha256sum | cut -d' ' -f1)
  printf '%s' "$manifest" > "$dir/blobs/sha256/$manifest_digest"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$dir/oci-layout"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest_digest" "${#manifest}" "$ref" > "$dir/index.json"
}

# seconds COMMAND...: the wall time of COMMAND in seconds. $EPOCHREALTIME, not date: no fork inside the timing.
seconds() {
  local start end
  start=${EPOCHREALTIME/./}
  "$@" >/dev/null
  end=${EPOCHREALTIME/./}
  awk -v d=$(( end - start )) 'BEGIN {printf "%.3f", d / 1e6}'
}
