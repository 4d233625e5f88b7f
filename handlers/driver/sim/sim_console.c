/* sim_console.c: the simulated guests' text consoles. Each console_open
 * gives the caller one end of a socketpair; the guest end is served by one
 * thread that plays a small shell: a boot banner on connect, a heartbeat
 * line every few seconds (the console keeps printing, as a real guest's
 * does), keystrokes echoed, and a command on Enter:
 *   scroll N  prints N numbered lines as fast as the reader takes them
 *   anything  answers "sim: you typed: <line>"
 * Output the reader does not take is dropped (a guest's console ring
 * overwrites too), so a stalled reader costs nothing here. When the domain
 * is removed its consoles are shut down: the reader sees EOF.
 *
 * Locking: c->lock guards the list; sim_console_gone is called with d->lock
 * held and takes c->lock, so this thread never takes d->lock. */
#include "sim_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../../server/log.h"

#define SIM_TTY_MAX 1024            /* open sim consoles, host-wide */
#define SIM_TTY_HEARTBEAT_NS (3ull * 1000000000ull)
#define SIM_TTY_SCROLL_MAX 1000000u
#define SIM_TTY_LINE 120

struct sim_tty {
    struct sim_tty *next;
    int fd;                          /* guest end */
    uint32_t domid;
    bool dead;                       /* domain gone: closed on the next pass */
    char name[64];
    char line[SIM_TTY_LINE];
    size_t llen;
    uint32_t beats;
    uint64_t next_beat;
    uint32_t scroll_left, scroll_no;
};

struct sim_consoles {
    pthread_mutex_t lock;
    pthread_t thread;
    bool started, stop;
    struct sim_tty *list;
    uint32_t n;
};

static void say(struct sim_tty *t, const char *s)
{
    ssize_t r = send(t->fd, s, strlen(s), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)r;                         /* a full socket drops it */
}

static void prompt(struct sim_tty *t)
{
    char p[160];
    snprintf(p, sizeof p, "[root@%s ~]# %.*s", t->name, (int)t->llen, t->line);
    say(t, p);
}

static void run_line(struct sim_tty *t)
{
    char out[SIM_TTY_LINE + 64];
    t->line[t->llen] = '\0';
    unsigned n = 0;
    say(t, "\r\n");
    if (sscanf(t->line, "scroll %u", &n) == 1) {
        t->scroll_left = n < SIM_TTY_SCROLL_MAX ? n : SIM_TTY_SCROLL_MAX;
        t->scroll_no = 0;
    } else if (t->llen > 0) {
        snprintf(out, sizeof out, "sim: you typed: %s\r\n", t->line);
        say(t, out);
    }
    t->llen = 0;
    if (!t->scroll_left)
        prompt(t);
}

static void on_input(struct sim_tty *t)
{
    char buf[512];
    ssize_t r;
    while ((r = recv(t->fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
        for (ssize_t i = 0; i < r; i++) {
            unsigned char ch = (unsigned char)buf[i];
            if (ch == '\r' || ch == '\n') {
                run_line(t);
            } else if (ch == 0x7f || ch == 0x08) {
                if (t->llen > 0) {
                    t->llen--;
                    say(t, "\b \b");
                }
            } else if (ch >= 0x20 && t->llen + 1 < sizeof t->line) {
                t->line[t->llen++] = (char)ch;
                char echo[2] = { (char)ch, 0 };
                say(t, echo);
            }
        }
    }
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
        t->dead = true;              /* the reader went away */
}

static void on_scroll(struct sim_tty *t)
{
    char l[96];
    while (t->scroll_left > 0) {
        int n = snprintf(l, sizeof l, "sim: scrolling line %" PRIu32 " of a busy console\r\n",
                         ++t->scroll_no);
        if (send(t->fd, l, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
            t->scroll_no--;
            return;                  /* full: continue when writable */
        }
        if (--t->scroll_left == 0)
            prompt(t);
    }
}

static void on_tick(struct sim_tty *t, uint64_t now)
{
    if (now < t->next_beat || t->scroll_left)
        return;
    t->next_beat = now + SIM_TTY_HEARTBEAT_NS;
    char l[96];
    snprintf(l, sizeof l, "\r\nsim: heartbeat %" PRIu32 "\r\n", ++t->beats);
    say(t, l);
    prompt(t);
}

static void *tty_main(void *arg)
{
    struct sim_consoles *c = arg;
    struct pollfd pf[SIM_TTY_MAX];
    struct sim_tty *ts[SIM_TTY_MAX];
    for (;;) {
        pthread_mutex_lock(&c->lock);
        if (c->stop) {
            pthread_mutex_unlock(&c->lock);
            return NULL;
        }
        /* close what died; collect the rest */
        uint32_t n = 0;
        for (struct sim_tty **pp = &c->list; *pp;) {
            struct sim_tty *t = *pp;
            if (t->dead) {
                *pp = t->next;
                close(t->fd);
                free(t);
                c->n--;
                continue;
            }
            pf[n] = (struct pollfd){ .fd = t->fd,
                                     .events = POLLIN | (t->scroll_left ? POLLOUT : 0) };
            ts[n++] = t;
            pp = &t->next;
        }
        pthread_mutex_unlock(&c->lock);
        int r = poll(pf, n, 100);
        pthread_mutex_lock(&c->lock);
        uint64_t now = sim_now_ns();
        for (uint32_t i = 0; i < n; i++) {
            struct sim_tty *t = ts[i];
            if (t->dead)
                continue;
            if (r > 0 && (pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                on_input(t);
            if (!t->dead && t->scroll_left)
                on_scroll(t);
            if (!t->dead)
                on_tick(t, now);
        }
        pthread_mutex_unlock(&c->lock);
    }
}

static struct sim_consoles *consoles(struct xg_drv *d, xg_err *err)
{
    struct sim_consoles *c = d->consoles;
    pthread_mutex_lock(&c->lock);
    if (!c->started && !c->stop) {
        if (pthread_create(&c->thread, NULL, tty_main, c) != 0) {
            pthread_mutex_unlock(&c->lock);
            xg_err_internal(err, "sim: cannot start the console thread");
            return NULL;
        }
        c->started = true;
    }
    pthread_mutex_unlock(&c->lock);
    return c;
}

bool sim_console_open(struct xg_drv *d, uint32_t domid, enum xg_console_kind *kind,
                      int *fd, xg_err *err)
{
    struct sim_consoles *c = consoles(d, err);
    if (!c)
        return false;
    struct sim_tty *t = calloc(1, sizeof *t);
    if (!t)
        abort();
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
        free(t);
        return xg_err_internal(err, "sim: socketpair: %s", strerror(errno));
    }
    t->fd = sv[1];
    t->domid = domid;
    char distro[32] = "", uuid[XG_UUID_STR] = "";
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = sim_dom_get(d, domid);
    bool ok = s && s->state != XG_DOM_DYING && !s->building;
    if (ok) {
        snprintf(t->name, sizeof t->name, "%.63s", domid == 0 ? "dom0" : s->name);
        snprintf(distro, sizeof distro, "%s", s->distro[0] ? s->distro : "linux");
        memcpy(uuid, s->uuid, sizeof uuid);
        pthread_mutex_lock(&c->lock);
        ok = c->n < SIM_TTY_MAX;
        if (ok) {
            t->next = c->list;
            c->list = t;
            c->n++;
        }
        /* the banner goes out before the lock is dropped: a domain removed
         * now still leaves it readable before the EOF */
        if (ok) {
            char b[400];
            snprintf(b, sizeof b, "\r\n%s (simulated guest %s, domid %" PRIu32 ") hvc0\r\n"
                     "XG-SIM-CONSOLE %s\r\n\r\n", distro, t->name, domid, uuid);
            say(t, b);
            t->next_beat = sim_now_ns() + SIM_TTY_HEARTBEAT_NS;
            prompt(t);
        }
        pthread_mutex_unlock(&c->lock);
    }
    pthread_mutex_unlock(&d->lock);
    if (!ok) {
        close(sv[0]);
        close(sv[1]);
        free(t);
        return s ? xg_err_internal(err, "sim: too many consoles open")
                 : xg_err_internal(err, "domain not found: %" PRIu32, domid);
    }
    *kind = XG_CONSOLE_TEXT;
    *fd = sv[0];
    return true;
}

void sim_console_gone(struct xg_drv *d, uint32_t domid)
{
    struct sim_consoles *c = d->consoles;
    pthread_mutex_lock(&c->lock);
    for (struct sim_tty *t = c->list; t; t = t->next) {
        if (t->domid == domid && !t->dead) {
            shutdown(t->fd, SHUT_RDWR);   /* the reader's EOF; closed by the thread */
            t->dead = true;
        }
    }
    pthread_mutex_unlock(&c->lock);
}

bool sim_consoles_new(struct xg_drv *d)
{
    d->consoles = calloc(1, sizeof *d->consoles);
    if (!d->consoles)
        return false;
    pthread_mutex_init(&d->consoles->lock, NULL);
    return true;
}

void sim_consoles_free(struct xg_drv *d)
{
    struct sim_consoles *c = d->consoles;
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    bool join = c->started;
    pthread_mutex_unlock(&c->lock);
    if (join)
        pthread_join(c->thread, NULL);
    for (struct sim_tty *t = c->list, *n; t; t = n) {
        n = t->next;
        close(t->fd);
        free(t);
    }
    pthread_mutex_destroy(&c->lock);
    free(c);
    d->consoles = NULL;
}
