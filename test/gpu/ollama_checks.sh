# Ollama itself through vgpu (docs/OLLAMA.md). Sourced by a GPU script while its vgpu-server
# runs (it reads ROOT, BIN, LOGS, GPULESS, VGPU_SERVER, RESULTS and log() as test/gpu/run.sh sets
# them), or run alone, which starts its own server and writes $OUT/summary.txt and logs.tgz:
#   bash test/gpu/ollama_checks.sh
#
# Needs .carry/ollama.tar.xz (scripts/ollama-src.sh: the `ollama` binary built from Ollama's Go
# module, and the module's CMake files and ggml tree) and .carry/vgpu-gguf
# (scripts/llama-models.sh); without them it says so and does nothing. It
#  1. builds Ollama's ggml backends as the module's Dockerfile does: configure preset "Default",
#     build preset "CPU"'s target ggml-cpu, install component CPU; configure preset "CUDA 13"
#     (with CMAKE_CUDA_ARCHITECTURES=90 only), target ggml-cuda, install component CUDA; into
#     the release tarball's layout $OL/bin/ollama, $OL/lib/ollama, $OL/lib/ollama/cuda_v13;
#  2. writes the systemd drop-in with `vgpu enable ollama` (into a scratch root) and gives its
#     Environment= lines to `ollama serve`, as systemd would (the GPU machine has no systemd);
#  3. makes a random-weight llama GGUF and, per engine (Ollama's llama.cpp runner, which it picks
#     for llama models, and its own engine, OLLAMA_NEW_ENGINE=1), runs `ollama serve` natively
#     and GPU-less with the drop-in's environment: the discovery line, `ollama create`, greedy
#     generations through /api/generate, layers offloaded, texts compared, tok/s side by side.
# Then, with Ollama's llama.cpp engine: native once more and vgpu without shared memory
# (OLLAMA_DIAG=0 leaves them out), and vgpu over TCP with TLS and a token and over plain TCP
# (OLLAMA_TRANSPORTS=0 leaves them out), each beside native.
# Knobs: OLLAMA_ENGINES ("llama ollama"), OLLAMA_GGUF_ARGS (the model's vgpu-gguf flags),
# OLLAMA_RUNS (timed generations per server, 5), OLLAMA_BUILD_TIMEOUT (s, 420),
# OLLAMA_TIME_LIMIT (s from the start of these checks, 570: a server that would start later
# is skipped), OLLAMA_DROPIN (a drop-in file to use instead of writing one), OLLAMA_CHECK_DEBUG=1
# (OLLAMA_DEBUG=1 on every server; off by default, as debug logging costs time per token).
# Run alone, VGPU_BACKEND=sim tries it on a machine without a GPU (every GPU row then FAILs).

ol_standalone=0
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  ol_standalone=1
  set -u
  ROOT=$(cd "$(dirname "$0")/../.." && pwd)
  BIN=$ROOT/build/out
  OUT=${OUT:-/tmp/vgpu-gpu-out}
  LOGS=/tmp/vgpu-gpu-logs
  rm -rf "$LOGS"; mkdir -p "$OUT" "$LOGS"
  GPULESS="$ROOT/test/gpu/gpuless.sh"
  RESULTS=()
  log() { echo "== $*"; }
  {
    log "host"
    date -u +%Y-%m-%dT%H:%MZ
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    uname -r; ldd --version | head -1
  } 2>&1 | tee "$LOGS/host.txt"
  ol_sock=/tmp/vgpu-ollama.sock
  export VGPU_SERVER=unix://$ol_sock
  rm -f "$ol_sock"
  "$BIN/vgpu-server" --listen "unix://$ol_sock" --backend "${VGPU_BACKEND:-real}" >"$LOGS/server.log" 2>&1 &
  ol_server=$!
  for i in $(seq 50); do [ -S "$ol_sock" ] && break; sleep 0.1; done
  "$BIN/vgpu" ping || { echo "server did not come up"; cat "$LOGS/server.log"; exit 1; }
fi

OL_TAR=$ROOT/.carry/ollama.tar.xz
OL=/tmp/ollama            # the installed layout: bin/ollama, lib/ollama, lib/ollama/cuda_v13
OLW=/tmp/ollama-work      # the model, the scratch root of the drop-in, the servers' models and HOME
OL_DEADLINE=$(( $(date +%s) + ${OLLAMA_TIME_LIMIT:-570} ))
ol_row() { RESULTS+=("$(printf '%-28s %s' "$1" "$2")"); }

# dropin_env FILE: the environment a systemd drop-in gives its service, one NAME=VALUE a line:
# the Environment= lines of its [Service] section in order, each holding assignments separated
# by blanks, double- or single-quoted (in quotes a backslash takes the next character as it is);
# an empty Environment= clears what came before; a later assignment of a name wins.
dropin_env() {
  local line section="" v i c q cur have name k
  local -a out=() res=()
  local -A seen=()
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}
    case "$line" in
      \[*\]*) section=${line%%]*}; section=${section#[}; continue ;;
      \#*|\;*|"") continue ;;
    esac
    [ "$section" = Service ] || continue
    case "$line" in Environment=*) ;; *) continue ;; esac
    v=${line#Environment=}
    if [ -z "${v//[[:space:]]/}" ]; then out=(); continue; fi
    cur="" q="" have=0 i=0
    while [ $i -lt ${#v} ]; do
      c=${v:$i:1}
      if [ -n "$q" ]; then
        if [ "$c" = "\\" ] && [ $((i + 1)) -lt ${#v} ]; then i=$((i + 1)); cur+=${v:$i:1}
        elif [ "$c" = "$q" ]; then q=""
        else cur+=$c; fi
      elif [ "$c" = '"' ] || [ "$c" = "'" ]; then q=$c; have=1
      elif [[ "$c" == [[:space:]] ]]; then
        [ $have = 1 ] && out+=("$cur"); cur="" have=0
      else cur+=$c; have=1; fi
      i=$((i + 1))
    done
    [ $have = 1 ] && out+=("$cur")
  done <"$1"
  for ((k = ${#out[@]} - 1; k >= 0; k--)); do
    case "${out[$k]}" in [A-Za-z_]*=*) ;; *) continue ;; esac
    name=${out[$k]%%=*}
    [ -n "${seen[$name]:-}" ] && continue
    seen[$name]=1; res=("${out[$k]}" "${res[@]}")
  done
  if [ ${#res[@]} -gt 0 ]; then printf '%s\n' "${res[@]}"; fi
}

# ol_api PORT PATH [JSON]: GET (or POST JSON to) the server; the answer on stdout, exit 0 only
# on HTTP 200. Python, as curl and jq need not be on the GPU machine. Waits at most
# OL_API_TIMEOUT seconds (default 2).
ol_api() {
  python3 - "$@" <<'EOF'
import json, os, sys, urllib.request
port, path = sys.argv[1], sys.argv[2]
data = sys.argv[3].encode() if len(sys.argv) > 3 else None
try:
    with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data),
                                timeout=float(os.environ.get("OL_API_TIMEOUT", "2"))) as r:
        sys.stdout.write(r.read().decode())
except Exception as e:
    body = e.read().decode(errors="replace") if hasattr(e, "read") else ""
    print(json.dumps({"error": f"{e} {body}".strip()}))
    sys.exit(1)
EOF
}

# ol_stop PGID: ends a server started by ol_side (its process group: the server and its runners).
ol_stop() {
  local pg=$1 i
  kill -TERM -- "-$pg" 2>/dev/null
  for i in $(seq 100); do kill -0 -- "-$pg" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pg" 2>/dev/null
  wait "$pg" 2>/dev/null
}

ol_left() { echo $(( OL_DEADLINE - $(date +%s) )); }

# ol_side SIDE ENGINE PORT: one `ollama serve` (native, or vgpu: GPU-less with the drop-in's
# environment), its discovery lines, the model created, one generation that loads it, then
# OLLAMA_RUNS timed generations, each with a prompt of its own (no cache reuse), and the offload
# line. Writes $LOGS/ollama-SIDE-ENGINE.* (the figures in .fig, the texts in .texts).
ol_side() {
  local side=$1 engine=$2 port=$3 tag="${4:-$1}-$2"
  local lg=$LOGS/ollama-$tag fig=$LOGS/ollama-$tag.fig
  local -a env=(env -u LD_PRELOAD -u VGPU_SERVER -u LD_LIBRARY_PATH -u CUDA_VISIBLE_DEVICES
    HOME="$OLW/home" OLLAMA_HOST="127.0.0.1:$port" OLLAMA_MODELS="$OLW/models" OLLAMA_KEEP_ALIVE=10m)
  [ "$engine" = ollama ] && env+=(OLLAMA_NEW_ENGINE=1)
  [ "${OLLAMA_CHECK_DEBUG:-}" = 1 ] && env+=(OLLAMA_DEBUG=1)
  local -a cmd=("${env[@]}")
  [ "$side" = vgpu ] && cmd=("$GPULESS" "${env[@]}" "${OL_DROPIN_ENV[@]}" "${OL_EXTRA_ENV[@]}")
  : >"$fig"
  if [ "$(ol_left)" -lt 40 ]; then echo "error=skipped: the time limit" >"$fig"; return; fi
  local up=0 r t
  setsid "${cmd[@]}" "$OL/bin/ollama" serve >"$lg.log" 2>&1 &
  local pg=$!
  # the server discovers devices (a runner per lib/ollama folder, 30 s at most each) before it
  # answers; wait 100 s at most
  local until=$(( $(date +%s) + 100 ))
  while [ "$(date +%s)" -lt $until ]; do
    ol_api "$port" /api/version >/dev/null 2>&1 && { up=1; break; }
    kill -0 "$pg" 2>/dev/null || break
    sleep 0.1
  done
  echo "up=$up" >>"$fig"
  grep "inference compute" "$lg.log" | head -4 >"$lg.compute"
  # discovery: from the server's "discovering available GPUs" to its first "inference compute"
  awk '/discovering available GPUs|inference compute/ {
         if (!match($0, /T[0-9:.]+Z/)) next
         split(substr($0, RSTART + 1, RLENGTH - 2), t, ":"); s = t[1] * 3600 + t[2] * 60 + t[3]
         if ($0 ~ /discovering/) { if (a == "") a = s } else if (a != "") { printf "discovery_s=%.2f\n", s - a; exit } }' \
    "$lg.log" >>"$fig"
  if [ $up != 1 ]; then echo "error=the server did not answer" >>"$fig"; ol_stop "$pg"; return; fi
  if [ ! -f "$OLW/models/.created" ]; then
    HOME="$OLW/home" OLLAMA_HOST="127.0.0.1:$port" timeout 120 "$OL/bin/ollama" create vgpu-random -f "$OLW/Modelfile" \
      >"$lg.create" 2>&1 && touch "$OLW/models/.created"
  fi
  local runs=${OLLAMA_RUNS:-5}
  for r in $(seq 0 "$runs"); do
    t=$(( $(ol_left) - 15 )); [ $t -gt 120 ] && t=120
    if [ $t -lt 5 ]; then echo "error=generation $r skipped: the time limit" >>"$fig"; break; fi
    local prompt="Hello world"; [ "$r" -gt 0 ] && prompt=$(ol_prompt "$r")
    # greedy, 64 tokens, every layer on the GPU, the prompt as it is (raw: no template)
    OL_API_TIMEOUT=$t ol_api "$port" /api/generate "$(python3 -c 'import json, sys; print(json.dumps({
      "model": "vgpu-random", "prompt": sys.argv[1], "raw": True, "stream": False,
      "options": {"temperature": 0, "seed": 0, "num_predict": 64, "num_gpu": 999, "num_ctx": 1024}}))' "$prompt")" \
      >"$lg.gen$r.json" || { echo "error=generation $r failed" >>"$fig"; break; }
  done
  ol_stop "$pg"
  grep -E "offloaded [0-9]+/[0-9]+ layers to GPU" "$lg.log" | head -2 >"$lg.offload"
  # figures (load_s; run=DONE PROMPT_N PROMPT_NS EVAL_N EVAL_NS per timed run) and the texts,
  # one line per generation: "DONE TEXT" (TEXT as JSON)
  python3 - "$lg" "$runs" >>"$fig" 3>"$lg.texts" <<'EOF'
import json, os, sys
lg, runs = sys.argv[1], int(sys.argv[2])
texts = os.fdopen(3, "w")
for r in range(runs + 1):
    try:
        g = json.load(open(f"{lg}.gen{r}.json"))
    except Exception:
        texts.write("no answer\n"); continue
    if "error" in g:
        texts.write("ERROR " + json.dumps(g["error"]) + "\n"); continue
    texts.write(("true " if g.get("done") else "false ") + json.dumps(g.get("response", "")) + "\n")
    if r == 0:
        print(f"load_s={g.get('load_duration', 0) / 1e9:.2f}")
    else:
        print("run=%s %d %d %d %d" % ("true" if g.get("done") else "false", g.get("prompt_eval_count", 0),
              g.get("prompt_eval_duration", 0), g.get("eval_count", 0), g.get("eval_duration", 0)))
EOF
}

# ol_rate FIG KIND: "MEDIAN MIN MAX N" tok/s of the timed runs (KIND prompt or eval), or "none".
ol_rate() {
  awk -v kind="$2" '
    /^run=true / { n = (kind == "prompt") ? $2 : $4; d = (kind == "prompt") ? $3 : $5
                   if (d > 0 && n > 0) r[++c] = n / (d / 1e9) }
    END { if (c == 0) { print "none"; exit }
          for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
          m = (c % 2) ? r[(c + 1) / 2] : (r[c / 2] + r[c / 2 + 1]) / 2
          printf "%.1f %.1f %.1f %d\n", m, r[1], r[c], c }' "$1"
}

# ol_fig FIG KEY: a figure's value ("?" when missing)
ol_fig() { local v; v=$(grep -m1 "^$2=" "$1" 2>/dev/null | cut -d= -f2); echo "${v:-?}"; }

# ol_build: unpacks .carry/ollama.tar.xz into $OL and builds the backends there; 0 when the
# layout is complete. OLLAMA_REUSE=1 keeps a layout already there (a second call on a warm machine).
ol_build() {
  if [ "${OLLAMA_REUSE:-}" = 1 ] && [ -x "$OL/bin/ollama" ] && [ -f "$OL/lib/ollama/cuda_v13/libggml-cuda.so" ] &&
     ls "$OL"/lib/ollama/libggml-cpu-*.so >/dev/null 2>&1; then
    ol_row "ollama build" "$(cat "$OL/VERSION") reused from an earlier call ($OL)"
    return 0
  fi
  rm -rf "$OL"; mkdir -p "$OL"
  tar xJf "$OL_TAR" -C "$OL" || { ol_row "ollama build" "FAILED (cannot unpack $OL_TAR)"; return 1; }
  log "ollama $(cat "$OL/VERSION"): building its backends"
  [ -x /usr/local/cuda/bin/nvcc ] && export PATH=/usr/local/cuda/bin:$PATH CUDACXX=${CUDACXX:-/usr/local/cuda/bin/nvcc}
  local t0 rc_cpu rc_cuda pid s budget=${OLLAMA_BUILD_TIMEOUT:-420}
  t0=$(date +%s)
  # The CPU and CUDA builds in build folders of their own (the presets share build/), side by
  # side: the CPU variants fill the cores that the CUDA build's long tail leaves idle. The CPU
  # configure sees no CUDA compiler, as in the release's CPU stage (no toolkit there).
  (cd "$OL/src" &&
   timeout "$budget" cmake --preset Default -B "$OL/build-cpu" -DCMAKE_INSTALL_PREFIX="$OL" -DCMAKE_CUDA_COMPILER=OFF &&
   timeout "$budget" cmake --build "$OL/build-cpu" --target ggml-cpu -j8 &&
   cmake --install "$OL/build-cpu" --component CPU --strip) >"$LOGS/ollama-build-cpu.log" 2>&1 &
  pid=$!
  (cd "$OL/src" &&
   timeout "$budget" cmake --preset "CUDA 13" -B "$OL/build-cuda" -DCMAKE_INSTALL_PREFIX="$OL" -DCMAKE_CUDA_ARCHITECTURES=90 &&
   timeout "$budget" cmake --build "$OL/build-cuda" --target ggml-cuda -j16 &&
   cmake --install "$OL/build-cuda" --component CUDA --strip) >"$LOGS/ollama-build-cuda.log" 2>&1
  rc_cuda=$?
  wait $pid; rc_cpu=$?
  s=$(( $(date +%s) - t0 ))
  (cd "$OL" && find bin lib \( -type f -o -type l \) -exec ls -ld {} + | sort -k9) >"$LOGS/ollama-layout.txt" 2>&1
  log "ollama build: CPU rc $rc_cpu, CUDA rc $rc_cuda in $s s"; cat "$LOGS/ollama-layout.txt"
  if [ $rc_cpu -ne 0 ] || [ $rc_cuda -ne 0 ] || [ ! -f "$OL/lib/ollama/cuda_v13/libggml-cuda.so" ]; then
    tail -n 20 "$LOGS/ollama-build-cpu.log" "$LOGS/ollama-build-cuda.log"
    ol_row "ollama build" "FAILED (CPU rc $rc_cpu, CUDA rc $rc_cuda after $s s; ollama-build-*.log)"
    return 1
  fi
  readelf -d "$OL/lib/ollama/cuda_v13/libggml-cuda.so" 2>/dev/null | grep NEEDED >"$LOGS/ollama-needed.txt"
  ol_row "ollama build" "$(cat "$OL/VERSION") in $s s; cuda_v13: $(find "$OL/lib/ollama/cuda_v13" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tr '\n' ' ')"
}

# ol_dropin: the drop-in, from `vgpu enable ollama` into a scratch root in which $BIN (a link)
# is the client folder, or OLLAMA_DROPIN; one written here only where this vgpu cannot. Sets
# OL_DROPIN_ENV, the environment it gives Ollama.
ol_dropin() {
  local f how root=$OLW/root
  if [ -n "${OLLAMA_DROPIN:-}" ]; then
    f=$OLLAMA_DROPIN how="given"
  else
    mkdir -p "$root$(dirname "$BIN")"; ln -sfn "$BIN" "$root$BIN"
    if "$BIN/vgpu" enable ollama --root "$root" --lib "$BIN" --server "$VGPU_SERVER" >"$LOGS/ollama-enable.txt" 2>&1; then
      f=$root/etc/systemd/system/ollama.service.d/vgpu.conf how="vgpu enable ollama"
    else
      f=$OLW/vgpu.conf how="written here (vgpu enable ollama failed: ollama-enable.txt)"
      printf '[Service]\nEnvironment="LD_PRELOAD=%s"\nEnvironment="VGPU_SERVER=%s"\n' \
        "$BIN/libcudart.so.13:$BIN/libcublas.so.13:$BIN/libcublasLt.so.13:$BIN/libcuda.so.1:$BIN/libnvidia-ml.so.1" \
        "$VGPU_SERVER" >"$f"
    fi
  fi
  cp "$f" "$LOGS/ollama-dropin.conf"
  mapfile -t OL_DROPIN_ENV < <(dropin_env "$f")
  printf '%s\n' "${OL_DROPIN_ENV[@]}" >"$LOGS/ollama-dropin.env"
  ol_row "ollama drop-in" "$how: $(printf '%s ' "${OL_DROPIN_ENV[@]%%=*}")"
}

# ol_engine ENGINE: both sides with one engine, then its rows in RESULTS.
ol_engine() {
  local e=$1 s f c d v o tn tv k mn ln hn cn mv lv hv cv
  for s in native vgpu; do
    log "ollama $s, engine $e"
    ol_side "$s" "$e" "$OL_PORT"; OL_PORT=$((OL_PORT + 1))
    cat "$LOGS/ollama-$s-$e.fig" "$LOGS/ollama-$s-$e.compute" "$LOGS/ollama-$s-$e.offload" 2>/dev/null
    head -c 300 "$LOGS/ollama-$s-$e.texts" 2>/dev/null; echo
  done
  # a vgpu server that found no GPU: once more with OLLAMA_DEBUG=1, to see why (logs in debug/)
  if ! grep -q "library=CUDA" "$LOGS/ollama-vgpu-$e.compute" 2>/dev/null && [ "${OLLAMA_CHECK_DEBUG:-}" != 1 ]; then
    mkdir -p "$LOGS/debug"
    LOGS=$LOGS/debug OLLAMA_CHECK_DEBUG=1 OLLAMA_RUNS=0 ol_side vgpu "$e" "$OL_PORT"; OL_PORT=$((OL_PORT + 1))
  fi
  for s in native vgpu; do
    f=$LOGS/ollama-$s-$e.fig c=$LOGS/ollama-$s-$e.compute
    d="$(grep -m1 -o 'library=[^ ]*' "$c" 2>/dev/null) $(grep -m1 -o 'compute=[^ ]*' "$c" 2>/dev/null)"
    d=$(echo "$d $(grep -m1 -o 'description="[^"]*"' "$c" 2>/dev/null)" | sed -E 's/^ +| +$//g; s/ +/ /g')
    if grep -q 'library=CUDA .*description="NVIDIA H' "$c" 2>/dev/null; then v="ok: $d"
    else v="FAIL (no CUDA device${d:+: $d}$(grep -m1 '^error=' "$f" 2>/dev/null | sed 's/^error=/; /'))"; fi
    ol_row "ollama $e $s" "$v, discovery $(ol_fig "$f" discovery_s) s"
    o=$(grep -m1 -oE "offloaded [0-9]+/[0-9]+" "$LOGS/ollama-$s-$e.offload" 2>/dev/null | cut -d' ' -f2)
    if [ -n "$o" ] && [ "${o%/*}" = "${o#*/}" ] && [ "${o%/*}" != 0 ]; then v="all $o layers on the GPU"; else v="FAIL (${o:+offloaded $o}${o:-no offload line})"; fi
    ol_row "ollama $e $s offload" "$v, model load $(ol_fig "$f" load_s) s"
  done
  tn=$LOGS/ollama-native-$e.texts tv=$LOGS/ollama-vgpu-$e.texts
  # a line per generation: "true TEXT", or "false TEXT" where Ollama cut it short (30 repeats)
  if [ ! -s "$tn" ] || grep -qv '^true \|^false ' "$tn"; then
    v="FAIL (native: $(grep -m1 -v '^true \|^false ' "$tn" 2>/dev/null | cut -c1-70))"
  else
    # The first generation ("Hello world") is the comparison: repeatable natively. The timed
    # ones (300-token random prompts) are not (a second native server differs: "native
    # again"), so they are counted, not judged.
    diff "$tn" "$tv" >"$LOGS/ollama-$e.diff" 2>&1
    if [ "$(head -1 "$tn")" = "$(head -1 "$tv")" ]; then v="identical (\"Hello world\", 64 greedy tokens)"
    else v="DIFFERENT (\"Hello world\": vgpu $(head -1 "$tv" | cut -c1-40), native $(head -1 "$tn" | cut -c1-40))"; fi
    v+="; timed prompts: $(paste -d'\n' <(tail -n +2 "$tn") <(tail -n +2 "$tv") | paste - - | awk -F'\t' '$1 == $2' | wc -l) of $(tail -n +2 "$tn" | wc -l) equal"
  fi
  ol_row "ollama $e text" "$v"
  for k in eval prompt; do
    read -r mn ln hn cn <<<"$(ol_rate "$LOGS/ollama-native-$e.fig" $k)"
    read -r mv lv hv cv <<<"$(ol_rate "$LOGS/ollama-vgpu-$e.fig" $k)"
    if [ "$mn" = none ] || [ "$mv" = none ]; then v="no figures (native $mn, vgpu $mv)"
    else v=$(awk -v n="$mn" -v v="$mv" -v ln="$ln" -v hn="$hn" -v lv="$lv" -v hv="$hv" -v cn="$cn" -v cv="$cv" \
      'BEGIN { printf "vgpu %.0f vs native %.0f tok/s: %.1f%% (medians of %d/%d runs; native %.0f-%.0f, vgpu %.0f-%.0f)", v, n, 100 * v / n, cn, cv, ln, hn, lv, hv }'); fi
    ol_row "ollama $e $k" "$v"
  done
}

# ol_prompt N: the prompt of timed run N, 300 tokens: pieces "▁w<k>" of the model's vocabulary
# drawn at random (seed N). A random model continues a repetitive prompt with one token over and
# over, and Ollama's server cuts a generation short after 30 repeats of a token (then no timings).
ol_prompt() { awk -v s="$1" 'BEGIN { srand(s); for (i = 0; i < 300; i++) printf " w%d", int(rand() * 3700) }'; }
OL_PORT=${OLLAMA_PORT:-11530}
OL_EXTRA_ENV=()   # more environment for a vgpu side (after the drop-in's: it overrides)

# ol_variant TAG ENGINE NAME [NAME=VALUE...]: one more side of ENGINE (vgpu with that environment,
# or native when TAG starts with "native"), its texts compared with the native side's and its
# tok/s beside native's, as the row "ollama ENGINE NAME".
ol_variant() {
  local tag=$1 e=$2 name=$3 side=vgpu v k mn mv x; shift 3
  case $tag in native*) side=native;; esac
  OL_EXTRA_ENV=("$@")
  log "ollama $tag, engine $e"
  ol_side "$side" "$e" "$OL_PORT" "$tag"; OL_PORT=$((OL_PORT + 1))
  OL_EXTRA_ENV=()
  if [ ! -s "$LOGS/ollama-$tag-$e.texts" ]; then v="FAIL (no texts$(grep -m1 '^error=' "$LOGS/ollama-$tag-$e.fig" 2>/dev/null | sed 's/^error=/: /'))"
  else
    local tn=$LOGS/ollama-native-$e.texts tv=$LOGS/ollama-$tag-$e.texts
    diff "$tn" "$tv" >"$LOGS/ollama-$tag-$e.diff" 2>&1
    if [ "$(head -1 "$tn")" = "$(head -1 "$tv")" ]; then v="\"Hello world\" identical"; else v="\"Hello world\" DIFFERENT"; fi
    v+=", timed prompts $(paste -d'\n' <(tail -n +2 "$tn") <(tail -n +2 "$tv") | paste - - | awk -F'\t' '$1 == $2' | wc -l) of $(tail -n +2 "$tn" | wc -l) equal"
  fi
  for k in eval prompt; do
    mn=$(ol_rate "$LOGS/ollama-native-$e.fig" $k | cut -d' ' -f1); mv=$(ol_rate "$LOGS/ollama-$tag-$e.fig" $k | cut -d' ' -f1)
    x=$(awk -v n="$mn" -v v="$mv" 'BEGIN { if (n + 0 > 0 && v + 0 > 0) printf "%.0f tok/s (%.1f%%)", v, 100 * v / n; else printf "none" }')
    v+="; $k $x"
  done
  ol_row "ollama $e $name" "$v"
}

# ol_transports ENGINE: the same generations through a vgpu-server on TCP with TLS 1.3 and a
# token, and on plain TCP (--insecure), both on 127.0.0.1, beside the unix socket's.
ol_transports() {
  local e=$1 pki=/tmp/vgpu-ol-pki tls tcp
  rm -rf "$pki"
  "$BIN/vgpu-server" pki init --dir "$pki" --host 127.0.0.1 >"$LOGS/ollama-pki.log" 2>&1 &&
    "$BIN/vgpu-server" pki token --dir "$pki" ollama >>"$LOGS/ollama-pki.log" 2>&1
  "$BIN/vgpu-server" --backend real --listen tcp://127.0.0.1:7082 --tls-cert "$pki/server.crt" --tls-key "$pki/server.key" \
    --tokens-file "$pki/tokens" >"$LOGS/server-ollama-tls.log" 2>&1 &
  tls=$!
  "$BIN/vgpu-server" --backend real --listen tcp://127.0.0.1:7081 --insecure >"$LOGS/server-ollama-tcp.log" 2>&1 &
  tcp=$!
  sleep 1
  ol_variant vgpu-tcp "$e" "over plain TCP" VGPU_SERVER=tcp://127.0.0.1:7081 VGPU_INSECURE=1
  ol_variant vgpu-tls "$e" "over TLS 1.3 + token" VGPU_SERVER=tcp://127.0.0.1:7082 VGPU_TLS_CA="$pki/ca.crt" VGPU_TOKEN_FILE="$pki/clients/ollama.token"
  grep -h "connected" "$LOGS/server-ollama-tls.log" | head -2
  kill $tls $tcp; wait $tls $tcp 2>/dev/null
}

# OLLAMA_CHECKS_LIB=1: only the functions (for trying them elsewhere)
if [ "${OLLAMA_CHECKS_LIB:-}" = 1 ]; then :
elif [ ! -f "$OL_TAR" ] || [ ! -x "$ROOT/.carry/vgpu-gguf" ]; then
  ol_row "ollama" "SKIPPED (needs .carry/ollama.tar.xz and .carry/vgpu-gguf)"
elif ol_build; then
  rm -rf "$OLW"; mkdir -p "$OLW/models" "$OLW/home"
  OLLAMA_GGUF_ARGS=${OLLAMA_GGUF_ARGS:--type q8_0 -embd 1024 -heads 16 -heads-kv 16 -ff 2816 -layers 8 -vocab 4096 -ctx 1024}
  # shellcheck disable=SC2086
  "$ROOT/.carry/vgpu-gguf" -o "$OLW/model.gguf" $OLLAMA_GGUF_ARGS 2>&1 | tee "$LOGS/ollama-gguf.txt"
  printf 'FROM %s\n' "$OLW/model.gguf" >"$OLW/Modelfile"
  ol_dropin
  for ol_e in ${OLLAMA_ENGINES:-llama ollama}; do ol_engine "$ol_e"; done
  # Where the texts differ: is native itself repeatable, and does vgpu without shared memory
  # (every copy through the socket) agree?
  if [ "${OLLAMA_DIAG:-1}" = 1 ]; then
    ol_variant native2 llama "native again"
    ol_variant vgpu-noshm llama "without shared memory" VGPU_SHM_MB=0
  fi
  [ "${OLLAMA_TRANSPORTS:-1}" = 1 ] && ol_transports llama
fi

if [ $ol_standalone = 1 ]; then
  kill "$ol_server"; wait "$ol_server" 2>/dev/null
  {
    echo
    echo "== vgpu Ollama checks: $(sed -n 2,3p "$LOGS/host.txt" | tr '\n' ' ')"
    for r in "${RESULTS[@]}"; do echo "$r"; done
  } | tee "$LOGS/summary.txt"
  cp "$LOGS/summary.txt" "$OUT/summary.txt"
  tar czf "$OUT/logs.tgz" -C "$LOGS" .
fi
