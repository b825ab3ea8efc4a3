#!/usr/bin/env bash
# The 1,000-kill soak of a paper run: `charon run`, fed by `charon feed` in another process, is
# SIGKILLed 1,000 times at random moments and restarted; its final log must equal an
# uninterrupted run's (tests/crash_recovery.rs, which CI runs with 20 kills). Run it by hand
# after touching snapshots, the resuming sink or the feed. Usage: scripts/paper-crash-soak.sh
# [kills]. Rerun a failure with the seed it prints: CHARON_PAPER_SEED=<seed> scripts/paper-crash-soak.sh
set -euo pipefail

cd "$(dirname "$0")/.."
CHARON_PAPER_KILLS=${1:-1000} \
    cargo test --release -p charon-engine --test crash_recovery -- --nocapture
