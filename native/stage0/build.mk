# skiff-init: static, so it runs in any container and can be copied into a memfd.
# musl (apt: musl-tools) gives a ~10x smaller binary than glibc; sources use no <linux/*> headers.
SKIFF_INIT_CC := $(if $(shell command -v musl-gcc 2>/dev/null),musl-gcc -static -Os -s,gcc -static -O2 -s)
SKIFF_INIT_SRC := $(wildcard native/stage0/*.c)

bin/skiff-init: $(SKIFF_INIT_SRC) $(wildcard native/stage0/*.h)
	@mkdir -p bin
	$(SKIFF_INIT_CC) -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $(SKIFF_INIT_SRC)
