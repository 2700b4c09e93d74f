#!/usr/bin/env bash
# Installs what the test suites need when it is missing, so that `npm test` works on a fresh
# Debian machine (issue #2): a real Mosquitto and its clients, Debian's pymodbus (the third-party
# Modbus peer; it imports only under /usr/bin/python3; python3-serial-asyncio for its RTU server), socat (RTU over pty pairs), and perl's
# Socket module (the sd_notify helper; perl-base is Essential on Debian). Runs apt-get update at
# most once, and only when something is missing. Exits non-zero with a clear message if it cannot.
set -euo pipefail

missing=()
have() { command -v "$1" >/dev/null 2>&1; }

have mosquitto || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
have mosquitto_pub || missing+=(mosquitto-clients)
have socat || missing+=(socat)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import pymodbus' >/dev/null 2>&1 || missing+=(python3-pymodbus)
# pymodbus's serial server (RTU on a pty) needs pyserial-asyncio, which python3-pymodbus only suggests.
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import serial_asyncio' >/dev/null 2>&1 || missing+=(python3-serial-asyncio)
perl -MSocket -e 1 >/dev/null 2>&1 || missing+=(perl-base)

if [ ${#missing[@]} -eq 0 ]; then
  echo "test-deps: all present (mosquitto, mosquitto-clients, socat, python3-pymodbus, python3-serial-asyncio, perl)"
  exit 0
fi

echo "test-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if have sudo && sudo -n true 2>/dev/null; then
    sudo_cmd=(sudo -n)
  else
    echo "test-deps: missing ${missing[*]} and not root (and no password-less sudo)." >&2
    echo "test-deps: install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
if ! have apt-get; then
  echo "test-deps: missing ${missing[*]}, and apt-get is not available; install them by hand" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

# Verify, so that a half-done install fails here rather than as puzzling test failures.
/usr/bin/python3 -c 'import pymodbus' || { echo "test-deps: pymodbus still does not import under /usr/bin/python3" >&2; exit 1; }
have socat && have mosquitto_pub || { echo "test-deps: socat or mosquitto-clients still missing" >&2; exit 1; }
echo "test-deps: done"
