#!/usr/bin/env bash
# Quick start, first command: install dependencies, build, and run warrantd in the foreground
# with its embedded defaults (data in ./data, listening on 127.0.0.1:8080). Extra arguments
# go to warrantd (see `build/tools/warrantd --help`). Ctrl-C drains and stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target warrantd
exec build/tools/warrantd --data-dir ./data --listen 127.0.0.1:8080 "$@"
