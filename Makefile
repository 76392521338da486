# Entry points for people: `make demo` and `make check` (see README.md).
# The build itself is meson; this file only sequences install, build, guest.
BUILD      ?= build
BUILD_ASAN ?= build-asan
MESON_OPTS ?= -Dwerror=true

.PHONY: all deps build build-asan guest demo check check-fast fuzz clean

all: build

deps:
	bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

$(BUILD_ASAN)/build.ninja:
	meson setup $(BUILD_ASAN) $(MESON_OPTS) -Db_sanitize=address,undefined -Db_lundef=false

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

build-asan: $(BUILD_ASAN)/build.ninja
	ninja -C $(BUILD_ASAN)

guest: build
	ninja -C $(BUILD) guest

demo: deps build guest
	bash scripts/demo.sh $(BUILD)

# Everything: unit, golden, fuzz-corpus and integration tests, in the normal
# build and again under ASan+UBSan, then one honest count of every case.
check: deps
	bash scripts/check.sh $(BUILD) $(BUILD_ASAN)

check-fast: build
	meson test -C $(BUILD) --print-errorlogs --no-suite integration

fuzz:
	bash scripts/fuzz.sh

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) build-fuzz
