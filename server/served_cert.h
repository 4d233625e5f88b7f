/* served_cert.h: the TLS certificate the gateway serves right now (the one
 * a SIGHUP reload installed last), for host.get_server_certificate. */
#ifndef XG_SERVED_CERT_H
#define XG_SERVED_CERT_H

#include <stddef.h>

/* PEM of the leaf certificate (no key, no chain) written into out (NUL
 * terminated); its length, or 0 when there is no TLS listener or it does
 * not fit in cap. Any thread. (tls.c) */
size_t xg_tls_served_cert_pem(char *out, size_t cap);

#endif
