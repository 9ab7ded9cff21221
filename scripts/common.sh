# common.sh: shared by bootstrap.sh and test.sh: install what is missing, configure, build.
set -euo pipefail

MTL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MTL_BUILD="${MTL_BUILD:-$MTL_ROOT/build}"

# Every package the project needs, all from Debian 12.
MTL_PACKAGES=(
  g++ cmake ninja-build pkg-config clang-format tmux jq
  antlr4 libantlr4-runtime-dev
  llvm-16-dev
  libfmt-dev libgtest-dev libcli11-dev nlohmann-json3-dev libedit-dev zlib1g-dev
  dataset-fashion-mnist
)

mtl_install_missing() {
  local missing=()
  for p in "${MTL_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "==> installing: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

mtl_build() {
  echo "==> configuring and building in $MTL_BUILD"
  cmake -S "$MTL_ROOT" -B "$MTL_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$MTL_BUILD" -j "$(nproc)"
}
