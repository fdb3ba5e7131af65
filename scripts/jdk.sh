# Sourced by ./hvlab, ./run-tests and bench/run: finds a JDK 25 and exports JAVA_HOME.
# Order: JAVA_HOME if it is a JDK 25, then the usual JVM directory (/usr/lib/jvm).
hvlab_is_jdk25() {
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 1
  local v
  v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" 2>/dev/null)
  [ "$v" = "25" ]
}
hvlab_find_jdk() {
  if [ -n "${JAVA_HOME:-}" ] && hvlab_is_jdk25 "$JAVA_HOME"; then return 0; fi
  local d
  for d in /usr/lib/jvm/*; do
    if hvlab_is_jdk25 "$d"; then export JAVA_HOME="$d"; return 0; fi
  done
  echo "hvlab: no JDK 25 found (JAVA_HOME=${JAVA_HOME:-unset}, none under /usr/lib/jvm); install one or set JAVA_HOME" >&2
  return 1
}
