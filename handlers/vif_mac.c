/* vif_mac.c: VIF MAC addresses and device numbers, as XAPI derives and
 * checks them (xapi_vif_helpers.ml gen_mac, helpers.ml is_valid_MAC). Pure. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "net.h"

static void md5(const unsigned char *in, size_t n, unsigned char out[16])
{
    unsigned int len = 16;
    EVP_Digest(in, n, out, &len, EVP_md5(), NULL);
}

void gw_mac_from_seed(const char *seed, int device, char out[18])
{
    unsigned char h[16], h2[16];
    md5((const unsigned char *)seed, strlen(seed), h);
    for (int i = 0; i < 2 * device; i++)
        md5(h, sizeof h, h);
    md5(h, sizeof h, h2);
    /* locally administered, unicast */
    unsigned char b0 = (unsigned char)((h[0] | 0x02) & ~0x01);
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", b0, h[1], h[2], h[3], h2[1], h2[2]);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool gw_mac_parse(const char *mac, uint8_t out[6])
{
    if (strnlen(mac, 18) != 17)
        return false;
    for (int i = 0; i < 6; i++) {
        const char *p = mac + 3 * i;
        int hi = hexval(p[0]), lo = hexval(p[1]);
        if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':'))
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

bool gw_mac_valid(const char *mac)
{
    uint8_t b[6];
    return gw_mac_parse(mac, b);
}

int gw_vif_device_number(const char *device)
{
    size_t n = strnlen(device, 4);
    if (n == 0 || n > 2)
        return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (device[i] < '0' || device[i] > '9')
            return -1;
        v = v * 10 + (device[i] - '0');
    }
    return v <= GW_VIF_DEVICE_MAX ? v : -1;
}
