#!/usr/bin/env bash
# The jetliner command line on the bundled flights file. `jetliner` is installed
# with the package; `python -m jetliner` is the same program. Set PYTHON to the
# interpreter that has jetliner (default: python3).
set -euo pipefail
cd "$(dirname "$0")"
jetliner() { "${PYTHON:-python3}" -m jetliner "$@"; }
FLIGHTS=data/flights.avro
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

echo '$ jetliner schema --polars data/flights.avro'
jetliner schema --polars "$FLIGHTS"

echo; echo '$ jetliner head data/flights.avro -n 3 -c flight_id,carrier,origin,destination'
jetliner head "$FLIGHTS" -n 3 -c flight_id,carrier,origin,destination

echo; echo '$ jetliner head data/flights.avro -n 3 --format csv -c flight_id,fare'
jetliner head "$FLIGHTS" -n 3 --format csv -c flight_id,fare

# count frames the blocks and adds up their record counts: nothing is decoded.
echo; echo '$ jetliner count -v data/flights.avro'
jetliner count -v "$FLIGHTS"

# convert streams batches into the output; OUT appears only when it is complete.
echo; echo '$ jetliner convert data/flights.avro flights.parquet'
jetliner convert "$FLIGHTS" "$OUT/flights.parquet"
"${PYTHON:-python3}" -c "import polars as pl, sys; print(pl.read_parquet(sys.argv[1]).shape)" "$OUT/flights.parquet"

# Bad arguments exit with 2 and say why.
echo; echo '$ jetliner head data/flights.avro -n many'
status=0
jetliner head "$FLIGHTS" -n many 2>&1 || status=$?
echo "exit status $status"
test "$status" -eq 2
