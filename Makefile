# Hamlet: the two commands a newcomer needs are `make run` and `make test`.
GO        ?= go
GOFLAGS   ?=
BIN       := bin
DIST      := dist
PKGS      := ./...
FUZZTIME  ?= 30s
SCHEDULES ?= 200000
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
export CGO_ENABLED := 0
# A benchmark piped into tee must still fail the target when it fails.
SHELL       := bash
.SHELLFLAGS := -o pipefail -c

.PHONY: all build cross cross-check run test test-packages sim sim-long spec bench bench-agent bench-analytics bench-dashboard bench-server bench-postgres fuzz lint fmt clean test-long

all: lint test build

## build: server and agent binaries for this machine, in bin/
build:
	$(GO) build -trimpath -o $(BIN)/ ./cmd/...

## cross: the agent for volunteers' laptops (Windows first) and the server for Linux, in dist/
cross:
	GOOS=windows GOARCH=amd64 $(GO) build -trimpath -o $(DIST)/windows-amd64/hamlet-agent.exe ./cmd/hamlet-agent
	GOOS=darwin  GOARCH=arm64 $(GO) build -trimpath -o $(DIST)/darwin-arm64/hamlet-agent ./cmd/hamlet-agent
	GOOS=linux   GOARCH=amd64 $(GO) build -trimpath -o $(DIST)/linux-amd64/hamlet-agent ./cmd/hamlet-agent
	GOOS=linux   GOARCH=amd64 $(GO) build -trimpath -o $(DIST)/linux-amd64/hamlet-server ./cmd/hamlet-server

## run: a server on embedded SQLite in ./data/demo with Cà Mau's units and a demo team, on
## 127.0.0.1:8750 (it prints passwords); run again, it keeps that data. DEMO_FLAGS passes flags:
## make run DEMO_FLAGS=--reset starts afresh, DEMO_FLAGS='--addr :8750' opens it to the network
DEMO_FLAGS ?=
run:
	$(GO) run ./cmd/hamlet-server demo --data-dir ./data/demo $(DEMO_FLAGS)

## test: everything CI checks (README gives this command); the Go tests run
## with a throwaway PostgreSQL cluster on loopback (scripts/pg-test.sh) and
## their scratch files in memory (scripts/tmpfs-run.sh; HAMLET_TEST_TMPFS=off: on the disk).
## go vet runs once, with every analyzer, before the tests (-vet=off: go test's own
## vet pass is a subset of it, about 20 CPU-seconds again); the simulation, the
## longest package, is listed first so it starts first (go test starts packages
## in the order given, two at a time) rather than last of the long ones. The cross-check
## builds beside them at the lowest CPU priority (scripts/idle-beside.sh), on the cycles they leave.
TEST_FIRST := ./internal/simtest
test:
	scripts/idle-beside.sh '$(MAKE) --no-print-directory cross-check' $(MAKE) --no-print-directory test-packages

## test-packages: make test without the cross-check: go vet and the Go tests
test-packages:
	$(GO) vet $(PKGS)
	scripts/tmpfs-run.sh scripts/pg-test.sh $(GO) test -vet=off -count=1 -timeout 12m $(TEST_FIRST) $(PKGS)

## cross-check: the agent builds for volunteers' Windows and macOS laptops (linux is the native build above).
## Every package is still compiled and linked for each target (the target's standard library,
## modernc.org/sqlite's generated code and our build-tagged files), so a type error or a link
## error on one system fails here; the binary is thrown away, so it is built without optimisation,
## inlining or debug information, which no check needs: on an empty build cache (CI) that is
## about 200 CPU-s for the two instead of 300. `make cross` still builds the real, optimised binaries.
CROSS_CHECK_FLAGS := -trimpath -gcflags=all='-N -l -dwarf=false' -ldflags='-s -w'
cross-check:
	GOOS=windows GOARCH=amd64 $(GO) build $(CROSS_CHECK_FLAGS) -o /dev/null ./cmd/hamlet-agent
	GOOS=darwin  GOARCH=arm64 $(GO) build $(CROSS_CHECK_FLAGS) -o /dev/null ./cmd/hamlet-agent

## spec: regenerate docs/protocol-vectors/ and the data-schema section of docs/PROTOCOL.md (a test checks them)
spec:
	$(GO) run ./cmd/hamlet-spec

## test-long: the convergence property test with many more schedules
test-long:
	$(GO) test -count=1 -timeout 60m -run 'TestConvergenceProperty$$' ./syncproto -schedules $(SCHEDULES)

## sim: replay one schedule of the deterministic simulation (internal/simtest) with its trace, step by
## step: make sim SEED=N (a failure prints SEED, STEPS and SCHEDULE, the shortest schedule found); even seeds
## run the server with --truncate-log, TRUNCATE=1 runs any seed so; WIDE=1, SILENT=1, FIXES=1, PG=1 as for sim-long
SEED     ?= 1
STEPS    ?= 0
SCHEDULE ?=
sim:
	$(SIMPG) $(GO) test -v -count=1 -timeout 10m -run 'TestReplay$$' ./internal/simtest -args -seed $(SEED) -steps $(STEPS) -schedule '$(SCHEDULE)' $(if $(filter 1,$(TRUNCATE)),-truncate) $(if $(filter 1,$(WIDE)),-wide) $(if $(filter 1,$(SILENT)),-silent) $(if $(filter 1,$(FIXES)),-fixes) $(if $(filter 1,$(BUDGET)),-budget) $(if $(filter 1,$(PG)),-pg)

## sim-long: SCHEDULES schedules of the simulation in PROCS test processes (default: one a core) of one worker each (half with --truncate-log; TRUNCATE=1: all),
## FIRST the first seed; three quarters of the seeds run in the wide world (teams gaining and losing hamlets,
## revocations, copied folders, restored backups; WIDE=1: all), a quarter in the silent world too (laptops silent
## past the server's horizon, households corrected and moved in one save; SILENT=1: all); FIXES=1 adds volunteers
## who send refused changes again (as they were or corrected) or discard them; two seeds in three run with a chunk budget of 25 changes (BUDGET=1: all); PG=1 runs the server on PostgreSQL (a throwaway cluster from
## scripts/pg-test.sh, a database per schedule); every invariant, the conflict log's included, always holds;
## prints schedules per second
FIRST    ?= 1
TRUNCATE ?= 0
WIDE     ?= 0
SILENT   ?= 0
FIXES    ?= 0
BUDGET   ?= 0
PG       ?= 0
PROCS    ?= $(shell nproc 2>/dev/null || echo 2)
SIMPG     = $(if $(filter 1,$(PG)),scripts/pg-test.sh)
sim-long:
	$(SIMPG) $(GO) test -v -count=1 -timeout 0 -run 'TestSchedules$$' ./internal/simtest -args -schedules $(SCHEDULES) -first $(FIRST) -procs $(PROCS) -workers 1 $(if $(filter 1,$(TRUNCATE)),-truncate) $(if $(filter 1,$(WIDE)),-wide) $(if $(filter 1,$(SILENT)),-silent) $(if $(filter 1,$(FIXES)),-fixes) $(if $(filter 1,$(BUDGET)),-budget) $(if $(filter 1,$(PG)),-pg)

## bench: the benchmarks whose figures the issues ask for (medians of 5 runs with benchstat-friendly output)
bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s -count 5 -cpu 1 ./syncproto | tee bench-syncproto.txt

## bench-analytics: dashboard API on the full Cà Mau province (300k households; loaded once, cached under $TMPDIR)
bench-analytics:
	$(GO) test -run '^$$' -bench 'ProvinceAPI' -benchtime 20x -timeout 60m ./examples/camau/loader | tee bench-analytics.txt
	$(GO) test -run '^$$' -bench . -benchtime 20x ./server/analytics | tee -a bench-analytics.txt

## bench-dashboard: the dashboard's pages on the full Cà Mau province (server time per page, gzipped weight with assets)
bench-dashboard:
	$(GO) test -run '^$$' -bench 'DashboardProvince' -benchtime 20x -timeout 60m ./server/dashboard/ | tee bench-dashboard.txt

## bench-server: the server's two benchmarks: push throughput against a bare SQLite insert (5 runs, median
## ratio printed last), then LOAD_RUNS runs of 2,000 simulated agents on loopback, the load generator pinned to
## CPU 0 and the server to CPU 1 (taskset, util-linux): p99 of a sync round, the server's CPU per agent sync
## (from /proc) against the bare SQLite cost of the same rows in the same run, RSS per idle connection after
## enrollment; medians printed last, with the machine's load average before and after (it is shared).
## bench-load runs the 2,000 agents alone (into bench-load.txt).
.PHONY: bench-load
LOAD_RUNS ?= 5
LOAD_PIN  ?= 0:1
LOAD_OUT  ?= bench-load.txt
bench-server:
	$(GO) test -run '^$$' -bench PushThroughput -benchtime 1x -count 5 -timeout 10m ./server/sqlitestore/ | tee bench-server.txt
	@grep -o '[0-9.]* %-of-bare' bench-server.txt | sort -n | awk '{v[NR]=$$1} END {if (NR) printf "push throughput: median %.1f%% of the bare insert over %d runs\n", v[int((NR+1)/2)], NR}' | tee -a bench-server.txt
	@$(MAKE) --no-print-directory bench-load LOAD_OUT=bench-server.txt
bench-load:
	@$(if $(filter bench-load.txt,$(LOAD_OUT)),: > $(LOAD_OUT),true)
	@$(if $(LOAD_PIN),command -v taskset >/dev/null || { echo 'bench-server pins the load generator and the server to a core each: install taskset (apt-get install util-linux) or run unpinned with LOAD_PIN='; exit 1; },true)
	$(GO) build -o $(BIN)/ ./cmd/hamlet-server ./cmd/hamlet-load
	@echo "load average before: $$(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $(LOAD_OUT)
	for i in $$(seq $(LOAD_RUNS)); do timeout 6m $(BIN)/hamlet-load --server-bin $(BIN)/hamlet-server --agents 2000 --timeout 5m $(if $(LOAD_PIN),--pin $(LOAD_PIN)) || exit 1; done | tee -a $(LOAD_OUT)
	@echo "load average after: $$(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $(LOAD_OUT)
	@scripts/load-medians.sh < $(LOAD_OUT) | tee -a $(LOAD_OUT)

## bench-postgres: push throughput through one server on PostgreSQL against a bare COPY of the same rows
## in the same run (5 runs, median ratio printed last), on the throwaway cluster of scripts/pg-test.sh
## (fsync off there: the same for both sides, so the ratio is fair; the absolute rates are not a disk's);
## then 2,000 agents on 1 and on 2 server processes against one database (hamlet-load --compare-procs 1,2)
bench-postgres:
	scripts/pg-test.sh $(GO) test -run '^$$' -bench PushThroughputPostgres -benchtime 1x -count 5 -timeout 20m ./server/pgstore/ | tee bench-postgres.txt
	@grep -o '[0-9.]* %-of-copy' bench-postgres.txt | sort -n | awk '{v[NR]=$$1} END {if (NR) printf "push throughput on PostgreSQL: median %.1f%% of the bare COPY over %d runs\n", v[int((NR+1)/2)], NR}' | tee -a bench-postgres.txt
	@# 2,000 agents on one server process, then on two against one database (a fresh database each), LOAD_RUNS times;
	@# each run prints a one-line summary with the throughput ratio, the median ratio is printed last
	$(GO) build -o $(BIN)/ ./cmd/hamlet-server ./cmd/hamlet-load
	scripts/pg-test.sh sh -c 'for i in $$(seq $(LOAD_RUNS)); do timeout 8m $(BIN)/hamlet-load --server-bin $(BIN)/hamlet-server --db "$$HAMLET_TEST_POSTGRES" --agents 2000 --compare-procs 1,2 --notify-wait 5s --timeout 7m || exit 1; done' | tee -a bench-postgres.txt
	@grep -o 'procs ratio [0-9.]*' bench-postgres.txt | awk '{print $$3}' | sort -n | awk '{v[NR]=$$1} END {if (NR) printf "2 server processes against 1 on one PostgreSQL, 2,000 agents: median throughput ratio %.2f over %d runs\n", v[int((NR+1)/2)], NR}' | tee -a bench-postgres.txt

## bench-agent: the agent's figures: first clone of a commune over loopback (by snapshot), a sync with nothing
## to do, an import of 26,000 households, one tutoring record by the hamlet-agent binary as a whole process
## (make bench-vs-bare prints each beside its bare SQLite cost)
bench-agent:
	$(GO) test -run '^$$' -bench 'FirstClone$$|NoopSync$$|Import26000$$' -benchtime 1x -count 5 -timeout 20m ./agent | tee bench-agent.txt
	$(GO) test -run '^$$' -bench 'TutorAdd' -benchtime 20x -count 5 ./cmd/hamlet-agent | tee -a bench-agent.txt

## bench-vs-bare: each sync figure (first clone, import, push, commands as processes) next to the bare SQLite
## cost of the same rows (or a bare process on the same file) measured in the same run, medians of BENCH_RUNS;
## PouchDB's bulkDocs of the same records too, and, as node processes against express-pouchdb on loopback,
## PouchDB's first replication of the same 26,000 records into an empty database (row "PouchDB first replication",
## ratio PouchDB/Hamlet, aim ≥ 25×) and its no-op sync on the same 20,000 households (row "PouchDB no-op sync",
## ratio PouchDB/Hamlet, aim ≥ 1×), pouchdb-node, express-pouchdb and express installed with npm into POUCHDB_DIR
## (outside the repository); BENCH_ONLY=clone measures the first clone alone (Hamlet's and PouchDB's),
## BENCH_ONLY=push the push alone, BENCH_ONLY=import the import alone (Replica.Import, PouchDB's bulkDocs of the
## same records, hamlet-agent import of a CSV and an XLSX file as processes),
## BENCH_ONLY=commands the commands as processes alone (status, tutor add, a no-op sync on 20,000 households, PouchDB's)
.PHONY: bench-vs-bare
BENCH_RUNS ?= 5
POUCHDB_DIR ?= $(or $(TMPDIR),/tmp)/hamlet-bench-pouchdb
bench-vs-bare:
	@mkdir -p $(POUCHDB_DIR) && (test -d $(POUCHDB_DIR)/node_modules/pouchdb-node -a -d $(POUCHDB_DIR)/node_modules/express-pouchdb || npm install --prefix $(POUCHDB_DIR) --no-audit --no-fund --cache $(POUCHDB_DIR)/.npm pouchdb-node@9 express-pouchdb@4 express@4 >/dev/null 2>&1) || echo "PouchDB could not be installed: its rows are left out (the table's notes say why)"
	HAMLET_POUCHDB=$(POUCHDB_DIR) HAMLET_BENCH_RUNS=$(BENCH_RUNS) HAMLET_BENCH_ONLY=$(BENCH_ONLY) $(GO) test -run '^$$' -bench 'VsBare$$' -benchtime 1x -timeout 60m ./agent | tee bench-vs-bare.txt

## bench-app: the volunteer's app on a replica of 20,000 households and 80,000 tutoring records: server time of
## every page, a search keystroke, the page after a write here or by a CLI command (5 runs; medians printed last)
.PHONY: bench-app
bench-app:
	$(GO) test -run '^$$' -bench 'App' -benchtime 20x -count 5 -timeout 30m ./agent/app | tee bench-app.txt
	@for b in $$(grep -oE '^BenchmarkApp[^[:space:]]*' bench-app.txt | sed 's/-[0-9]*$$//' | sort -u); do \
		grep -E "^$$b-[0-9]+[[:space:]]" bench-app.txt | awk '{print $$3}' | sort -n | \
		awk -v b=$$b '{v[NR]=$$1} END {if (NR) printf "%-60s median %7.2f ms over %d runs\n", b, v[int((NR+1)/2)]/1e6, NR}'; \
	done | tee -a bench-app.txt

## bench-scope: a team of 5,000 households gains a hamlet of 500: bytes the back-fill receives against a full clone (issue 9)
.PHONY: bench-scope
bench-scope:
	$(GO) test -run '^$$' -bench 'ScopeAddHamlet' -benchtime 3x -count 5 -timeout 20m ./agent | tee bench-scope.txt
	@grep -o '[0-9.]* ratio' bench-scope.txt | sort -n | awk '{v[NR]=$$1} END {if (NR) printf "scope back-fill: median %.4f of the full clone bytes over %d runs\n", v[int((NR+1)/2)], NR}' | tee -a bench-scope.txt

## fuzz: each fuzz target for FUZZTIME (everything that parses bytes from outside, and dates people type)
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./syncproto
	$(GO) test -run '^$$' -fuzz '^FuzzMerge$$' -fuzztime $(FUZZTIME) ./syncproto
	$(GO) test -run '^$$' -fuzz '^FuzzNormalizePhone$$' -fuzztime $(FUZZTIME) ./schema
	$(GO) test -run '^$$' -fuzz '^FuzzParseUnits2025$$' -fuzztime $(FUZZTIME) ./schema
	$(GO) test -run '^$$' -fuzz '^FuzzParseUnits2022$$' -fuzztime $(FUZZTIME) ./schema
	$(GO) test -run '^$$' -fuzz '^FuzzParseHamletMoves$$' -fuzztime $(FUZZTIME) ./schema
	$(GO) test -run '^$$' -fuzz '^FuzzParseHamlets$$' -fuzztime $(FUZZTIME) ./schema
	$(GO) test -run '^$$' -fuzz '^FuzzParseEnrollResponse$$' -fuzztime $(FUZZTIME) ./agent
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeVersionsCompact$$' -fuzztime $(FUZZTIME) ./internal/versions
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeStateCompact$$' -fuzztime $(FUZZTIME) ./agent
	$(GO) test -run '^$$' -fuzz '^FuzzParseSchedules$$' -fuzztime $(FUZZTIME) ./workcal
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./workcal
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeValue$$' -fuzztime $(FUZZTIME) ./server/pgstore
	$(GO) test -run '^$$' -fuzz '^FuzzParseDateTime$$' -fuzztime $(FUZZTIME) ./internal/i18n
	$(GO) test -run '^$$' -fuzz '^FuzzParseRoster$$' -fuzztime $(FUZZTIME) ./agent
	$(GO) test -run '^$$' -fuzz '^FuzzRawRecords$$' -fuzztime $(FUZZTIME) ./agent
	$(GO) test -run '^$$' -fuzz '^FuzzReadCSV$$' -fuzztime $(FUZZTIME) ./agent/importfile
	$(GO) test -run '^$$' -fuzz '^FuzzFold$$' -fuzztime $(FUZZTIME) ./agent
	$(GO) test -run '^$$' -fuzz '^FuzzParseEXIF$$' -fuzztime $(FUZZTIME) ./internal/photo
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeFrame$$' -fuzztime $(FUZZTIME) ./internal/framezstd

## lint: go vet plus staticcheck, fetched through the module proxy at a pinned version
lint:
	$(GO) vet $(PKGS)
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo 'run: gofmt -w .'; exit 1)
	$(GO) run $(STATICCHECK) $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN) $(DIST)

## bench-metadata: sync metadata per byte of row data on the server and an agent after 10 edits of every field of
## 10,000 households (HAMLET_BENCH_HOUSEHOLDS) and a compaction, METADATA_RUNS runs; medians printed last, the
## server's beside its baseline in the same run (its blobs copying every value, as before issue 20), aim < 1.0.
## The figures are bytes, not times: a busy machine slows the runs but does not move them.
## (Sub-benchmark "before": issue 9's baseline, superseded-only GC and no agent compaction: make bench-metadata-before)
.PHONY: bench-metadata bench-metadata-before
METADATA_RUNS ?= 5
bench-metadata:
	$(GO) test -run '^$$' -bench 'MetadataRatio/after' -benchtime 1x -count $(METADATA_RUNS) -timeout 90m ./agent/ | tee bench-metadata.txt
	@for m in server-meta/data server-meta/data-values-copied agent-meta/data; do \
		awk -v m=$$m '/^BenchmarkMetadataRatio/ {for (i = 1; i < NF; i++) if ($$(i+1) == m) print $$i}' bench-metadata.txt | sort -n | \
		awk -v m=$$m '{v[NR]=$$1} END {if (NR) printf "metadata after compaction: median %-32s %.3f over %d runs (aim < 1.0)\n", m, v[int((NR+1)/2)], NR}'; \
	done | tee -a bench-metadata.txt
bench-metadata-before:
	$(GO) test -run '^$$' -bench 'MetadataRatio/before' -benchtime 1x -count 3 -timeout 60m ./agent/ | tee bench-metadata-before.txt

## bench-clone: the first clone of the whole Cà Mau province raised to 2 million rows (camau.Province2M) over
## loopback, the agent in its own process (peak RSS from its rusage); the province is seeded once and cached
## under $TMPDIR (about 10 minutes on 2 busy cores); medians of CLONE_RUNS printed last, against issue 20's aims
.PHONY: bench-clone bench-hard
CLONE_RUNS ?= 5
bench-clone:
	$(GO) test -run '^$$' -bench 'ProvinceClone' -benchtime 1x -count $(CLONE_RUNS) -timeout 90m ./examples/camau/loader | tee bench-clone.txt
	@for m in s/clone MB-agent-peak-rss agent-cpu-s server-cpu-s; do grep -o "[0-9.]* $$m" bench-clone.txt | sort -n | awk -v m=$$m '{v[NR]=$$1} END {if (NR) printf "province clone, 2,000,000 rows: median %s %s over %d runs\n", v[int((NR+1)/2)], m, NR}'; done | tee -a bench-clone.txt
	@echo "aims (issue 20): under 30 s/clone, agent peak RSS under 150 MB" | tee -a bench-clone.txt

## bench-hard: issue 9's benchmarks from one target: the province clone, metadata against data after
## 10 edits of every field of 10,000 households and a compaction, and a scope change adding one hamlet
bench-hard: bench-clone bench-metadata bench-scope

## bench-photos: issue 19's figures over a 3G-like link (1 Mbit/s each way, 300 ms round trip, 1% loss; a proxy in the
## benchmark stands in for netem): a report with two 4 MB phone photos (record arrival, photo bytes after scaling),
## a report filed while photos upload, an upload cut at 60% and resumed (bytes); 3 runs
.PHONY: bench-photos
PHOTO_RUNS ?= 3
bench-photos:
	$(GO) test -run '^$$' -bench 'Photos3G' -benchtime 1x -count $(PHOTO_RUNS) -timeout 20m ./agent | tee bench-photos.txt
	$(GO) test -run '^$$' -bench 'ProcessPhonePhoto' -benchtime 3x ./internal/photo | tee -a bench-photos.txt
