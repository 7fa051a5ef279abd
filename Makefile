# The front door. `make` sets up, builds and runs the default pipeline; `make test` runs the tests.
#   make [PIPELINE=pipelines/x.yaml] [INPUT=path.zip] [OUTPUT=dir] [SET="train.epochs=3 ..."] [FORCE=1]
#   make bench [BENCH_PIPELINES="pipelines/seed.yaml ..."]

# bash for PIPESTATUS in test-kernel.
SHELL := /bin/bash

PIPELINE ?= pipelines/default.yaml
INPUT    ?= input/digit-recognizer.zip
OUTPUT   ?= output
SET      ?=
FORCE    ?=
# The cache: OUTPUT/cache unless CACHE (or the environment's DIGITS_CACHE) names a shared one.
CACHE    ?=
CACHE_DIR = $(or $(CACHE),$(DIGITS_CACHE),$(OUTPUT)/cache)
# `make submit`'s description of the upload on Kaggle (default: the pipeline, the run's id, its
# validation accuracy). Exported, so that the recipe passes it on as "$$MESSAGE" and the shell
# never parses it: quotes and backquotes arrive as written (a $ is make's own: write $$).
MESSAGE  ?=
export MESSAGE
# Pipelines `make bench` runs from an empty cache (all four: about 62 minutes here, 50 of them the default).
BENCH_PIPELINES ?= pipelines/seed.yaml pipelines/mlp.yaml pipelines/cnn.yaml pipelines/default.yaml

SWIFT    ?= swift
BIN      := .build/release/pipeline

# The instruction set the Swift code is compiled for: this machine's widest of three levels
# (scripts/target-cpu.sh: skylake-avx512, haswell, x86-64), as llama.cpp builds for its host;
# TARGET_CPU=x86-64 makes a binary any x86-64 CPU runs. The kernels' vectors follow the level
# (Sources/Tensor/VectorUnits.swift); results do not. A binary started on a CPU without its
# instructions says so and stops. A change of level rebuilds (the stamp below).
TARGET_CPU ?= $(shell scripts/target-cpu.sh)
VECTOR_DEFINES_x86-64         :=
VECTOR_DEFINES_haswell        := -Xswiftc -DDIGITS_AVX2
VECTOR_DEFINES_skylake-avx512 := -Xswiftc -DDIGITS_AVX2 -Xswiftc -DDIGITS_AVX512
ifneq ($(TARGET_CPU),)
ifeq ($(filter $(TARGET_CPU),x86-64 haswell skylake-avx512),)
$(error TARGET_CPU=$(TARGET_CPU): expected x86-64, haswell or skylake-avx512)
endif
SWIFT_FLAGS := -Xswiftc -target-cpu -Xswiftc $(TARGET_CPU) $(VECTOR_DEFINES_$(TARGET_CPU))
endif
TARGET_STAMP := .build/target-cpu
$(shell mkdir -p .build && { [ "$$(cat $(TARGET_STAMP) 2>/dev/null)" = "$(TARGET_CPU)" ] || echo "$(TARGET_CPU)" > $(TARGET_STAMP); })
STAGES   := unpack parse split normalise train evaluate predict
# FORCE=1 (or yes, true) re-runs; unset, empty, 0, no or false does not.
FORCING   = $(filter-out 0 no false,$(FORCE))
RUN_ARGS  = --pipeline $(PIPELINE) --input $(INPUT) --output $(OUTPUT) $(if $(CACHE),--cache $(CACHE)) $(foreach s,$(SET),--set $(s)) $(if $(FORCING),--force)

.PHONY: all setup build run test test-kernel check-cpus doctor bench fuzz status dag report exp submit demo clean help $(STAGES)

all: run

help:
	@echo "make                 set up, build, run $(PIPELINE) -> $(OUTPUT)/submission.csv"
	@echo "make test            run the tests, on the OpenBLAS kernels \`pipeline run\` would choose"
	@echo "make test STAGE=x    only the tests of one stage: $(TEST_GROUPS)"
	@echo "make test-kernel     the Tensor and NeuralNet tests again on CORETYPE=$(CORETYPE) (OpenBLAS kernels), built for TARGET_CPU"
	@echo "make check-cpus      the kernel choice on emulated CPUs: AVX2-only, and the Intel Xeon OpenBLAS 0.3.21 does not know (qemu-user)"
	@echo "make doctor          the CPU, OpenBLAS's kernels and why, threads, Swift and libarchive"
	@echo "make bench           speed beside pandas, numpy and PyTorch; every pipeline from an empty cache"
	@echo "make fuzz            libFuzzer on the CSV parser and the zip reader, FUZZ_TIME=$(FUZZ_TIME) s each"
	@echo "make <stage>         bring one stage up to date: $(STAGES)"
	@echo "make status          fresh / stale / missing per stage, and why"
	@echo "make dag             the stage graph"
	@echo "make report          the HTML report, $(OUTPUT)/report/index.html"
	@echo "make exp             every run in the cache (EXP=\"show --sort accuracy\", EXP=\"diff ID ID\")"
	@echo "make submit          upload $(OUTPUT)/submission.csv to Kaggle with its run's id (MESSAGE=\"...\" to describe it), recorded for make exp"
	@echo "make demo            test digits in the terminal with the model's guesses (MODEL=file to skip training)"
	@echo "make clean           delete $(CACHE_DIR)"
	@echo "variables: PIPELINE=$(PIPELINE) INPUT=$(INPUT) OUTPUT=$(OUTPUT) SET=\"key=value ...\" FORCE=1 (0: no)"
	@echo "           BENCH_PIPELINES=\"pipelines/seed.yaml ...\" (make bench; default: all four)"
	@echo "           TARGET_CPU=$(TARGET_CPU) (instructions compiled for: x86-64, haswell, skylake-avx512)"

setup:
	@scripts/setup.sh

# The binary is rebuilt only when a source changed, so a `make` with nothing to do stays fast.
SOURCES  := Package.swift $(shell find Sources -type f)

build: $(BIN)

# Every source of ours is recompiled when any changed. Swift 6.3's incremental build can leave a
# module compiled against another module's old struct layout after a struct gains a stored
# property (swiftlang/swift-package-manager#10502, swiftlang/swift#89636); the binary then
# crashes, or computes with misread memory and writes the result into the cache. Touching our
# sources costs 20-30 s of release recompiling here; the dependencies stay built.
$(BIN): $(SOURCES) $(TARGET_STAMP) | setup
	@touch $(filter %.swift,$(SOURCES))
	$(SWIFT) build -c release --product pipeline $(SWIFT_FLAGS)
	@touch $@

run: build
	@$(BIN) run $(RUN_ARGS)

$(STAGES): build
	@$(BIN) run --stage $@ $(RUN_ARGS)

status: build
	@$(BIN) status --pipeline $(PIPELINE) --input $(INPUT) --output $(OUTPUT) $(if $(CACHE),--cache $(CACHE)) $(foreach s,$(SET),--set $(s))

dag: build
	@$(BIN) dag --pipeline $(PIPELINE) --input $(INPUT) --output $(OUTPUT) $(if $(CACHE),--cache $(CACHE)) $(foreach s,$(SET),--set $(s))

# The HTML report of PIPELINE's run, bringing what it reads up to date first.
report: build
	@$(BIN) run --stage report $(RUN_ARGS)

# Every run the cache remembers (pipeline exp show; EXP="--sort accuracy", EXP="diff ID ID", ...).
EXP ?= show
exp: build
	@$(BIN) exp $(EXP) --output $(OUTPUT) $(if $(CACHE),--cache $(CACHE))

# OUTPUT/submission.csv to Kaggle with Kaggle's `kaggle` tool, after checking its format; recorded
# in the cache for `make exp` (pipeline submit). Uploads what is there: `make` first brings it up
# to date.
submit: build
	@$(BIN) submit --output $(OUTPUT) $(if $(CACHE),--cache $(CACHE)) $(if $(MESSAGE),--message "$$MESSAGE")

# MODEL=input/pretrained.npz draws with the shipped model, without training.
demo: build
	@$(BIN) demo --pipeline $(PIPELINE) --input $(INPUT) --output $(OUTPUT) $(foreach s,$(SET),--set $(s)) $(if $(MODEL),--model $(MODEL))

# Needs no build: the same lock as `pipeline clean` (flock(2) on the cache's .lock, which every
# run holds shared, here through util-linux's flock), so it refuses while a run uses the cache.
# The lock file itself stays, as pipeline clean leaves it. Published files stay.
clean:
	@if [ -d "$(CACHE_DIR)" ] && [ -n "$$(ls -A "$(CACHE_DIR)" | grep -vx .lock)" ]; then \
	  flock --nonblock --exclusive "$(CACHE_DIR)/.lock" find "$(CACHE_DIR)" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} + \
	    && echo "removed $(CACHE_DIR)" \
	    || { echo "make clean: $(CACHE_DIR): a run is using this cache" >&2; exit 1; }; \
	else echo "nothing to clean in $(CACHE_DIR)"; fi

doctor: build
	@$(BIN) doctor

# build --build-tests builds the pipeline executable too, which the process tests run. The tests
# run on the kernels the pipeline itself would run here (`pipeline doctor --core-type`: the user's
# OPENBLAS_CORETYPE, or what OpenBLAS picked, or the better ones the pipeline restarts on), so that
# a CPU Debian's OpenBLAS does not know does not slow the suite down to generic kernels either.
# `make test STAGE=parse` runs only the tests of one stage (or of the machinery: pipeline, for the
# runner, cache and command line; machine, for CPU and kernel choice). Each group is a
# `swift test --filter` pattern over Target.Suite/test; a test in Tests/DigitsPipelineTests
# keeps every pattern matching something and every suite in some group.
TESTS_unpack    := DataIOTests\.ZipArchive|EndToEndTests/(notAZip|missingMember|zipWithATraversingEntry|aFolderACSVPath|missingInput)
TESTS_parse     := DataIOTests\.(DigitCSVTests|DigitSourceTests|PropertyTests|CSVThroughputCheck)|EndToEndTests/(badPixel|aFolderACSVPath)
TESTS_split     := ConfigurationTests/split_|EndToEndTests/splitChange|CrossValidationTests/(folds|graph_)
TESTS_normalise := EndToEndTests/(splitChange|pretrainedModel_fromAnotherNormalisation|trainingRows_)|ShippedModelTests
TESTS_train     := TensorTests|NeuralNetTests|ConfigurationTests|ShippedModelTests|CrossValidationTests/members_|EndToEndTests/(trainingParameterChange|trainingRows_|addingEnsembleMembers|stageGroup|sameSeed|savedModel|divergingTraining|pretrainedModel)
TESTS_evaluate  := EndToEndTests/(fullRun|testTimeShift|testTimeRotation)|ExperimentLogTests/figures|CrossValidationTests/(evaluate_|expShow_)
TESTS_predict   := EndToEndTests/(fullRun|sameSeed|savedModel|testTimeShift|testTimeRotation|pretrainedModel_replaces)|ConfigurationTests/submission|SubmissionTests
TESTS_report    := ReportTests|ModelOutlineTests|EndToEndTests/report_|CrossValidationTests/evaluate_
TESTS_pipeline  := ^PipelineTests\.|DataIOTests\.Numpy|DigitsPipelineTests\.(ProcessTests|ConcurrencyTests|CommandLineTests|ExperimentLogTests|CacheCollectionTests|MakefileTests|TestGroupTests|SubmitCommandTests)|EndToEndTests/(secondRun|skippingAStage|numpy_)
TESTS_machine   := MachineTests
TEST_GROUPS     := $(STAGES) report pipeline machine
DEBUG_BIN := .build/debug/pipeline
test: setup
	@$(if $(STAGE),$(if $(filter $(STAGE),$(TEST_GROUPS)),,{ echo "make test: STAGE=$(STAGE): expected one of $(TEST_GROUPS)" >&2; exit 1; }))
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	@core=$$($(DEBUG_BIN) doctor --core-type) && [ -n "$$core" ] \
	  || { echo "make test: '$(DEBUG_BIN) doctor --core-type' named no kernels" >&2; exit 1; }; \
	filter='$(if $(STAGE),--filter $(TESTS_$(STAGE)))'; \
	echo "OPENBLAS_CORETYPE=$$core $(SWIFT) test --skip-build $$filter"; \
	OPENBLAS_CORETYPE=$$core $(SWIFT) test --skip-build $(if $(STAGE),--filter '$(TESTS_$(STAGE))') 2>&1 | tee .build/test.log; \
	status=$${PIPESTATUS[0]}; [ $$status -eq 0 ] || exit $$status; \
	grep -q "Test run with [1-9][0-9]* tests" .build/test.log || { echo "make test: no test ran" >&2; exit 1; }

# The numeric suites once more on other OpenBLAS kernels (Haswell: any AVX2 machine runs them), so
# that a test tied to one kernel's rounding fails on every machine, not only on some; with
# TARGET_CPU=x86-64 also with the baseline's vector width. `.ci/run` runs it after `make test`.
# Its own scratch path per TARGET_CPU leaves `make test`'s build alone.
CORETYPE ?= Haswell
KERNEL_TEST_BUILD := --scratch-path .build/test-kernel-$(or $(TARGET_CPU),default)
# A filter that matched nothing would pass, so the run must report tests.
test-kernel: setup
	$(SWIFT) build --build-tests $(KERNEL_TEST_BUILD) $(SWIFT_FLAGS)
	@mkdir -p .build
	OPENBLAS_CORETYPE=$(CORETYPE) $(SWIFT) test --skip-build $(KERNEL_TEST_BUILD) --filter '^(TensorTests|NeuralNetTests)\.' 2>&1 \
	  | tee .build/test-kernel.log; status=$${PIPESTATUS[0]}; [ $$status -eq 0 ] || exit $$status; \
	grep -q "Test run with [1-9][0-9]* tests" .build/test-kernel.log \
	  || { echo "make test-kernel: no test ran" >&2; exit 1; }

# The kernel choice on CPUs other than this one, emulated by qemu-user (scripts/emulated-cpus.sh):
# a binary for the x86-64 baseline, so that it runs where qemu emulates no AVX-512, built in its
# own scratch path to leave the main build's level alone. Not part of CI: it installs qemu-user.
EMULATED_BUILD := --scratch-path .build/emulated
check-cpus:
	@scripts/setup.sh qemu-user gcc
	$(SWIFT) build -c release --product pipeline $(EMULATED_BUILD) -Xswiftc -target-cpu -Xswiftc x86-64
	scripts/emulated-cpus.sh .build/emulated/release/pipeline

# OPENBLAS_CORETYPE (and OPENBLAS_L2_SIZE) may be set on this kind of machine to make OpenBLAS pick
# an older, safer kernel. A benchmark wants the kernel a user would get, so it unsets both, here only.
bench: build
	$(SWIFT) build -c release --product digits-bench $(SWIFT_FLAGS)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 bench/compare.py --bench .build/release/digits-bench --input $(INPUT)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 bench/pipelines.py --binary $(BIN) --input $(INPUT) $(BENCH_PIPELINES)

# libFuzzer with AddressSanitizer on the two parsers of untrusted input. -DFUZZING swaps the stub
# mains for the LLVMFuzzerTestOneInput entry points; a separate scratch path keeps the sanitized
# objects away from the normal build. New corpus entries collect in .fuzz/ (ignored by git); a
# crash is written to .fuzz/crash-* and belongs in the DataIO tests as a regression case. Optimized
# builds (as libFuzzer recommends) run ~100x faster here than debug ones, whose unspecialized
# generics allocate per byte; -detect_leaks=0 because the Swift runtime's metadata caches look
# like leaks to LeakSanitizer.
FUZZ_TIME  ?= 60
FUZZ_BUILD := $(SWIFT) build -c release --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address \
              -Xswiftc -parse-as-library -Xswiftc -DFUZZING -Xswiftc -enable-testing

fuzz:
	$(FUZZ_BUILD) --product FuzzCSV
	$(FUZZ_BUILD) --product FuzzArchive
	@mkdir -p .fuzz/csv .fuzz/archive
	.build-fuzz/release/FuzzCSV -detect_leaks=0 -max_total_time=$(FUZZ_TIME) -max_len=16384 -artifact_prefix=.fuzz/ .fuzz/csv Tests/FuzzCorpus/csv
	.build-fuzz/release/FuzzArchive -detect_leaks=0 -max_total_time=$(FUZZ_TIME) -max_len=16384 -artifact_prefix=.fuzz/ .fuzz/archive Tests/FuzzCorpus/archive
