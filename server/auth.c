/* auth.c: passwords (see auth.h). --auth file keeps "name:hash" lines in
 * <state>/users, loaded once and rewritten atomically on change
 * (tmp + fsync + rename + fsync of the directory); hashes are yescrypt from
 * libcrypt (sha512-crypt when yescrypt is unavailable). --auth pam asks PAM
 * service "xapi". xg_auth_check_async runs checks on a bounded pool so
 * that hash time never holds an I/O thread or the world lock. Passwords are
 * never logged and are wiped from pool jobs after use. */
#include "auth.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "random.h"
#include "transport.h"

#define MAX_USERS 256
#define NAME_MAX_LEN 64
#define PW_MAX_LEN 1024
#define QUEUE_MAX 1024

struct user { char name[NAME_MAX_LEN]; char hash[CRYPT_OUTPUT_SIZE]; };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct user users[MAX_USERS];
static unsigned nusers;
static bool use_pam;
static char users_path[600];
static char dummy_hash[CRYPT_OUTPUT_SIZE];   /* equalises unknown-user timing */
static bool users_file_existed;

static bool fail_auth(const char *user, xg_err *err)
{
    return xg_err_set(err, "SESSION_AUTHENTICATION_FAILED", 2, user ? user : "",
                      "Authentication failure");
}

static bool load_users(xg_err *err)
{
    FILE *f = fopen(users_path, "r");
    if (!f) {
        if (errno == ENOENT)
            return true;
        return xg_err_internal(err, "cannot read %s: %s", users_path, strerror(errno));
    }
    users_file_existed = true;
    char line[NAME_MAX_LEN + CRYPT_OUTPUT_SIZE + 8];
    while (fgets(line, sizeof(line), f) && nusers < MAX_USERS) {
        line[strcspn(line, "\r\n")] = '\0';
        char *colon = strchr(line, ':');
        if (!colon || colon == line || (size_t)(colon - line) >= NAME_MAX_LEN)
            continue;
        *colon = '\0';
        struct user *u = &users[nusers++];
        memcpy(u->name, line, (size_t)(colon - line) + 1);
        size_t hl = strnlen(colon + 1, sizeof(u->hash) - 1);
        memcpy(u->hash, colon + 1, hl);
        u->hash[hl] = '\0';
    }
    fclose(f);
    return true;
}

static bool make_hash(const char *password, char out[CRYPT_OUTPUT_SIZE], xg_err *err)
{
    char *salt = crypt_gensalt_ra("$y$", 0, NULL, 0);
    if (!salt)
        salt = crypt_gensalt_ra("$6$", 0, NULL, 0);
    if (!salt)
        return xg_err_internal(err, "crypt_gensalt failed");
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    if (!cd)
        abort();
    const char *h = crypt_r(password, salt, cd);
    free(salt);
    bool ok = h && h[0] != '*';
    if (ok)
        snprintf(out, CRYPT_OUTPUT_SIZE, "%s", h);
    explicit_bzero(cd, sizeof(*cd));
    free(cd);
    return ok ? true : xg_err_internal(err, "crypt failed");
}

/* Caller holds mu. */
static bool save_users(xg_err *err)
{
    char tmp[640];
    snprintf(tmp, sizeof(tmp), "%s.tmp", users_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return xg_err_internal(err, "cannot write %s: %s", tmp, strerror(errno));
    bool ok = true;
    for (unsigned i = 0; i < nusers && ok; i++) {
        char line[NAME_MAX_LEN + CRYPT_OUTPUT_SIZE + 4];
        int n = snprintf(line, sizeof(line), "%s:%s\n", users[i].name, users[i].hash);
        ok = write(fd, line, (size_t)n) == n;
    }
    ok = ok && fsync(fd) == 0;
    ok = (close(fd) == 0) && ok;
    if (!ok || rename(tmp, users_path) != 0) {
        unlink(tmp);
        return xg_err_internal(err, "cannot write %s: %s", users_path, strerror(errno));
    }
    /* the rename itself must survive a crash */
    char dir[600];
    snprintf(dir, sizeof(dir), "%s", users_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return true;
}

/* ---- async pool ---------------------------------------------------- */

/* Jobs wait in one FIFO, but a worker takes the first job whose source
 * address is allowed to run now: at most ADDR_INFLIGHT checks per address
 * at once, and after THROTTLE_FREE_FAILS consecutive failures an address
 * waits (250 ms doubling to 30 s) before its next check, as sshd/fail2ban
 * slow a guesser. So one address guessing passwords holds at most one pool
 * thread, mostly idle, and everyone else's logins go through. */
#define ADDR_SLOTS 1024
#define ADDR_INFLIGHT 1
#define ADDR_QUEUED_MAX 32
#define THROTTLE_FREE_FAILS 5
#define THROTTLE_BASE_MS 250
#define THROTTLE_MAX_MS 30000
#define POOL_NICE 5                     /* hashing yields to the I/O threads */

struct addr_state {
    char addr[48];
    unsigned fails, inflight, queued;
    uint64_t not_before, last_use;
};

struct job {
    struct job *next;
    struct addr_state *src;
    char user[NAME_MAX_LEN * 4];
    char password[PW_MAX_LEN];
    void (*cb)(void *arg, bool ok, const xg_err *err);
    void *arg;
};

static pthread_mutex_t qmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcv;
static struct job *qhead;
static unsigned qlen, nworkers;
static pthread_t workers[64];
static bool pool_stopping;
static struct addr_state addrs[ADDR_SLOTS];

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Caller holds qmu. The slot of addr; an idle slot is reused when the
 * table is full (the least recently used one without queued work). */
static struct addr_state *addr_slot(const char *addr, uint64_t now)
{
    unsigned h = 2166136261u;
    for (const char *p = addr; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    struct addr_state *victim = NULL;
    for (unsigned k = 0; k < 16; k++) {
        struct addr_state *a = &addrs[(h + k) % ADDR_SLOTS];
        if (strcmp(a->addr, addr) == 0)
            return a;
        if (a->inflight == 0 && a->queued == 0 &&
            (!victim || a->last_use < victim->last_use))
            victim = a;
    }
    if (!victim)
        return NULL;
    memset(victim, 0, sizeof(*victim));
    snprintf(victim->addr, sizeof(victim->addr), "%s", addr);
    victim->last_use = now;
    return victim;
}

/* Caller holds qmu: unlinks and returns the first runnable job, or NULL
 * with *wake set to when one becomes runnable (0 = when a check ends). */
static struct job *take_runnable(uint64_t now, uint64_t *wake)
{
    *wake = 0;
    for (struct job **pp = &qhead; *pp; pp = &(*pp)->next) {
        struct job *j = *pp;
        struct addr_state *a = j->src;
        if (a->inflight >= ADDR_INFLIGHT)
            continue;
        if (a->not_before > now) {
            if (!*wake || a->not_before < *wake)
                *wake = a->not_before;
            continue;
        }
        *pp = j->next;
        qlen--;
        a->queued--;
        a->inflight++;
        return j;
    }
    return NULL;
}

static void record_result(struct addr_state *a, bool ok, uint64_t now)
{
    a->inflight--;
    a->last_use = now;
    if (ok) {
        a->fails = 0;
        a->not_before = 0;
        return;
    }
    if (++a->fails > THROTTLE_FREE_FAILS) {
        unsigned k = a->fails - THROTTLE_FREE_FAILS - 1;
        uint64_t d = k >= 8 ? THROTTLE_MAX_MS : (uint64_t)THROTTLE_BASE_MS << k;
        a->not_before = now + (d > THROTTLE_MAX_MS ? THROTTLE_MAX_MS : d);
        if (a->fails == THROTTLE_FREE_FAILS + 1)
            XG_WARN("auth", "%s: repeated authentication failures, throttling", a->addr);
    }
}

static void *worker_main(void *unused)
{
    (void)unused;
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), POOL_NICE);
    pthread_mutex_lock(&qmu);
    for (;;) {
        uint64_t wake = 0;
        struct job *j = NULL;
        while (!pool_stopping && !(j = take_runnable(mono_ms(), &wake))) {
            if (wake) {
                struct timespec ts = { .tv_sec = (time_t)(wake / 1000),
                                       .tv_nsec = (long)(wake % 1000) * 1000000 };
                pthread_cond_timedwait(&qcv, &qmu, &ts);
            } else {
                pthread_cond_wait(&qcv, &qmu);
            }
        }
        if (!j)
            break;
        pthread_mutex_unlock(&qmu);
        xg_err err = XG_ERR_INIT;
        bool ok = xg_auth_check(j->user, j->password, &err);
        explicit_bzero(j->password, sizeof(j->password));
        pthread_mutex_lock(&qmu);
        record_result(j->src, ok, mono_ms());
        pthread_cond_broadcast(&qcv);   /* the address may run its next job */
        pthread_mutex_unlock(&qmu);
        j->cb(j->arg, ok, ok ? NULL : &err);
        free(j);
        pthread_mutex_lock(&qmu);
    }
    pthread_mutex_unlock(&qmu);
    return NULL;
}

static void pool_start(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&qcv, &ca);
    pthread_condattr_destroy(&ca);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    if (n > 64)
        n = 64;
    for (long i = 0; i < n; i++)
        if (pthread_create(&workers[nworkers], NULL, worker_main, NULL) == 0)
            nworkers++;
}

void xg_auth_check_async(const char *client_addr, const char *user, const char *password,
                         void (*cb)(void *arg, bool ok, const xg_err *err),
                         void *arg)
{
    xg_err err = XG_ERR_INIT;
    if (!user || !password || strlen(user) >= sizeof(((struct job *)0)->user) ||
        strlen(password) >= PW_MAX_LEN) {
        fail_auth(user, &err);
        cb(arg, false, &err);
        return;
    }
    pthread_mutex_lock(&qmu);
    struct addr_state *a = addr_slot(client_addr ? client_addr : "", mono_ms());
    if (!a || qlen >= QUEUE_MAX || a->queued >= ADDR_QUEUED_MAX || nworkers == 0) {
        /* a flood: refuse rather than queue without bound */
        pthread_mutex_unlock(&qmu);
        fail_auth(user, &err);
        cb(arg, false, &err);
        return;
    }
    struct job *j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    j->src = a;
    snprintf(j->user, sizeof(j->user), "%s", user);
    snprintf(j->password, sizeof(j->password), "%s", password);
    j->cb = cb;
    j->arg = arg;
    struct job **pp = &qhead;
    while (*pp)
        pp = &(*pp)->next;
    *pp = j;
    qlen++;
    a->queued++;
    pthread_cond_broadcast(&qcv);
    pthread_mutex_unlock(&qmu);
}

void xg_auth_shutdown(void)
{
    pthread_mutex_lock(&qmu);
    pool_stopping = true;
    pthread_cond_broadcast(&qcv);
    pthread_mutex_unlock(&qmu);
    for (unsigned i = 0; i < nworkers; i++)
        pthread_join(workers[i], NULL);
    nworkers = 0;
}

/* ---- PAM --------------------------------------------------------------- */

static int pam_conv_fn(int n, const struct pam_message **msg,
                       struct pam_response **resp, void *data)
{
    struct pam_response *r = calloc((size_t)n, sizeof(*r));
    if (!r)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
            msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
            r[i].resp = strdup((const char *)data);
            if (!r[i].resp) {
                for (int k = 0; k < i; k++)
                    free(r[k].resp);
                free(r);
                return PAM_BUF_ERR;
            }
        }
    }
    *resp = r;
    return PAM_SUCCESS;
}

static bool pam_check(const char *user, const char *password)
{
    struct pam_conv conv = { pam_conv_fn, (void *)password };
    pam_handle_t *ph = NULL;
    if (pam_start("xapi", user, &conv, &ph) != PAM_SUCCESS)
        return false;
    int rc = pam_authenticate(ph, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
    if (rc == PAM_SUCCESS)
        rc = pam_acct_mgmt(ph, PAM_SILENT);
    pam_end(ph, rc);
    return rc == PAM_SUCCESS;
}

/* ---- public ---------------------------------------------------------- */

bool xg_auth_init(const char *mode, const char *state_dir, xg_err *err)
{
    use_pam = mode && strcmp(mode, "pam") == 0;
    if (!use_pam && mode && strcmp(mode, "file") != 0)
        return xg_err_internal(err, "unknown auth mode %s", mode);
    snprintf(users_path, sizeof(users_path), "%s/users", state_dir);
    nusers = 0;
    users_file_existed = false;
    if (!make_hash("not-a-password", dummy_hash, err))
        return false;
    if (!use_pam && !load_users(err))
        return false;
    if (nworkers == 0) {
        pool_stopping = false;
        pool_start();
    }
    return true;
}

bool xg_auth_ensure_root(xg_err *err)
{
    if (use_pam || users_file_existed)
        return true;
    char pw[64];
    const char *env = getenv("XAPI_GATEWAY_ROOT_PASSWORD");
    bool generated = !env || !*env;
    if (generated) {
        static const char alphabet[] =
            "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        unsigned char rnd[20];
        xg_random_bytes(rnd, sizeof(rnd));
        size_t i;
        for (i = 0; i < sizeof(rnd); i++)
            pw[i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
        pw[i] = '\0';
    } else {
        snprintf(pw, sizeof(pw), "%s", env);
    }
    if (!xg_auth_set_password("root", pw, err))
        return false;
    if (generated) {
        printf("root password: %s\n", pw);
        fflush(stdout);
    }
    explicit_bzero(pw, sizeof(pw));
    return true;
}

bool xg_auth_check(const char *user, const char *password, xg_err *err)
{
    if (!user || !password || !*user)
        return fail_auth(user, err);
    if (use_pam)
        return pam_check(user, password) ? true : fail_auth(user, err);
    char hash[CRYPT_OUTPUT_SIZE];
    bool found = false;
    pthread_mutex_lock(&mu);
    for (unsigned i = 0; i < nusers; i++) {
        if (strcmp(users[i].name, user) == 0) {
            memcpy(hash, users[i].hash, sizeof(hash));
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&mu);
    if (!found)
        memcpy(hash, dummy_hash, sizeof(hash));
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    if (!cd)
        abort();
    const char *h = crypt_r(password, hash, cd);
    bool ok = false;
    if (h && h[0] != '*') {
        size_t n = strlen(hash);
        unsigned char diff = (unsigned char)(strlen(h) != n);
        for (size_t i = 0; i < n && h[i]; i++)
            diff |= (unsigned char)(h[i] ^ hash[i]);
        ok = diff == 0;
    }
    explicit_bzero(cd, sizeof(*cd));
    free(cd);
    return ok && found ? true : fail_auth(user, err);
}

bool xg_auth_set_password(const char *user, const char *password, xg_err *err)
{
    if (use_pam)
        return xg_err_internal(err, "passwords are managed by PAM");
    if (!user || !*user || strlen(user) >= NAME_MAX_LEN || strpbrk(user, ":\n\r"))
        return xg_err_internal(err, "invalid user name");
    char hash[CRYPT_OUTPUT_SIZE];
    if (!make_hash(password, hash, err))
        return false;
    pthread_mutex_lock(&mu);
    unsigned i;
    for (i = 0; i < nusers; i++)
        if (strcmp(users[i].name, user) == 0)
            break;
    if (i == nusers) {
        if (nusers == MAX_USERS) {
            pthread_mutex_unlock(&mu);
            return xg_err_internal(err, "too many users");
        }
        nusers++;
        snprintf(users[i].name, sizeof(users[i].name), "%s", user);
    }
    memcpy(users[i].hash, hash, sizeof(hash));
    bool ok = save_users(err);
    if (ok)
        users_file_existed = true;
    pthread_mutex_unlock(&mu);
    return ok;
}
