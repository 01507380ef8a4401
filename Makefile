# The single entry point. `make demo` and `make test` do all set-up on a fresh machine.
# Every target checks its tools first and names any that is missing.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.PHONY: help tools deps fabric-bin fabric-ca-bin find-fabric contracts build network-up network-down network-status \
        chaincode-upgrade test test-unit demo demo-chaincode lint typecheck format clean fuzz-tools \
        model-tools model-check soak

ROOT := $(CURDIR)
TSX := $(ROOT)/node_modules/.bin/tsx
JEST := $(ROOT)/node_modules/.bin/jest
RESULTS := $(ROOT)/test/.results

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

# --- prerequisites -------------------------------------------------------------------------------
define need
	command -v $(1) >/dev/null 2>&1 || { echo "make: '$(1)' is required: $(2)" >&2; exit 1; }
endef

tools-node:
	@$(call need,node,Node.js >= 20.19 (https://nodejs.org))
	@$(call need,npm,npm (comes with Node.js))
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("make: Node.js >= 20.19 is required, found "+process.versions.node); process.exit(1) }'

tools-go:
	@$(call need,go,Go >= 1.26 (https://go.dev/doc/install))
	@$(call need,gcc,gcc (fabric-ca-server needs cgo))
	@$(call need,curl,curl)

tools: tools-node tools-go ## check that every prerequisite is installed

# npm ci only when package.json files or the lock changed since the last install.
node_modules/.install-stamp: package-lock.json package.json */package.json chaincode/*/package.json
	@echo "deps: npm ci (first run: about a minute)"
	npm ci --no-fund --no-audit
	@touch $@

deps: tools-node node_modules/.install-stamp ## install npm dependencies (skipped when up to date)

# --- native binaries -----------------------------------------------------------------------------
fabric-bin: tools-go ## build peer, orderer, tools, ccaas builder and fabric-ca from source into .bin/
	network/scripts/fabric-bin.sh all

fabric-ca-bin: tools-go ## build only fabric-ca-server and fabric-ca-client
	network/scripts/fabric-bin.sh ca

# schemathesis (PyPI) for the API fuzz test, in its own virtual environment; pinned, installed once.
SCHEMATHESIS_VERSION := 4.32.5
FUZZ_VENV := $(ROOT)/.venv-fuzz
$(FUZZ_VENV)/.stamp-$(SCHEMATHESIS_VERSION):
	@$(call need,python3,Python >= 3.9 with venv (the API fuzz test runs schemathesis))
	@echo "fuzz-tools: schemathesis $(SCHEMATHESIS_VERSION) into .venv-fuzz (first run: about 30 s)"
	@python3 -m venv $(FUZZ_VENV)
	@$(FUZZ_VENV)/bin/pip install --quiet --disable-pip-version-check schemathesis==$(SCHEMATHESIS_VERSION)
	@touch $@

fuzz-tools: $(FUZZ_VENV)/.stamp-$(SCHEMATHESIS_VERSION) ## install schemathesis (API fuzzing) into .venv-fuzz/

# spin (the model checker of model/*.pml) and gcc: spin from PATH, else Debian's package
# unpacked into .tools/spin (no root needed); the model tests count as skipped without it.
model-tools: ## install spin (Debian package) into .tools/spin unless it is on PATH
	@$(call need,gcc,gcc (spin's verifiers are C programs))
	@command -v spin >/dev/null 2>&1 || [ -x $(ROOT)/.tools/spin/usr/bin/spin ] || { \
	  echo "model-tools: spin from Debian's packages into .tools/spin"; \
	  mkdir -p $(ROOT)/.tools/deb && cd $(ROOT)/.tools/deb && apt-get download spin >/dev/null 2>&1 && \
	  dpkg -x spin_*.deb $(ROOT)/.tools/spin && rm -rf $(ROOT)/.tools/deb; } || \
	  echo "model-tools: could not install spin (apt-get download spin); the model tests will be skipped"

model-check: deps model-tools ## check the HTLC and orchestrated-escrow models with spin in every configuration (about 30 minutes)
	$(TSX) test/src/model-check.ts full

# --- build ---------------------------------------------------------------------------------------
contracts: deps ## compile the Solidity cash contracts and the securities chaincode (tsc); build the packages other packages import
	npm run --silent build -w @dvp/cash-contracts -w @dvp/certs -w @dvp/securities-chaincode

build: contracts ## compile every TypeScript package
	npm run --silent build --workspaces --if-present

typecheck: contracts ## type-check every package, tests included
	npx tsc --noEmit -p tsconfig.typecheck.json

lint: deps ## eslint + prettier check
	npx eslint .
	npx prettier --check .

format: deps ## rewrite files with prettier
	npx prettier --write .

# --- network -------------------------------------------------------------------------------------
# Fabric's binaries are looked for (FABRIC_BIN, .bin/, GOPATH/bin, PATH) and built with go install
# only when none is found; network-up runs without Fabric (and says so) when that fails too.
find-fabric: deps
	@$(TSX) network/src/cli.ts find-fabric || network/scripts/fabric-bin.sh fabric >/dev/null 2>&1 || \
	  echo "Fabric: not built either ('make fabric-bin' shows why); securities run on the EVM stand-in"

network-up: deps contracts fabric-ca-bin find-fabric ## bring the local ledgers up (idempotent; upgrades a changed chaincode)
	$(TSX) network/src/cli.ts up

network-down: deps ## stop everything network-up started; KEEP=1 keeps network/.state
	$(TSX) network/src/cli.ts down

network-status: deps ## show what is running
	$(TSX) network/src/cli.ts status

chaincode-upgrade: contracts ## redeploy a changed chaincode with the next sequence, network kept running
	$(TSX) network/src/cli.ts chaincode-upgrade

# --- tests ---------------------------------------------------------------------------------------
# Brings the network up once for the whole run, runs every jest project in one run, always brings
# the network down, and ends with the plain line "N passed, N failed, N skipped" (tests on real
# Fabric peers count as skipped, with one line saying why, where no Fabric binaries are found).
test: deps contracts fabric-ca-bin find-fabric fuzz-tools model-tools ## run every test, including those on the real ledgers
	@mkdir -p $(RESULTS); rm -f $(RESULTS)/*.json $(RESULTS)/fabric.txt $(RESULTS)/checks.txt
	@echo "test: lint (eslint) and format check (prettier)"
	@npx eslint . || echo "eslint" >> $(RESULTS)/checks.txt
	@npx prettier --check . >/dev/null || { npx prettier --list-different .; echo "prettier --check" >> $(RESULTS)/checks.txt; }
	@$(TSX) network/src/cli.ts find-fabric > $(RESULTS)/fabric.txt || true
	@rc=0; \
	$(TSX) network/src/cli.ts up || rc=$$?; \
	if [ $$rc -eq 0 ]; then \
	  $(JEST) --ci --maxWorkers=2 --json --outputFile=$(RESULTS)/jest.json || rc=$$?; \
	fi; \
	$(TSX) network/src/cli.ts down || rc=$$?; \
	node scripts/test-summary.js --fabric $(RESULTS)/fabric.txt --checks $(RESULTS)/checks.txt $(RESULTS)/jest.json || rc=$$?; \
	exit $$rc

test-unit: deps contracts ## only the tests that need no running network
	$(JEST) --selectProjects securities-chaincode cash-contracts certs gateway

# --- demo ----------------------------------------------------------------------------------------
demo: deps contracts fabric-ca-bin find-fabric ## bring the ledgers up, start both banks' gateways, settle two trades
	$(TSX) network/src/cli.ts up
	$(TSX) test/src/demo.ts

# SOAK_MINUTES (30), SOAK_IN_FLIGHT (4), SOAK_SAMPLE_SECONDS (15), SOAK_STUCK_SECONDS (180): see test/src/soak.ts.
soak: deps contracts fabric-ca-bin find-fabric ## sustained settlement (30 min): stuck trades, memory per gateway over time, the checker
	$(TSX) network/src/cli.ts up
	$(TSX) test/src/soak.ts

demo-chaincode: deps contracts fabric-ca-bin ## the HTLC steps by hand against the real chaincode (no gateways)
	$(TSX) network/src/cli.ts up
	npx tsc -p test/tsconfig.demo.json
	node test/.demo-build/test/src/demo-chaincode.js

clean: ## stop the network and delete build output (keeps the Go build cache and .bin/)
	-$(TSX) network/src/cli.ts down
	rm -rf node_modules */dist chaincode/*/dist chaincode/evm/artifacts chaincode/evm/src/generated $(RESULTS) .soak
