#!/usr/bin/env bash
# Installs the Debian 12 packages of the groups asked for (scripts/deps.list) when any is missing.
# Quiet when everything is already installed; prints what it installs otherwise.
#
#   scripts/deps.sh build run          what `make run` needs
#   scripts/deps.sh build run test     what `make check` and .ci/run need
#   scripts/deps.sh --list GROUP...    print the packages of the groups, one a line, and install nothing
#   scripts/deps.sh --keep-services build run server     a production server (docs/OPERATIONS.md)
#
# Debian's packages start services when they are installed: caddy starts caddy.service (a Caddy on port 80)
# and postgresql creates and starts a system cluster (15/main on port 5432), and both are enabled at boot.
# A development machine needs neither (make run and make check start their own Caddy and PostgreSQL), so by
# default nothing the install would start is left running or enabled:
#   - while apt-get runs, a temporary /usr/sbin/policy-rc.d (exit 101) keeps the packages from starting
#     services, unless the machine already has a policy-rc.d, which is then left alone;
#   - afterwards, every service that became active during the install is stopped, every unit file that
#     became enabled is disabled, and every PostgreSQL cluster that came up is stopped. What was running or
#     enabled before the install is never touched, and the packages stay installed (the cluster's files too:
#     `pg_ctlcluster 15 main start` or `systemctl enable --now postgresql caddy` brings them back).
# --keep-services leaves the packages' services as Debian sets them up: started and enabled.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
list=$here/deps.list
keep_services=""
print_only=""
groups=()

usage() {
  echo "usage: scripts/deps.sh [--list] [--keep-services] GROUP... (groups: $(awk '!/^#/ && NF { print $1 }' "$list" | sort -u | tr '\n' ' '))" >&2
  exit 2
}

for arg in "$@"; do
  case $arg in
    --keep-services) keep_services=1 ;;
    --list) print_only=1 ;;
    -h | --help) usage ;;
    -*) usage ;;
    *)
      grep -Eq "^${arg}[[:space:]]" "$list" || {
        echo "deps.sh: no group '$arg' in $list" >&2
        usage
      }
      groups+=("$arg")
      ;;
  esac
done
((${#groups[@]} > 0)) || usage

# The lines of the groups asked for: "PACKAGE [COMMAND]".
wanted=()
while read -r group pkg cmd _; do
  [[ -z $group || $group == \#* ]] && continue
  for g in "${groups[@]}"; do
    if [[ $g == "$group" ]]; then
      wanted+=("$pkg ${cmd:-}")
      break
    fi
  done
done <"$list"

if [[ -n $print_only ]]; then
  for w in "${wanted[@]}"; do
    echo "${w%% *}"
  done
  exit 0
fi

missing=()
for w in "${wanted[@]}"; do
  pkg=${w%% *}
  cmd=${w#* }
  if [[ -n $cmd ]] && command -v "$cmd" >/dev/null 2>&1; then
    continue
  fi
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [[ $status != installed ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=()
if ((EUID != 0)); then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "deps.sh: missing packages (${missing[*]}) and not root, and sudo is not installed" >&2
    exit 1
  fi
  sudo=(sudo)
fi

# What runs and what is enabled now: active services (with systemd as PID 1), enabled unit files, online
# PostgreSQL clusters.
have_systemd() { [[ -d /run/systemd/system ]]; }
active_services() {
  if have_systemd; then
    systemctl list-units --type=service --state=active --no-legend --plain 2>/dev/null | awk '{ print $1 }' | sort
  fi
}
enabled_units() {
  systemctl list-unit-files --state=enabled --no-legend --no-pager 2>/dev/null | awk '{ print $1 }' | sort
}
online_clusters() {
  if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters -h 2>/dev/null | awk '$4 == "online" { print $1 " " $2 }' | sort
  fi
}

policy=/usr/sbin/policy-rc.d
made_policy=""
remove_policy() {
  if [[ -n $made_policy ]]; then
    "${sudo[@]}" rm -f "$policy"
    made_policy=""
  fi
}

if [[ -z $keep_services ]]; then
  active_before=$(active_services)
  enabled_before=$(enabled_units)
  clusters_before=$(online_clusters)
  if [[ ! -e $policy ]]; then
    trap remove_policy EXIT
    printf '#!/bin/sh\n# made by hop scripts/deps.sh for the length of one apt-get install\nexit 101\n' |
      "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 0755 "$policy"
    made_policy=1
  fi
fi

echo "deps.sh: installing ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"

[[ -z $keep_services ]] || exit 0
remove_policy

# Undo what the install itself started or enabled, and nothing else.
while read -r unit; do
  [[ -n $unit ]] || continue
  echo "deps.sh: stopping $unit (the install started it)"
  "${sudo[@]}" systemctl stop "$unit" || true
done < <(comm -13 <(echo "$active_before") <(active_services))
while read -r unit; do
  [[ -n $unit ]] || continue
  echo "deps.sh: disabling $unit (the install enabled it)"
  "${sudo[@]}" systemctl disable --quiet "$unit" 2>/dev/null || true
done < <(comm -13 <(echo "$enabled_before") <(enabled_units))
while read -r version name; do
  [[ -n $version ]] || continue
  echo "deps.sh: stopping PostgreSQL cluster $version/$name (the install started it)"
  "${sudo[@]}" pg_ctlcluster "$version" "$name" stop || true
done < <(comm -13 <(echo "$clusters_before") <(online_clusters))
echo "deps.sh: no service of these packages was left running or enabled by the install (scripts/deps.sh --keep-services keeps them)"
