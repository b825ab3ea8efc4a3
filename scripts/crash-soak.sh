#!/usr/bin/env bash
# The 1,000-kill crash soak: SIGKILLs a writer process 1,000 times per log kind (run and data)
# and checks after every kill that the log reopens intact. Not run in CI (CI runs the same test,
# events/tests/crash_safety.rs, with its default of 50 kills); run it by hand after touching the
# event log or the durability barrier. Usage: scripts/crash-soak.sh [kills]
# Rerun a failure with the seed it prints: CHARON_CRASH_SEED=<seed> scripts/crash-soak.sh
set -euo pipefail

cd "$(dirname "$0")/.."
CHARON_CRASH_KILLS=${1:-1000} \
    cargo test --release -p charon-events --test crash_safety -- --nocapture
