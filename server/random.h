/* random.h: the one source of randomness of the gateway (uuids, refs,
 * generated passwords, certificate serials, simulated MACs). Reads the
 * kernel CSPRNG (getrandom, 2): retries EINTR and short reads, and
 * aborts with a log line on any other error, since refs and passwords made
 * from anything weaker would be guessable. Thread-safe, never blocks once
 * the kernel pool is initialised (at boot). */
#ifndef XG_RANDOM_H
#define XG_RANDOM_H

#include <stddef.h>

void xg_random_bytes(void *buf, size_t n);
/* A random (version 4) uuid in its 36-character text form. */
void xg_random_uuid(char out[37]);

#endif
