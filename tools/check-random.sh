#!/bin/sh
# One source of randomness (server/random.h): no other getrandom, /dev/urandom,
# rand()/random() or OpenSSL RAND_bytes call in the gateway's sources.
cd "$(dirname "$0")/.." || exit 2
hits=$(grep -rnE '\b(getrandom|s?rand|s?random|rand_r|[de]rand48|RAND_bytes)\(|"/dev/u?random"' \
    --include='*.c' --include='*.h' server handlers | grep -v '^server/random\.c:')
if [ -n "$hits" ]; then
    echo "randomness outside server/random.c (use xg_random_bytes / xg_random_uuid):"
    echo "$hits"
    exit 1
fi
