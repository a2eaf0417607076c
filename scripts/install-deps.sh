#!/usr/bin/env bash
# Install what FaceShot needs to build and test on Debian/Ubuntu: FFmpeg development
# libraries, clang (for the FFmpeg bindings), pkg-config, a C toolchain, Mesa's CPU Vulkan
# driver (lavapipe: the UI tests render their screenshots with it), the X11 libraries the
# desktop window loads at run time, and Rust if missing.
# Safe to re-run: only missing packages are installed.
set -euo pipefail

packages=(
  build-essential pkg-config clang libclang-dev
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev libavdevice-dev
  mesa-vulkan-drivers libvulkan1
  libx11-6 libxcursor1 libxrandr2 libxi6 libxkbcommon-x11-0
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  if [[ -x "$HOME/.cargo/bin/cargo" ]]; then
    echo "Rust is installed in ~/.cargo/bin: add it to PATH (source ~/.cargo/env)" >&2
  else
    echo "Rust (cargo) is missing: installing rustup with the stable toolchain" >&2
    command -v curl >/dev/null 2>&1 || ${sudo:-} apt-get install -y -qq curl
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt -c clippy
  fi
  # shellcheck disable=SC1091
  source "$HOME/.cargo/env"
fi
