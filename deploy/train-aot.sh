#!/usr/bin/env bash
# Trains the JVM's ahead-of-time cache (JDK 25: JEP 483 classes loaded and linked, JEP 515 method
# profiles) on the relay's own work, so that a fresh replica starts with its hot paths known:
# starts the packaged relay in demo mode (embedded Redis, built-in upstream, demo account), submits
# jobs and waits for their webhooks, then stops it with SIGTERM; the JVM writes the cache as it exits.
#
#   deploy/train-aot.sh <quarkus-app dir> <cache file>      JAVA=<java binary> (default: java)
#
# Run it with the very JVM, JVM options ($JAVA_OPTS, read here too: the garbage collector among them)
# and jar that will use the cache: `java -XX:AOTCache=<cache file> $JAVA_OPTS -jar ...`.
# A cache from another JVM build or another jar is refused with a warning, and the relay starts
# without it.
set -euo pipefail
app=$1
cache=$2
java=${JAVA:-java}
port=${TRAIN_PORT:-18080}
jobs=${TRAIN_JOBS:-1500}
base="http://127.0.0.1:$port"

# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
"$java" -XX:AOTCacheOutput="$cache" ${JAVA_OPTS:-} -Dquarkus.profile=demo -Dquarkus.http.port="$port" \
  -Drelay.simulator.duration=1s -Drelay.simulator.max-in-flight=1000 -Drelay.upstreams.default.max-in-flight=1000 \
  -Drelay.poll.interval=500ms -Drelay.accounts.demo.max-pending=100000 \
  -Dquarkus.log.category.\"dev.mjrelay\".level=WARN -jar "$app/quarkus-run.jar" &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true' ERR

for _ in $(seq 1 120); do
  curl -fs "$base/q/health/ready" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "train-aot: the relay exited at start-up" >&2; exit 1; }
  sleep 0.5
done
curl -fs "$base/q/health/ready" >/dev/null || { echo "train-aot: the relay did not become ready" >&2; exit 1; }

submit() {
  curl -fs -o /dev/null -H 'Authorization: Bearer demo-key' -H 'Content-Type: application/json' \
    -d "{\"prompt\":\"training $1\",\"callbackUrl\":\"$base/sim/inbox\"}" "$base/mj/submit/imagine"
}
export -f submit
export base
seq 1 "$jobs" | xargs -P 16 -I{} bash -c 'submit {}'

# every job ended and its webhook reached the demo inbox: the poll and delivery paths ran too
for _ in $(seq 1 120); do
  delivered=$(curl -fs "$base/q/metrics" | awk '/^relay_webhook_attempts_total\{.*outcome="delivered"/ {n += $2} END {print int(n)}' || true)
  [ "${delivered:-0}" -ge "$jobs" ] && break
  sleep 1
done
echo "train-aot: ${delivered:-0} of $jobs webhooks delivered"

kill -TERM "$pid"
wait "$pid" || true
test -s "$cache" || { echo "train-aot: the JVM wrote no cache at $cache" >&2; exit 1; }
echo "train-aot: wrote $cache ($(du -h "$cache" | cut -f1))"
