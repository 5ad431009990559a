# Helpers shared by the benchmark scripts (bench/run.sh, bench/scale.sh): process liveness and stopping,
# free loopback ports, and what a process tree spent (CPU ticks from /proc/PID/stat) and holds (RSS and PSS
# from /proc/PID/smaps_rollup). Source it.
# shellcheck shell=bash

alive() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  [[ ${s:0:1} != Z ]]
}

# Stop one child of ours: SIGTERM, up to 10 s, then SIGKILL.
stop_child() {
  local pid=$1 i
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  alive "$pid" && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}

port_free() {
  if command -v ss >/dev/null 2>&1 && [[ -n $(ss -Htln "sport = :$1" 2>/dev/null) ]]; then
    return 1
  fi
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_ports N LO HI: N free loopback ports in [LO, HI) into the array `ports`, starting at a place this
# process's pid picks (so that two benchmarks at once start apart) and wrapping around.
free_ports() {
  local n=$1 lo=$2 hi=$3 p
  ports=()
  p=$((lo + $$ % (hi - lo)))
  while ((${#ports[@]} < n)); do
    ((p < hi)) || p=$lo
    port_free "$p" && ports+=("$p")
    p=$((p + 1))
  done
}

# CPU ticks (user + system) of a process tree: the root, the children it reaped, and its live children.
tree_ticks() {
  local root=$1 total=0 kids=() k line f
  [[ -n $root ]] || {
    echo 0
    return
  }
  read -r -a kids < <(cat /proc/"$root"/task/*/children 2>/dev/null | tr '\n' ' ') || true
  if read -r line <"/proc/$root/stat" 2>/dev/null; then
    read -r -a f <<<"${line##*) }"
    total=$((f[11] + f[12] + f[13] + f[14]))
  fi
  for k in "${kids[@]}"; do
    if read -r line <"/proc/$k/stat" 2>/dev/null; then
      read -r -a f <<<"${line##*) }"
      total=$((total + f[11] + f[12]))
    fi
  done
  echo "$total"
}

# "Rss Pss" in kB of a process tree (root and live children), from smaps_rollup.
tree_mem() {
  local root=$1 pids k kids=()
  pids=("$root")
  read -r -a kids < <(cat /proc/"$root"/task/*/children 2>/dev/null | tr '\n' ' ') || true
  for k in "${kids[@]}"; do pids+=("$k"); done
  for k in "${pids[@]}"; do cat "/proc/$k/smaps_rollup" 2>/dev/null; done |
    awk -v n="${#pids[@]}" '$1 == "Rss:" { r += $2 } $1 == "Pss:" { p += $2 } END { printf "%d %d %d\n", r, p, n }'
}
