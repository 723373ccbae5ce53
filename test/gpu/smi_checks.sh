# shellcheck shell=bash
# The real nvidia-smi, natively and through vgpu's NVML stub (shims/nvml), client GPU-less.
# Sourced by test/gpu/run.sh (section 3) while vgpu-server runs; uses run.sh's check(), log(),
# RESULTS and $ROOT $BIN $LOGS $GPULESS $VGPU_SERVER. Everything it writes is under $LOGS:
#   smi-exporttable.{native,vgpu}.txt  what libnvidia-ml.so.1 answers for nvidia-smi's private
#                                      table (test/gpu/nvml_exporttable.c): the host's own table
#                                      (its size word, its slots, slot 81) next to vgpu's
#   smi-slots.{native,vgpu}.txt        the device slots nvidia-smi -q calls, called as it calls
#                                      them (nvml_exporttable slots): what each returns and writes;
#                                      vgpu forwards 230, 231 and 249 (their lines must be the same on
#                                      both sides), the others' native lines are what would
#                                      establish what they read
#   nvidia-smi-*.{native,vgpu}.{txt,err}, *.diff   the views compared by check() after a filter
#                                      that drops the timestamp, the process list and readings
#                                      that change from one run to the next
#   smi-trace-NAME.log                 nvidia-smi through vgpu with VGPU_LOG=debug: every NVML
#                                      call with its result, every slot of the private table
#   smi-trace-NAME.{calls,unimplemented,notsupported,slots}.txt   summaries of that log: the
#                                      functions called (with counts), those vgpu does not
#                                      implement, those answering NVML_ERROR_NOT_SUPPORTED (3),
#                                      the private slots called (slot, result, what vgpu did)
# Each nvidia-smi run is limited to SMI_TIMEOUT seconds; no new run starts after SMI_BUDGET.

SMI_TIMEOUT=${SMI_TIMEOUT:-30}
SMI_BUDGET=${SMI_BUDGET:-240}
smi_start=$SECONDS
SMI=$(command -v nvidia-smi)

# smi_table_filter: the default view without its timestamp and process box; temperatures,
# power, memory, utilisation and the performance state masked.
smi_table_filter() {
  sed -E '/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) /d; /Processes:/,$d' |
    sed -E 's/[0-9]+(\.[0-9]+)?(C|W|MiB|%)/<n>\2/g; s/\bP[0-9]+\b/P<n>/g' | tr -s ' '
}
# smi_q_filter: -q views without Timestamp and the Processes block, every number masked (so
# what is compared is which fields exist, which are N/A, and every text value); the clocks
# event reasons' Active / Not Active change with load.
smi_q_filter() {
  awk '/^    Processes/ {skip = 1; next} skip && /^        / {next} {skip = 0; print}' |
    grep -v '^Timestamp' | sed -E 's/[0-9]+(\.[0-9]+)?/<n>/g; s/: (Not Active|Active)$/: <state>/'
}
# smi_number_filter: every number masked (live readings: N/A or [Not Supported] still differ)
smi_number_filter() { sed -E 's/[0-9]+(\.[0-9]+)?/<n>/g'; }

# smi_trace NAME ARGS...: nvidia-smi ARGS through vgpu with VGPU_LOG=debug, and its summaries.
smi_trace() {
  local name=$1; shift
  local t=$LOGS/smi-trace-$name
  timeout "$SMI_TIMEOUT" "$GPULESS" env LD_LIBRARY_PATH="$BIN" VGPU_SERVER="$VGPU_SERVER" VGPU_LOG=debug "$SMI" "$@" >"$t.out" 2>"$t.log"
  local rc=$?
  grep -oE '^vgpu: nvml[A-Za-z0-9_]+\(' "$t.log" | sed -E 's/^vgpu: //; s/\($//' | sort | uniq -c | sort -rn >"$t.calls.txt"
  grep -E '^vgpu: nvml[A-Za-z0-9_]+\(.*\(not implemented by vgpu\)$' "$t.log" | sed -E 's/^vgpu: ([A-Za-z0-9_]+).*/\1/' | sort -u >"$t.unimplemented.txt"
  grep -E '^vgpu: nvml[A-Za-z0-9_]+\(.*\) = 3$' "$t.log" | sed -E 's/^vgpu: ([A-Za-z0-9_]+).*/\1/' | sort -u >"$t.notsupported.txt"
  grep -oE 'nvmlInternalGetExportTable slot [0-9]+\(.*' "$t.log" | sed -E 's/^nvmlInternalGetExportTable slot ([0-9]+)\(.*\) = (-?[0-9]+) \((.*)\)$/slot \1 = \2 (\3)/' |
    sort | uniq -c | sort -k3,3n >"$t.slots.txt"
  local nf nu nn ns
  nf=$(wc -l <"$t.calls.txt"); nu=$(wc -l <"$t.unimplemented.txt"); nn=$(wc -l <"$t.notsupported.txt"); ns=$(wc -l <"$t.slots.txt")
  log "smi-trace-$name: rc $rc, $nf NVML functions, $nu not implemented by vgpu, $nn answering NOT_SUPPORTED, $ns private slots"
  cat "$t.unimplemented.txt" "$t.slots.txt"
  RESULTS+=("$(printf '%-28s %s' "smi-trace-$name" "rc $rc; $nf functions, $nu unimplemented ($(head -8 "$t.unimplemented.txt" | tr '\n' ' ')); slots $(awk '{printf "%s=%s ", $3, $5}' "$t.slots.txt" | cut -c1-80)")")
}

smi_in_budget() {
  if [ $((SECONDS - smi_start)) -gt "$SMI_BUDGET" ]; then
    RESULTS+=("$(printf '%-28s %s' "$1" "skipped: smi budget of ${SMI_BUDGET}s spent")")
    return 1
  fi
}

if [ -z "$SMI" ]; then
  RESULTS+=("$(printf '%-28s %s' "nvidia-smi" "skipped: no nvidia-smi on this machine")")
else
  log "nvidia-smi: $SMI"
  # 1. The private table as the host's NVML and vgpu's stub answer it.
  mkdir -p "$LOGS/bin"
  if cc -O2 -o "$LOGS/bin/nvml_exporttable" "$ROOT/test/gpu/nvml_exporttable.c" -ldl >"$LOGS/smi-exporttable.build.log" 2>&1; then
    timeout "$SMI_TIMEOUT" env SMI_DIAG_PROCS=1 "$LOGS/bin/nvml_exporttable" >"$LOGS/smi-exporttable.native.txt" 2>&1
    echo "rc $?" >>"$LOGS/smi-exporttable.native.txt"
    timeout "$SMI_TIMEOUT" "$GPULESS" env LD_LIBRARY_PATH="$BIN" VGPU_SERVER="$VGPU_SERVER" SMI_DIAG_PROCS=1 "$LOGS/bin/nvml_exporttable" >"$LOGS/smi-exporttable.vgpu.txt" 2>&1
    echo "rc $?" >>"$LOGS/smi-exporttable.vgpu.txt"
    for side in native vgpu; do
      log "smi-exporttable ($side)"; cat "$LOGS/smi-exporttable.$side.txt"
      RESULTS+=("$(printf '%-28s %s' "smi-exporttable $side" "$(grep -v '^init' "$LOGS/smi-exporttable.$side.txt" | tr '\n' ';' | cut -c1-150)")")
    done
    timeout "$SMI_TIMEOUT" "$LOGS/bin/nvml_exporttable" slots >"$LOGS/smi-slots.native.txt" 2>&1
    echo "rc $?" >>"$LOGS/smi-slots.native.txt"
    timeout "$SMI_TIMEOUT" "$GPULESS" env LD_LIBRARY_PATH="$BIN" VGPU_SERVER="$VGPU_SERVER" "$LOGS/bin/nvml_exporttable" slots >"$LOGS/smi-slots.vgpu.txt" 2>&1
    echo "rc $?" >>"$LOGS/smi-slots.vgpu.txt"
    for side in native vgpu; do
      log "smi-slots ($side)"; cat "$LOGS/smi-slots.$side.txt"
    done
    fwd_native=$(grep -E '^slot(230|231|249) ' "$LOGS/smi-slots.native.txt" | tr '\n' ';')
    fwd_vgpu=$(grep -E '^slot(230|231|249) ' "$LOGS/smi-slots.vgpu.txt" | tr '\n' ';')
    if [ -n "$fwd_native" ] && [ "$fwd_native" = "$fwd_vgpu" ]; then verdict=identical; else verdict=DIFFERENT; fi
    RESULTS+=("$(printf '%-28s %s' "smi-slots forwarded" "$verdict (native: ${fwd_native:-none}; vgpu: ${fwd_vgpu:-none})" | cut -c1-220)")
    RESULTS+=("$(printf '%-28s %s' "smi-slots native" "$(grep -E '^(slot[0-9]+ |rc )' "$LOGS/smi-slots.native.txt" | tr '\n' ';' | cut -c1-220)")")
  else
    RESULTS+=("$(printf '%-28s %s' "smi-exporttable" "not built: $(head -c 100 "$LOGS/smi-exporttable.build.log")")")
  fi

  # 2. The views, natively and through vgpu.
  T=(timeout "$SMI_TIMEOUT" "$SMI")
  smi_in_budget nvidia-smi && check nvidia-smi smi_table_filter "${T[@]}" -- "${T[@]}"
  smi_in_budget nvidia-smi-L && check nvidia-smi-L cat "${T[@]}" -L -- "${T[@]}" -L
  Q=--query-gpu=name,uuid,pci.bus_id,driver_version,memory.total,compute_cap
  smi_in_budget nvidia-smi-query && check nvidia-smi-query cat "${T[@]}" "$Q" --format=csv -- "${T[@]}" "$Q" --format=csv
  Q=--query-gpu=index,serial,vbios_version,persistence_mode,compute_mode,display_mode,display_active,mig.mode.current,ecc.mode.current,power.limit,power.default_limit,power.min_limit,power.max_limit,clocks.max.graphics,clocks.max.sm,clocks.max.memory,pcie.link.gen.max,pcie.link.width.max
  smi_in_budget nvidia-smi-query-static && check nvidia-smi-query-static cat "${T[@]}" "$Q" --format=csv -- "${T[@]}" "$Q" --format=csv
  Q=--query-gpu=temperature.gpu,power.draw,utilization.gpu,utilization.memory,memory.used,memory.free,clocks.sm,clocks.mem,pstate,fan.speed
  smi_in_budget nvidia-smi-query-live && check nvidia-smi-query-live smi_number_filter "${T[@]}" "$Q" --format=csv -- "${T[@]}" "$Q" --format=csv
  smi_in_budget nvidia-smi-q && check nvidia-smi-q smi_q_filter "${T[@]}" -q -- "${T[@]}" -q
  D=(-q -d "MEMORY,UTILIZATION,CLOCK,POWER,TEMPERATURE")
  smi_in_budget nvidia-smi-q-d && check nvidia-smi-q-d smi_q_filter "${T[@]}" "${D[@]}" -- "${T[@]}" "${D[@]}"
  smi_in_budget nvidia-smi-topo && check nvidia-smi-topo cat "${T[@]}" topo -m -- "${T[@]}" topo -m

  # 3. What nvidia-smi called through vgpu, and what vgpu could not answer.
  smi_in_budget smi-trace-default && smi_trace default
  smi_in_budget smi-trace-q && smi_trace q -q
  smi_in_budget smi-trace-topo && smi_trace topo topo -m
fi
