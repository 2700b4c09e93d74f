#!/usr/bin/env bash
# Install (or uninstall) edgewarden on Debian / Raspberry Pi OS.
#
# Idempotent: a second run changes nothing and reports "already present" for
# every step it skips. A technician's /etc/edgewarden/config.yaml is never
# overwritten. See --help for the options.
set -euo pipefail
umask 022

readonly PROG="edgewarden-install"
readonly DEFAULT_PREFIX="/opt/edgewarden"
readonly NODE_MIN_MAJOR=20
readonly NODE_MIN_MINOR=19
readonly SVC_USER="edgewarden"
readonly SVC_GROUP="edgewarden"
readonly UNIT_NAME="edgewarden.service"
# What gets copied from the package into PREFIX (dist/ is required).
readonly PACKAGE_ITEMS=(dist package.json package-lock.json config models systemd scripts/install.sh)

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "${SCRIPT_DIR}/.." && pwd)"
readonly SCRIPT_DIR REPO_DIR

PREFIX="${DEFAULT_PREFIX}"
ROOT=""
ENABLE=1
START=0
UNINSTALL=0
PURGE=0
SKIP_NPM=0
CHANGED=0

usage() {
  cat <<EOF
Usage: install.sh [options]

Installs edgewarden from this package (${REPO_DIR}) on a Debian or
Raspberry Pi OS gateway: system user, files in PREFIX, the systemd unit,
/etc/edgewarden with an example config, and /usr/local/bin/edgewarden.

Options:
  --prefix DIR   install the package into DIR (default ${DEFAULT_PREFIX})
  --root DIR     staging root for packaging and tests: every path is written
                 under DIR; no useradd, chown, npm or systemctl calls are made
  --no-enable    do not enable the unit
  --start        start (or restart, if something changed) the unit
  --skip-npm     do not run 'npm ci' in PREFIX (offline staging)
  --uninstall    stop and disable the unit, remove the unit, the symlink and
                 PREFIX; keep /etc/edgewarden, /var/lib/edgewarden and the user
  --purge        with --uninstall: also remove /etc/edgewarden,
                 /var/lib/edgewarden, unit drop-ins and the edgewarden user
  -h, --help     show this help
EOF
}

say() { printf '%s: %s\n' "${PROG}" "$*"; }
note() { printf '%s: note: %s\n' "${PROG}" "$*"; }
present() { printf '%s: already present: %s\n' "${PROG}" "$*"; }
absent() { printf '%s: already absent: %s\n' "${PROG}" "$*"; }
changed() {
  CHANGED=1
  printf '%s: %s\n' "${PROG}" "$*"
}
die() {
  printf '%s: error: %s\n' "${PROG}" "$*" >&2
  exit 1
}

need_arg() {
  if [[ $# -lt 2 || -z "$2" || "$2" == --* ]]; then
    die "$1 needs a directory argument"
  fi
}

parse_args() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --prefix)
        need_arg "$@"
        PREFIX="$2"
        shift 2
        ;;
      --prefix=*)
        PREFIX="${1#*=}"
        shift
        ;;
      --root)
        need_arg "$@"
        ROOT="$2"
        shift 2
        ;;
      --root=*)
        ROOT="${1#*=}"
        shift
        ;;
      --no-enable)
        ENABLE=0
        shift
        ;;
      --start)
        START=1
        shift
        ;;
      --skip-npm)
        SKIP_NPM=1
        shift
        ;;
      --uninstall)
        UNINSTALL=1
        shift
        ;;
      --purge)
        PURGE=1
        shift
        ;;
      -h | --help)
        usage
        exit 0
        ;;
      *)
        usage >&2
        die "unknown option: $1"
        ;;
    esac
  done

  if [[ ${PURGE} -eq 1 && ${UNINSTALL} -eq 0 ]]; then
    die "--purge only makes sense together with --uninstall"
  fi

  # PREFIX ends up unquoted in ExecStart= and in a sed expression: keep it plain.
  PREFIX="${PREFIX%/}"
  if [[ ! "${PREFIX}" =~ ^/[A-Za-z0-9._+/-]+$ ]]; then
    die "--prefix must be an absolute path of letters, digits and ._+-/ (got '${PREFIX}')"
  fi
  case "${PREFIX}/" in
    /home/* | /root/* | /run/user/* | /tmp/* | /var/tmp/*)
      die "--prefix ${PREFIX} is hidden from the service (ProtectHome=/PrivateTmp=); use e.g. ${DEFAULT_PREFIX}"
      ;;
  esac
  # PREFIX is replaced on install and deleted on uninstall: never a system
  # directory itself (/usr/lib/edgewarden is fine, /usr/lib is not).
  if [[ "${PREFIX}" =~ ^/(bin|sbin|lib|lib32|lib64|opt|srv|usr|var|usr/[^/]+|var/[^/]+)$ ]] ||
    [[ "${PREFIX}/" =~ ^/(boot|dev|etc|proc|run|sys)/ ]]; then
    die "--prefix ${PREFIX} is a system directory; use a dedicated one such as ${DEFAULT_PREFIX}"
  fi

  if [[ -n "${ROOT}" ]]; then
    ROOT="${ROOT%/}"
    if [[ -z "${ROOT}" ]]; then
      die "--root / is the live system; leave --root out instead"
    fi
    if [[ ${UNINSTALL} -eq 0 ]]; then
      mkdir -p -- "${ROOT}"
    elif [[ ! -d "${ROOT}" ]]; then
      die "--root ${ROOT} does not exist"
    fi
    ROOT="$(cd -- "${ROOT}" && pwd)"
    if [[ "${ROOT}" == "/" ]]; then
      die "--root / is the live system; leave --root out instead"
    fi
  fi
}

# Target-system paths (as the gateway sees them) and where this run writes them.
set_paths() {
  UNIT_PATH="/etc/systemd/system/${UNIT_NAME}"
  DROPIN_PATH="/etc/systemd/system/${UNIT_NAME}.d"
  ETC_PATH="/etc/edgewarden"
  CONFIG_PATH="${ETC_PATH}/config.yaml"
  STATE_PATH="/var/lib/edgewarden"
  LINK_PATH="/usr/local/bin/edgewarden"
  CLI_PATH="${PREFIX}/dist/cli.js"

  R_PREFIX="${ROOT}${PREFIX}"
  R_UNIT="${ROOT}${UNIT_PATH}"
  R_DROPIN="${ROOT}${DROPIN_PATH}"
  R_ETC="${ROOT}${ETC_PATH}"
  R_CONFIG="${ROOT}${CONFIG_PATH}"
  R_STATE="${ROOT}${STATE_PATH}"
  R_LINK="${ROOT}${LINK_PATH}"
}

staging() { [[ -n "${ROOT}" ]]; }

systemd_running() {
  ! staging && [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1
}

require_root() {
  if staging; then
    if [[ ${EUID} -ne 0 ]]; then
      note "not running as root: fine for --root staging, file ownership is left as is"
    fi
    return
  fi
  if [[ ${EUID} -ne 0 ]]; then
    die "must run as root (try: sudo $0 $*)"
  fi
}

# ---------------------------------------------------------------------------
# Node.js
# ---------------------------------------------------------------------------
NODE_BIN="/usr/bin/node"

node_help() {
  cat >&2 <<EOF
edgewarden needs Node.js >= ${NODE_MIN_MAJOR}.${NODE_MIN_MINOR}. Debian 12 / Raspberry Pi OS bookworm ship
Node.js 18 in their own nodejs package, which is too old. Install a current one:
  - NodeSource (amd64, arm64, armhf):
      curl -fsSL https://deb.nodesource.com/setup_22.x -o nodesource_setup.sh
      sudo bash nodesource_setup.sh && sudo apt-get install -y nodejs
  - or the nodejs package from Debian backports, if it offers >= ${NODE_MIN_MAJOR}.${NODE_MIN_MINOR}:
      sudo apt-get install -t bookworm-backports nodejs
EOF
}

check_node() {
  local found version major minor rest
  if ! found="$(command -v node)"; then
    if staging; then
      note "node not found on this machine; the target gateway needs Node.js >= ${NODE_MIN_MAJOR}.${NODE_MIN_MINOR} at ${NODE_BIN}"
      return
    fi
    node_help
    die "node not found"
  fi
  version="$(node -p 'process.versions.node' 2>/dev/null || true)"
  IFS=. read -r major minor rest <<<"${version}"
  : "${rest:=}"
  if [[ ! "${major}" =~ ^[0-9]+$ || ! "${minor:-}" =~ ^[0-9]+$ ]]; then
    die "could not read the Node.js version from ${found} (got '${version}')"
  fi
  if ((major < NODE_MIN_MAJOR || (major == NODE_MIN_MAJOR && minor < NODE_MIN_MINOR))); then
    if staging; then
      note "node ${version} here is older than ${NODE_MIN_MAJOR}.${NODE_MIN_MINOR}; the target gateway needs a newer one"
      return
    fi
    node_help
    die "node ${version} at ${found} is too old"
  fi
  if staging; then
    return
  fi
  case "${found}/" in
    /home/* | /root/* | /tmp/*)
      die "node at ${found} is under a home or temp directory (nvm?), which the service cannot see; install a system-wide Node.js"
      ;;
  esac
  NODE_BIN="${found}"
  say "node ${version} at ${NODE_BIN}"
}

# ---------------------------------------------------------------------------
# Install steps
# ---------------------------------------------------------------------------
check_package() {
  if [[ ! -f "${REPO_DIR}/dist/cli.js" ]]; then
    die "${REPO_DIR}/dist/cli.js is missing: run npm ci && npm run build first"
  fi
  if [[ ! -f "${REPO_DIR}/systemd/${UNIT_NAME}" ]]; then
    die "${REPO_DIR}/systemd/${UNIT_NAME} is missing: this does not look like an edgewarden package"
  fi
  if [[ ! -f "${REPO_DIR}/package.json" ]] || ! grep -q '"name": *"edgewarden"' "${REPO_DIR}/package.json"; then
    die "${REPO_DIR}/package.json is missing or is not edgewarden's"
  fi
}

# PREFIX is removed on uninstall and overwritten on install, so it must be ours.
is_our_prefix() {
  [[ -f "$1/package.json" ]] && grep -q '"name": *"edgewarden"' "$1/package.json"
}

ensure_user() {
  if staging; then
    note "--root: skipped creating user/group ${SVC_USER} and adding it to dialout"
    return
  fi
  if getent passwd "${SVC_USER}" >/dev/null; then
    present "user ${SVC_USER}"
  else
    local group_opt=(--user-group)
    if getent group "${SVC_GROUP}" >/dev/null; then
      group_opt=(--gid "${SVC_GROUP}")
    fi
    useradd --system "${group_opt[@]}" --home-dir "${STATE_PATH}" --no-create-home \
      --shell /usr/sbin/nologin --comment "edgewarden gateway daemon" "${SVC_USER}"
    changed "created system user ${SVC_USER}"
  fi
  if ! getent group dialout >/dev/null; then
    die "group dialout does not exist; serial ports cannot be shared with ${SVC_USER}"
  fi
  if id -nG "${SVC_USER}" | tr ' ' '\n' | grep -qx dialout; then
    present "${SVC_USER} in group dialout"
  else
    usermod --append --groups dialout "${SVC_USER}"
    changed "added ${SVC_USER} to group dialout"
  fi
}

# chown only on the live system (a staging dir keeps the invoking user).
set_owner() {
  if ! staging; then
    chown "$@"
  fi
}

# Files in PREFIX are root-owned and read-only for everyone else, so the
# daemon cannot modify its own code.
normalize_tree() {
  chmod -R u=rwX,go=rX -- "$1"
  set_owner -R root:root -- "$1"
}

copy_item() {
  local item="$1"
  local src="${REPO_DIR}/${item}"
  local dst="${R_PREFIX}/${item}"
  if [[ ! -e "${src}" ]]; then
    note "package has no ${item}; skipped"
    return
  fi
  if [[ -e "${dst}" ]] && diff -r -q --no-dereference -- "${src}" "${dst}" >/dev/null 2>&1; then
    normalize_tree "${dst}"
    present "${PREFIX}/${item}"
    return
  fi
  # Build the new copy next to the old one and swap, so PREFIX never holds a
  # half-copied tree.
  local tmp
  tmp="$(dirname -- "${dst}")/.$(basename -- "${dst}").new.$$"
  mkdir -p -- "$(dirname -- "${dst}")"
  rm -rf -- "${tmp}"
  cp -R -- "${src}" "${tmp}"
  normalize_tree "${tmp}"
  rm -rf -- "${dst}"
  mv -- "${tmp}" "${dst}"
  changed "installed ${PREFIX}/${item}"
}

install_package() {
  if [[ -e "${R_PREFIX}" ]] && [[ -n "$(ls -A -- "${R_PREFIX}")" ]] && ! is_our_prefix "${R_PREFIX}"; then
    die "${R_PREFIX} exists, is not empty and holds no edgewarden package.json; refusing to write into it"
  fi
  if [[ -d "${R_PREFIX}" ]]; then
    present "${PREFIX}"
  else
    mkdir -p -- "${R_PREFIX}"
    changed "created ${PREFIX}"
  fi
  chmod 0755 -- "${R_PREFIX}"
  set_owner root:root -- "${R_PREFIX}"

  local item
  for item in "${PACKAGE_ITEMS[@]}"; do
    copy_item "${item}"
  done
  chmod 0755 -- "${R_PREFIX}/dist/cli.js"
}

install_deps() {
  if staging; then
    note "--root: skipped npm ci (run it on the target: cd ${PREFIX} && npm ci --omit=dev --ignore-scripts)"
    return
  fi
  if [[ ${SKIP_NPM} -eq 1 ]]; then
    note "--skip-npm: skipped npm ci in ${PREFIX}"
    return
  fi
  if [[ ! -f "${R_PREFIX}/package-lock.json" ]]; then
    die "${PREFIX}/package-lock.json is missing; npm ci needs it"
  fi
  local stamp="${R_PREFIX}/node_modules/.edgewarden-lock.sha256"
  local want
  want="$(sha256sum "${R_PREFIX}/package-lock.json" | cut -d' ' -f1)"
  if [[ -f "${stamp}" && "$(cat -- "${stamp}")" == "${want}" ]]; then
    present "production dependencies in ${PREFIX}/node_modules"
    return
  fi
  if ! command -v npm >/dev/null 2>&1; then
    die "npm not found (it comes with Node.js); or use --skip-npm and provide ${PREFIX}/node_modules yourself"
  fi
  say "running npm ci --omit=dev --ignore-scripts in ${PREFIX}"
  (cd -- "${R_PREFIX}" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund)
  printf '%s\n' "${want}" >"${stamp}"
  normalize_tree "${R_PREFIX}/node_modules"
  changed "installed production dependencies in ${PREFIX}/node_modules"
}

render_unit() {
  local unit_src="${REPO_DIR}/systemd/${UNIT_NAME}"
  sed -e "s#^ExecStart=/usr/bin/node ${DEFAULT_PREFIX}/dist/cli.js #ExecStart=${NODE_BIN} ${CLI_PATH} #" \
    -- "${unit_src}"
}

install_unit() {
  local rendered
  rendered="$(mktemp)"
  render_unit >"${rendered}"
  if ! grep -q "^ExecStart=${NODE_BIN} ${CLI_PATH} " "${rendered}"; then
    rm -f -- "${rendered}"
    die "could not point ExecStart= at ${NODE_BIN} ${CLI_PATH} in ${UNIT_NAME}"
  fi
  if [[ -f "${R_UNIT}" ]] && cmp -s -- "${rendered}" "${R_UNIT}"; then
    rm -f -- "${rendered}"
    present "${UNIT_PATH}"
  else
    mkdir -p -- "$(dirname -- "${R_UNIT}")"
    install -m 0644 -- "${rendered}" "${R_UNIT}"
    rm -f -- "${rendered}"
    UNIT_CHANGED=1
    changed "installed ${UNIT_PATH}"
  fi
  chmod 0644 -- "${R_UNIT}"
  set_owner root:root -- "${R_UNIT}"
}

# mkdir with a mode and an owner; reports whether it was there already.
ensure_dir() {
  local path="$1" shown="$2" mode="$3" owner="$4"
  if [[ -d "${path}" ]]; then
    present "${shown}"
  else
    mkdir -p -- "${path}"
    changed "created ${shown}"
  fi
  chmod "${mode}" -- "${path}"
  set_owner "${owner}" -- "${path}"
}

install_config() {
  ensure_dir "${R_ETC}" "${ETC_PATH}" 0750 "root:${SVC_GROUP}"
  if [[ -e "${R_CONFIG}" ]]; then
    # Never touch a technician's config, not even its mode.
    present "${CONFIG_PATH} (left unchanged)"
  elif [[ -f "${REPO_DIR}/config/example.yaml" ]]; then
    install -m 0640 -- "${REPO_DIR}/config/example.yaml" "${R_CONFIG}"
    set_owner "root:${SVC_GROUP}" -- "${R_CONFIG}"
    changed "installed example config as ${CONFIG_PATH}"
  else
    note "package has no config/example.yaml; write ${CONFIG_PATH} yourself (0640 root:${SVC_GROUP})"
  fi
  # systemd also creates it on first start (StateDirectory=); creating it now
  # lets 'edgewarden ledger ...' run as ${SVC_USER} before that.
  ensure_dir "${R_STATE}" "${STATE_PATH}" 0750 "${SVC_USER}:${SVC_GROUP}"
}

install_link() {
  if [[ -L "${R_LINK}" ]]; then
    if [[ "$(readlink -- "${R_LINK}")" == "${CLI_PATH}" ]]; then
      present "${LINK_PATH} -> ${CLI_PATH}"
      return
    fi
    note "${LINK_PATH} pointed to $(readlink -- "${R_LINK}"); repointing it"
  elif [[ -e "${R_LINK}" ]]; then
    die "${LINK_PATH} exists and is not a symlink; move it away first"
  fi
  mkdir -p -- "$(dirname -- "${R_LINK}")"
  ln -sfn -- "${CLI_PATH}" "${R_LINK}"
  changed "linked ${LINK_PATH} -> ${CLI_PATH}"
}

activate_unit() {
  if staging; then
    note "--root: skipped systemctl daemon-reload/enable/start"
    return
  fi
  if ! systemd_running; then
    note "systemd is not running here; skipped systemctl daemon-reload/enable/start"
    return
  fi
  if [[ ${UNIT_CHANGED} -eq 1 ]]; then
    systemctl daemon-reload
    say "systemctl daemon-reload"
  else
    present "systemd has the current unit (no daemon-reload needed)"
  fi
  if [[ ${ENABLE} -eq 1 ]]; then
    if systemctl is-enabled --quiet "${UNIT_NAME}"; then
      present "${UNIT_NAME} enabled"
    else
      systemctl enable --quiet "${UNIT_NAME}"
      changed "enabled ${UNIT_NAME}"
    fi
  else
    note "--no-enable: ${UNIT_NAME} not enabled"
  fi
  if [[ ${START} -eq 1 ]]; then
    if systemctl is-active --quiet "${UNIT_NAME}"; then
      if [[ ${CHANGED} -eq 1 ]]; then
        systemctl restart "${UNIT_NAME}"
        say "restarted ${UNIT_NAME}"
      else
        present "${UNIT_NAME} running"
      fi
    else
      systemctl start "${UNIT_NAME}"
      say "started ${UNIT_NAME}"
    fi
  fi
}

next_steps() {
  cat <<EOF

Next steps:
  1. Edit the config:            \$EDITOR ${CONFIG_PATH}
  2. Create the gateway key:     edgewarden keys generate --out ${ETC_PATH}/gateway.key
     then either let the daemon read it directly:
                                 chown ${SVC_USER}:${SVC_GROUP} ${ETC_PATH}/gateway.key
     or keep it root-only and pass it as a credential: uncomment LoadCredential= in
     'systemctl edit ${UNIT_NAME}' and set crypto.keyFile to
     /run/credentials/${UNIT_NAME}/gateway.key
  3. Check the config:           edgewarden check -c ${CONFIG_PATH}
  4. Start the daemon:           systemctl start edgewarden
  5. Follow its log:             journalctl -u edgewarden -f
EOF
}

do_install() {
  check_package
  check_node
  ensure_user
  install_package
  install_deps
  UNIT_CHANGED=0
  install_unit
  install_config
  install_link
  activate_unit
  if [[ ${CHANGED} -eq 0 ]]; then
    say "nothing to do: edgewarden is installed and up to date"
  else
    say "edgewarden installed in ${PREFIX}"
  fi
  next_steps
}

# ---------------------------------------------------------------------------
# Uninstall
# ---------------------------------------------------------------------------
remove_path() {
  local path="$1" shown="$2"
  if [[ -e "${path}" || -L "${path}" ]]; then
    rm -rf -- "${path}"
    changed "removed ${shown}"
  else
    absent "${shown}"
  fi
}

do_uninstall() {
  if staging; then
    note "--root: skipped systemctl stop/disable"
  elif systemd_running; then
    if systemctl is-active --quiet "${UNIT_NAME}"; then
      systemctl stop "${UNIT_NAME}"
      changed "stopped ${UNIT_NAME}"
    fi
    if systemctl is-enabled --quiet "${UNIT_NAME}" 2>/dev/null; then
      systemctl disable --quiet "${UNIT_NAME}"
      changed "disabled ${UNIT_NAME}"
    fi
  else
    note "systemd is not running here; skipped systemctl stop/disable"
  fi

  remove_path "${R_UNIT}" "${UNIT_PATH}"

  if [[ -L "${R_LINK}" ]]; then
    if [[ "$(readlink -- "${R_LINK}")" == "${CLI_PATH}" ]]; then
      remove_path "${R_LINK}" "${LINK_PATH}"
    else
      note "${LINK_PATH} points to $(readlink -- "${R_LINK}"), not ${CLI_PATH}; left alone"
    fi
  elif [[ -e "${R_LINK}" ]]; then
    note "${LINK_PATH} is not a symlink; left alone"
  else
    absent "${LINK_PATH}"
  fi

  if [[ -e "${R_PREFIX}" ]]; then
    if ! is_our_prefix "${R_PREFIX}"; then
      die "${R_PREFIX} holds no edgewarden package.json; refusing to delete it"
    fi
    remove_path "${R_PREFIX}" "${PREFIX}"
  else
    absent "${PREFIX}"
  fi

  if [[ ${PURGE} -eq 1 ]]; then
    say "--purge will now remove:"
    say "  ${ETC_PATH} (config and keys)"
    say "  ${STATE_PATH} (ledger: records not yet forwarded are lost)"
    say "  ${DROPIN_PATH} (local unit overrides)"
    if staging; then
      note "--root: the user ${SVC_USER} is not touched"
    else
      say "  user and group ${SVC_USER}"
    fi
    remove_path "${R_ETC}" "${ETC_PATH}"
    remove_path "${R_STATE}" "${STATE_PATH}"
    remove_path "${R_DROPIN}" "${DROPIN_PATH}"
    if ! staging; then
      if getent passwd "${SVC_USER}" >/dev/null; then
        userdel "${SVC_USER}"
        changed "removed user ${SVC_USER}"
      else
        absent "user ${SVC_USER}"
      fi
      if getent group "${SVC_GROUP}" >/dev/null; then
        groupdel "${SVC_GROUP}"
        changed "removed group ${SVC_GROUP}"
      fi
    fi
  else
    say "kept ${ETC_PATH} (config, keys) and ${STATE_PATH} (ledger); --uninstall --purge removes them"
    if ! staging; then
      say "kept user ${SVC_USER}; --uninstall --purge removes it"
    fi
  fi

  if systemd_running; then
    systemctl daemon-reload
    systemctl reset-failed "${UNIT_NAME}" 2>/dev/null || true
  fi

  if [[ ${CHANGED} -eq 0 ]]; then
    say "nothing to do: edgewarden is not installed"
  else
    say "edgewarden uninstalled"
  fi
}

main() {
  parse_args "$@"
  require_root "$@"
  set_paths
  if staging; then
    note "--root ${ROOT}: staging only; writing everything under it, no useradd, chown, npm or systemctl"
  fi
  if [[ ${UNINSTALL} -eq 1 ]]; then
    do_uninstall
  else
    do_install
  fi
}

main "$@"
