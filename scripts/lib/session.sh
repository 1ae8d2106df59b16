# shellcheck shell=bash
# Sourced by scripts/test and scripts/demo: make a DynamoDB Local server available for
# the rest of the calling script, and stop it on exit if this run started it.
#
#   dynamodb_local_session NAME   # exports DYNAMODB_ENDPOINT

dynamodb_local_session() {
  # A private state directory: `stop` only ever stops a server this run started there
  # (none when DYNAMODB_ENDPOINT already answers).
  export DYNORM_STATE_DIR
  DYNORM_STATE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dynorm-$1.XXXXXX")
  trap dynamodb_local_cleanup EXIT
  DYNAMODB_ENDPOINT=$(scripts/dynamodb-local start | tail -1)
  export DYNAMODB_ENDPOINT
}

# shellcheck disable=SC2317 # called by the EXIT trap
dynamodb_local_cleanup() {
  scripts/dynamodb-local stop || true
  rm -rf "$DYNORM_STATE_DIR"
}
