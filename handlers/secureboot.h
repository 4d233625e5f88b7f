/* secureboot.h: Secure Boot readiness (see secureboot.c). */
#ifndef GW_SECUREBOOT_H
#define GW_SECUREBOOT_H

/* From the configuration (varstore-dir); at start-up. */
void gw_secureboot_configure(const char *varstore_dir);

#endif
