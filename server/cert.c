/* cert.c: the self-signed server certificate made on first start when no
 * --cert is given (certs/README.md). RSA-2048 like xapi's gencert, 10 years,
 * SAN = hostname + every local address (127.0.0.1 and ::1 included). The
 * key is written mode 0600 and both files atomically (tmp + fsync + rename),
 * so a crash never leaves a torn pair; later starts reuse them. */
#include "random.h"
#include "transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

static bool write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *x,
                      xg_err *err)
{
    char tmp[1100];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return xg_err_internal(err, "cannot write %s: %s", tmp, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return xg_err_internal(err, "fdopen failed");
    }
    bool ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1
                  : PEM_write_X509(f, x) == 1;
    ok = fflush(f) == 0 && ok;
    ok = fsync(fileno(f)) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return xg_err_internal(err, "cannot write %s", path);
    }
    return true;
}

static void add_san(GENERAL_NAMES *names, int type, const char *v)
{
    GENERAL_NAME *g = GENERAL_NAME_new();
    if (type == GEN_DNS) {
        ASN1_IA5STRING *s = ASN1_IA5STRING_new();
        ASN1_STRING_set(s, v, (int)strlen(v));
        GENERAL_NAME_set0_value(g, GEN_DNS, s);
    } else {
        unsigned char buf[16];
        int n;
        if (inet_pton(AF_INET, v, buf) == 1)
            n = 4;
        else if (inet_pton(AF_INET6, v, buf) == 1)
            n = 16;
        else {
            GENERAL_NAME_free(g);
            return;
        }
        ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
        ASN1_OCTET_STRING_set(s, buf, n);
        GENERAL_NAME_set0_value(g, GEN_IPADD, s);
    }
    sk_GENERAL_NAME_push(names, g);
}

static bool generate(const char *cert, const char *key, xg_err *err)
{
    bool ok = false;
    EVP_PKEY *pk = EVP_RSA_gen(2048);
    X509 *x = X509_new();
    GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
    if (!pk || !x || !names) {
        xg_err_internal(err, "key generation failed");
        goto out;
    }
    char host[256] = "localhost";
    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    X509_set_version(x, 2);
    unsigned char serial[16];
    xg_random_bytes(serial, sizeof(serial));
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 24 * 3600);
    X509_set_pubkey(x, pk);
    X509_NAME *nm = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (unsigned char *)host, -1, -1, 0);
    X509_set_issuer_name(x, nm);

    add_san(names, GEN_DNS, host);
    if (strcmp(host, "localhost") != 0)
        add_san(names, GEN_DNS, "localhost");
    add_san(names, GEN_IPADD, "127.0.0.1");
    add_san(names, GEN_IPADD, "::1");
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) == 0) {
        for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
            if (!i->ifa_addr)
                continue;
            char a[INET6_ADDRSTRLEN];
            int fam = i->ifa_addr->sa_family;
            if (fam == AF_INET)
                inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, a, sizeof(a));
            else if (fam == AF_INET6)
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, a, sizeof(a));
            else
                continue;
            if (strcmp(a, "127.0.0.1") && strcmp(a, "::1") && !strchr(a, '%'))
                add_san(names, GEN_IPADD, a);
        }
        freeifaddrs(ifs);
    }
    X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT);
    BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
    bc->ca = 0;
    X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT);
    BASIC_CONSTRAINTS_free(bc);
    if (!X509_sign(x, pk, EVP_sha256())) {
        xg_err_internal(err, "certificate signing failed");
        goto out;
    }
    ok = write_pem(key, 0600, pk, NULL, err) && write_pem(cert, 0644, NULL, x, err);
out:
    GENERAL_NAMES_free(names);
    X509_free(x);
    EVP_PKEY_free(pk);
    return ok;
}

bool xg_cert_ensure(const char *state_dir, char *cert, size_t cert_len,
                    char *key, size_t key_len, xg_err *err)
{
    snprintf(cert, cert_len, "%s/xapi-gateway.pem", state_dir);
    snprintf(key, key_len, "%s/xapi-gateway.key", state_dir);
    if (access(cert, R_OK) == 0 && access(key, R_OK) == 0)
        return true;
    return generate(cert, key, err);
}
