/* plugins.h: host plugins (host.call_plugin, see plugins.c). */
#ifndef GW_PLUGINS_H
#define GW_PLUGINS_H

/* From the configuration (plugin-dir, plugin-timeout-s); at start-up. */
void gw_plugins_configure(const char *dir, unsigned timeout_s);

#endif
