# ctxscale top-level Makefile.
#
#   make demo          run the main job end to end on the embedded example data
#   make demo-synth    one model on the synthetic language against its Bayes-optimal floor
#   make figures       draw the figures whose inputs exist into out/figures (plots/figures.sh)
#   make notebooks     run the notebooks on RUNS= and write the HTML report into REPORT=
#   make test          build everything and run all tests (SANITIZE=1: under ASan + UBSan)
#   make bench         run the benchmarks (results go in bench/RESULTS.md by hand, with date)
#   make fuzz          build the libFuzzer targets and run each for FUZZ_SECONDS (default 60)
#   make install PREFIX=/usr/local   binary, library, headers and pkg-config file
#   make deps          install the Debian packages that are missing (the targets above do it)
#
# Sources are discovered: every .c in the library folders goes into build/libctxscale.a, every
# tests/unit/test_*.c becomes a test binary, every tests/cli/*.sh a CLI test. BUILD=dir keeps
# separate builds apart (SANITIZE=1 defaults to build-san).

SHELL := /bin/bash
BUILD_DEFAULT := build
ifeq ($(SANITIZE),1)
BUILD_DEFAULT := build-san
endif
BUILD ?= $(BUILD_DEFAULT)
PREFIX ?= /usr/local
FUZZ_SECONDS ?= 60
VERSION := 0.1.0

CC ?= cc
PKGS := gsl hdf5 jansson inih openblas
WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS_COMMON := -std=c11 -O2 -g $(WARN) -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
                 -D_FILE_OFFSET_BITS=64 -I. -I$(BUILD)/gen
ifeq ($(CI),true)
WERROR ?= 1
endif
ifeq ($(WERROR),1)
CFLAGS_COMMON += -Werror
endif
ifeq ($(NATIVE),1)
CFLAGS_COMMON += -march=native
endif
SAN_FLAGS :=
ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

# pkg-config runs lazily (recursive variables), after `deps` has installed the packages.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs gsl hdf5 jansson inih | sed 's/-lgslcblas//') -lopenblas
ALL_CFLAGS = $(CFLAGS_COMMON) $(PKG_CFLAGS) $(SAN_FLAGS) $(CFLAGS)
# OpenMP is used by the CPU trainer's kernels (trainer/); everything links its runtime.
OPENMP := -fopenmp
ALL_LDLIBS = $(PKG_LIBS) -lm -lpthread $(OPENMP) $(MPI_LIBS) $(SAN_FLAGS) $(LDFLAGS) $(LDLIBS)
TEST_LIBS = $(shell pkg-config --libs cmocka)

LIB_DIRS := core data trainer fit analysis plots
LIB_SRC := $(sort $(wildcard $(addsuffix /*.c,$(LIB_DIRS))))
LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRC))
CLI_SRC := $(sort $(wildcard cli/*.c))
CLI_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(CLI_SRC))
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))
HELPER_SRC := $(sort $(wildcard tests/helpers/*.c))
HELPER_BIN := $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(HELPER_SRC))
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
# The notebooks (docs/notebooks.md), built by `make notebooks` and `make test`.
NB_BIN := $(patsubst notebooks-c/%.c,$(BUILD)/notebooks/%, \
            $(sort $(wildcard notebooks-c/nb_*.c notebooks-c/report.c)))
NB_OBJ := $(BUILD)/obj/notebooks-c/notebook.o $(BUILD)/obj/cli/opt.o $(BUILD)/obj/cli/shared_opts.o
LIB := $(BUILD)/libctxscale.a
BIN := $(BUILD)/ctxscale

NVCC := $(shell command -v nvcc 2>/dev/null)
MPICC := $(shell command -v mpicc 2>/dev/null)
# With MPI, trainer/dist.c is built against it and everything links libmpi (ranks are used only
# when a launcher started the process: docs/trainer.md). MPI=0 builds without it.
ifneq ($(MPI),0)
ifneq ($(MPICC),)
MPI_CFLAGS = $(shell $(MPICC) --showme:compile) -DCS_HAVE_MPI
MPI_LIBS = $(shell $(MPICC) --showme:link)
endif
endif
NCCL_H := $(firstword $(wildcard /usr/local/cuda/include/nccl.h /usr/include/nccl.h))

# ---- CUDA (docs/cuda.md) ----------------------------------------------------------------------
# Only where nvcc exists (`make NVCC=` turns it off): trainer/cuda/*.cu replace
# trainer/cuda_stub.c in the library, every binary links cuBLAS and the CUDA runtime, and each
# tests/parity/<op>.c becomes a test binary (it exits 77, skipped, without a GPU). Without nvcc
# the CPU build is unchanged and bench/bench_gpu.c is left out.
ifneq ($(NVCC),)
CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(NVCC))
NVCC_ARCH ?= -gencode=arch=compute_90,code=sm_90 -gencode=arch=compute_90,code=compute_90
NVCCFLAGS := -std=c++17 -O2 -lineinfo $(NVCC_ARCH) -I. -Xcompiler -Wall,-Wextra
ifeq ($(WERROR),1)
NVCCFLAGS += -Werror all-warnings -Xcompiler -Werror
endif
CUDA_OBJ := $(patsubst %.cu,$(BUILD)/obj/%.cu.o,$(sort $(wildcard trainer/cuda/*.cu)))
LIB_OBJ := $(filter-out $(BUILD)/obj/trainer/cuda_stub.o,$(LIB_OBJ)) $(CUDA_OBJ)
ALL_LDLIBS += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -Wl,--as-needed -lcublas \
              -lcudart -lstdc++ -Wl,--no-as-needed
PARITY_BIN := $(patsubst tests/parity/%.c,$(BUILD)/tests/parity/parity_%, \
                $(sort $(wildcard tests/parity/*.c)))
TEST_BIN += $(PARITY_BIN)
else
BENCH_BIN := $(filter-out $(BUILD)/bench/bench_gpu,$(BENCH_BIN))
endif
.PHONY: test-gpu bench-gpu

$(BUILD)/obj/%.cu.o: %.cu
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) -MMD -MP -MF $(@:.o=.d) -c $< -o $@

$(BUILD)/tests/parity/parity_%: tests/parity/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(LIB) $(ALL_LDLIBS)

# Builds and runs the parity tests: PASS, SKIP (no GPU) or FAIL per op.
test-gpu: deps
	@$(MAKE) --no-print-directory build-all $(PARITY_BIN)
	@if [ -z "$(NVCC)" ]; then echo "✗ nvcc not found: tests/parity/* skipped"; \
	 else bash tests/parity/run.sh $(PARITY_BIN); fi

# GPT-2 124M at T = 1024 (and the other shapes of bench/gpu.sh) through the CUDA ops table.
bench-gpu: deps
	@if [ -z "$(NVCC)" ]; then echo "✗ nvcc not found: bench-gpu skipped"; \
	 else $(MAKE) --no-print-directory build-all $(BUILD)/bench/bench_gpu && \
	 BUILD=$(BUILD) bash bench/gpu.sh; fi
# ---- end of CUDA ------------------------------------------------------------------------------

.PHONY: all deps build-all test test-build run-tests demo bench fuzz install clean features \
        check-symbols check-twins format-check
.DEFAULT_GOAL := all

all: deps
	@$(MAKE) --no-print-directory build-all

deps:
	@sh scripts/deps.sh

features:
	@if [ -n "$(NVCC)" ]; then echo "✓ nvcc found: $(NVCC)"; \
	 else echo "✗ nvcc not found: tests/parity/* skipped"; fi
	@if [ -n "$(NCCL_H)" ]; then echo "✓ NCCL found: $(NCCL_H)"; else echo "✗ NCCL not found"; fi
	@if [ -n "$(MPICC)" ]; then echo "✓ MPI found: $(MPICC)"; else echo "✗ MPI not found"; fi

build-all: features $(LIB) $(BIN) check-symbols

$(BUILD)/gen/cs_gitrev.h: FORCE
	@mkdir -p $(@D)
	@rev=$$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown); \
	 if ! git diff --quiet HEAD 2>/dev/null; then rev="$$rev-dirty"; fi; \
	 line="#define CS_GIT_REVISION \"$$rev\""; \
	 if [ ! -f $@ ] || [ "$$(cat $@)" != "$$line" ]; then echo "$$line" > $@; fi
FORCE:

$(BUILD)/obj/core/version.o: $(BUILD)/gen/cs_gitrev.h

# No errno from libm and no FP traps: lets `omp simd` loops vectorise (docs/trainer_ops.md).
$(BUILD)/obj/trainer/%.o: CFLAGS += $(OPENMP) -fno-math-errno -fno-trapping-math

$(BUILD)/obj/trainer/dist.o: CFLAGS += $(MPI_CFLAGS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DCS_VERSION_STRING='"$(VERSION)"' -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(ALL_LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(LIB) $(TEST_LIBS) $(ALL_LDLIBS)

$(BUILD)/tests/helpers/%: tests/helpers/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(LIB) $(ALL_LDLIBS)

# Every exported symbol of the library starts with cs_ (STYLE.md).
check-symbols: $(LIB)
	@bad=$$(nm -g --defined-only $(LIB) | awk '$$2 ~ /[TDBR]/ {print $$3}' | grep -v '^cs_' || true); \
	 if [ -n "$$bad" ]; then echo "check-symbols: exported without cs_ prefix:"; echo "$$bad"; exit 1; fi

# Every CUDA op has a CPU twin and a parity test (STYLE.md). Pure shell: runs without nvcc.
check-twins:
	@bad=0; for cu in $(wildcard trainer/cuda/*.cu); do s=$$(basename $$cu .cu); \
	  [ "$$s" = device ] && continue; \
	  [ -f trainer/$$s.c ] || { echo "check-twins: $$cu has no CPU twin trainer/$$s.c"; bad=1; }; \
	  [ -f tests/parity/$$s.c ] || { echo "check-twins: $$cu has no parity test tests/parity/$$s.c"; bad=1; }; \
	  done; for h in $$(grep -l 'cs_[a-z0-9_]*_cpu *(' trainer/*.h); do s=$$(basename $$h .h); \
	  [ -f trainer/cuda/$$s.cu ] || { echo "check-twins: $$h has no CUDA twin trainer/cuda/$$s.cu"; bad=1; }; \
	  done; exit $$bad

test: deps
	@sh scripts/deps.sh chromium
	@$(MAKE) --no-print-directory check-twins
	@$(MAKE) --no-print-directory test-build
	@$(MAKE) --no-print-directory run-tests

test-build: build-all $(TEST_BIN) $(HELPER_BIN) $(NB_BIN)

run-tests:
	@CS_BUILD=$(BUILD) CS_SRC=$(CURDIR) bash tests/run.sh $(TEST_BIN)

demo: deps
	@$(MAKE) --no-print-directory build-all
	@BUILD=$(BUILD) MAKE='$(MAKE)' bash scripts/demo.sh

.PHONY: demo-synth
demo-synth: deps
	@$(MAKE) --no-print-directory build-all
	@BUILD=$(BUILD) bash scripts/demo-synth.sh

.PHONY: figures
figures: deps
	@$(MAKE) --no-print-directory build-all
	@BUILD=$(BUILD) bash plots/figures.sh

# ---- notebooks (docs/notebooks.md) -------------------------------------------------------------
# notebooks-c/nb_*.c are literate programs over the library, each writing a Markdown section and
# its figures; notebooks-c/report.c joins them into report.md and report.html (libcmark, linked
# only here). `make notebooks RUNS=dir REPORT=dir [PREDICTION=file] [CORPUS=store]` runs them.
# (notebook.o is kept: it is not an intermediate to delete after each link)
.SECONDARY: $(NB_OBJ)
RUNS ?= out/demo/sweep
REPORT ?= out/demo/report
$(BUILD)/notebooks/%: notebooks-c/%.c $(NB_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(NB_OBJ) $(LIB) \
	  $(if $(filter report,$*),$(shell pkg-config --libs libcmark)) $(ALL_LDLIBS)
.PHONY: notebooks
notebooks: deps
	@$(MAKE) --no-print-directory build-all $(NB_BIN)
	@BUILD='$(BUILD)' RUNS='$(RUNS)' REPORT='$(REPORT)' PREDICTION='$(PREDICTION)' \
	  CORPUS='$(CORPUS)' C1='$(C1)' FLOOR='$(FLOOR)' bash notebooks-c/run.sh

bench: deps
	@$(MAKE) --no-print-directory build-all $(BENCH_BIN)
	@BUILD=$(BUILD) bash bench/run.sh

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(LIB) $(ALL_LDLIBS)

# libFuzzer targets: the library is rebuilt with clang and sanitizers in build-fuzz.
# (-Wno-pass-failed: clang cannot honour the "omp simd" hints under the sanitizers; that is not an error.)
FUZZ_BUILD := build-fuzz
fuzz: deps
	@sh scripts/deps.sh clang libclang-rt-14-dev libomp-14-dev
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang \
	  SAN_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -Wno-pass-failed" $(FUZZ_BUILD)/libctxscale.a
	@mkdir -p $(FUZZ_BUILD)/fuzz
	@set -e; for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  clang $(CFLAGS_COMMON) -I$(FUZZ_BUILD)/gen $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -o $(FUZZ_BUILD)/fuzz/$$n $$f $(FUZZ_BUILD)/libctxscale.a $(PKG_LIBS) -lm -lpthread $(OPENMP); done
	@set -e; for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$n; \
	  if [ -d fuzz/seeds/$$n ]; then cp -n fuzz/seeds/$$n/* $(FUZZ_BUILD)/corpus/$$n/ 2>/dev/null || true; fi; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_BUILD)/fuzz/$$n -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 \
	    -print_final_stats=1 $(FUZZ_BUILD)/corpus/$$n > $(FUZZ_BUILD)/fuzz/$$n.log 2>&1 \
	    || { tail -40 $(FUZZ_BUILD)/fuzz/$$n.log; exit 1; }; \
	  grep -E '^stat::number_of_executed_units' $(FUZZ_BUILD)/fuzz/$$n.log || true; done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/ctxscale
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libctxscale.a
	@for h in $(wildcard $(addsuffix /*.h,$(LIB_DIRS))); do \
	  install -D -m 644 $$h $(DESTDIR)$(PREFIX)/include/ctxscale/$$h; done
	@sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	  -e 's|@LIBS_PRIVATE@|$(strip $(filter-out $(PKG_LIBS) $(SAN_FLAGS) $(LDFLAGS) $(LDLIBS),$(ALL_LDLIBS)))|' scripts/ctxscale.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/ctxscale.pc
	@echo "installed ctxscale $(VERSION) under $(DESTDIR)$(PREFIX)"

format-check:
	clang-format --dry-run --Werror $(LIB_SRC) $(CLI_SRC) $(wildcard $(addsuffix /*.h,$(LIB_DIRS) cli)) \
	  $(wildcard notebooks-c/*.[ch])

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_BIN:=.d) $(HELPER_BIN:=.d) $(BENCH_BIN:=.d) \
         $(NB_BIN:=.d) $(NB_OBJ:.o=.d)
