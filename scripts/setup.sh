#!/usr/bin/env bash
# Installs the system packages the build links against, when missing: libarchive (zip reading),
# OpenBLAS (GEMM) and pkg-config (how SwiftPM finds both). As root it installs them with apt-get;
# otherwise it prints the exact command and fails, rather than calling sudo behind your back.
# Packages named as arguments are wanted as well (`make check-cpus`: qemu-user and gcc).
set -euo pipefail

packages=(libarchive-dev libopenblas-dev pkg-config "$@")
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "setup: missing system packages: ${missing[*]}" >&2
  echo "setup: run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
