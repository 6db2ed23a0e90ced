# Skiff build entry points. `make demo` and `make test` work on a fresh Debian 12 machine as root.
SHELL := /bin/bash
DOTNET ?= dotnet
RID := linux-x64
PUBLISH_FLAGS := -c Release -r $(RID) --nologo -v quiet

# Debian packages: what the build needs, and what the tests and benchmarks drive as peers.
BUILD_PACKAGES := gcc libc6-dev musl-tools clang zlib1g-dev make busybox-static python3 libseccomp2 libseccomp-dev libnftables1 libnetfilter-conntrack3
TEST_PACKAGES := $(BUILD_PACKAGES) tmux runc podman buildah containerd uidmap iproute2 procps docker-registry apache2-utils skopeo umoci dbus systemd time nftables containernetworking-plugins docker.io
BENCH_PACKAGES := $(TEST_PACKAGES) curl

.PHONY: all build native runtime cli service test unit-test integration-test demo bench clean deps-build deps-test deps-bench

all: build

build: native runtime cli service

include native/stage0/build.mk

native: bin/skiff-init

runtime: bin/skiff-runtime

cli: bin/skiff

service: bin/skiff-service

RUNTIME_SOURCES := $(shell find src -name '*.cs' -o -name '*.csproj' 2>/dev/null) Directory.Build.props

bin/skiff-runtime: $(RUNTIME_SOURCES)
	@mkdir -p bin build
	$(DOTNET) publish src/Skiff.Cli.Runtime/Skiff.Cli.Runtime.csproj $(PUBLISH_FLAGS) -o build/skiff-runtime
	strip -o bin/skiff-runtime build/skiff-runtime/skiff-runtime

# SQLite (the metadata store) is a native library that must sit beside the binary; NativeAOT looks for it there.
bin/skiff: $(RUNTIME_SOURCES)
	@mkdir -p bin build
	$(DOTNET) publish src/Skiff.Cli/Skiff.Cli.csproj $(PUBLISH_FLAGS) -o build/skiff
	cp build/skiff/skiff build/skiff/libe_sqlite3.so bin/

# The Docker API service: a program of its own, so that Kestrel costs nothing to skiff's commands and monitors
# (docs/api.md). It uses the engine's SQLite too, and finds libe_sqlite3.so beside it as skiff does.
bin/skiff-service: $(RUNTIME_SOURCES)
	@mkdir -p bin build
	$(DOTNET) publish src/Skiff.Api/Skiff.Api.csproj $(PUBLISH_FLAGS) -o build/skiff-service
	cp build/skiff-service/skiff-service bin/

# Installs only what is missing, so repeated runs cost a dpkg query instead of an apt round trip. No package may
# start its service while installing (a policy-rc.d that says no, unless the machine has one): docker.io's would start
# dockerd through its init script, and the tests use its client only, against skiff.
define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  policy=; if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && policy=1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; status=$$?; \
	  if [ -n "$$policy" ]; then rm -f /usr/sbin/policy-rc.d; fi; \
	  exit $$status; \
	fi
endef

deps-build:
	$(call apt_install,$(BUILD_PACKAGES))

deps-test:
	$(call apt_install,$(TEST_PACKAGES))

deps-bench:
	$(call apt_install,$(BENCH_PACKAGES))

test: deps-test
	$(MAKE) build
	./scripts/test.sh

demo: deps-build
	$(MAKE) build
	./scripts/demo.sh

bench: deps-bench
	$(MAKE) build
	./scripts/bench.sh

clean:
	rm -rf bin build
	find src tests -type d \( -name bin -o -name obj \) -prune -exec rm -rf {} +
