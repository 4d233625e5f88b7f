/* session_table.c: see session_table.h. Two open hash tables: session pointer
 * → node, user name → list. Both grow by doubling; deletion uses tombstones
 * rebuilt on growth. Sizes are bounded by the session cap of the server. */
#include "session_table.h"

#include <stdlib.h>
#include <string.h>

struct user;

struct node {
    xapi_session *s;
    struct user *u;
    struct node *prev, *next;       /* in the user's list: head = oldest */
};

struct user {
    char *name;
    uint32_t count;
    struct node *head, *tail;
};

#define TOMB ((void *)1)

static struct node **nodes;         /* keyed by session pointer */
static size_t nodes_cap, nodes_used;
static struct user **users;         /* keyed by name */
static size_t users_cap, users_used;

static uint64_t hash_ptr(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33;
    return x;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

static void nodes_grow(void);
static void users_grow(void);

static struct node **node_slot(const xapi_session *s, bool for_insert)
{
    if (for_insert && (nodes_used + 1) * 2 > nodes_cap)
        nodes_grow();
    if (!nodes_cap)
        return NULL;
    size_t mask = nodes_cap - 1, i = hash_ptr(s) & mask;
    struct node **tomb = NULL;
    for (;; i = (i + 1) & mask) {
        struct node *n = nodes[i];
        if (!n)
            return for_insert ? (tomb ? tomb : &nodes[i]) : NULL;
        if (n == TOMB) {
            if (!tomb)
                tomb = &nodes[i];
            continue;
        }
        if (n->s == s)
            return &nodes[i];
    }
}

static void nodes_grow(void)
{
    struct node **old = nodes;
    size_t old_cap = nodes_cap;
    nodes_cap = old_cap ? old_cap * 2 : 64;
    nodes = calloc(nodes_cap, sizeof(*nodes));
    if (!nodes)
        abort();
    nodes_used = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i] && old[i] != TOMB) {
            *node_slot(old[i]->s, true) = old[i];
            nodes_used++;
        }
    free(old);
}

static struct user **user_slot(const char *name, bool for_insert)
{
    if (for_insert && (users_used + 1) * 2 > users_cap)
        users_grow();
    if (!users_cap)
        return NULL;
    size_t mask = users_cap - 1, i = hash_str(name) & mask;
    for (;; i = (i + 1) & mask) {
        struct user *u = users[i];
        if (!u)
            return for_insert ? &users[i] : NULL;
        if (strcmp(u->name, name) == 0)
            return &users[i];
    }
}

static void users_grow(void)
{
    struct user **old = users;
    size_t old_cap = users_cap;
    users_cap = old_cap ? old_cap * 2 : 16;
    users = calloc(users_cap, sizeof(*users));
    if (!users)
        abort();
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            *user_slot(old[i]->name, true) = old[i];
    free(old);
}

static void list_unlink(struct node *n)
{
    struct user *u = n->u;
    if (n->prev) n->prev->next = n->next; else u->head = n->next;
    if (n->next) n->next->prev = n->prev; else u->tail = n->prev;
    n->prev = n->next = NULL;
}

static void list_append(struct user *u, struct node *n)
{
    n->prev = u->tail;
    n->next = NULL;
    if (u->tail) u->tail->next = n; else u->head = n;
    u->tail = n;
}

xapi_session *gw_session_table_add(xapi_session *s, const char *user, uint32_t cap)
{
    struct user **us = user_slot(user, true);
    if (!*us) {
        struct user *u = calloc(1, sizeof(*u));
        if (!u || !(u->name = strdup(user)))
            abort();
        *us = u;
        users_used++;
    }
    struct user *u = *us;
    struct node *n = calloc(1, sizeof(*n));
    if (!n)
        abort();
    n->s = s;
    n->u = u;
    list_append(u, n);
    u->count++;
    struct node **slot = node_slot(s, true);
    if (*slot == NULL)
        nodes_used++;
    *slot = n;
    return gw_session_table_over_cap(s, cap);
}

xapi_session *gw_session_table_over_cap(xapi_session *s, uint32_t cap)
{
    struct node **slot = node_slot(s, false);
    if (!slot)
        return NULL;
    struct user *u = (*slot)->u;
    if (u->count > cap && u->head && u->head->s != s)
        return u->head->s;
    return NULL;
}

void gw_session_table_remove(xapi_session *s)
{
    struct node **slot = node_slot(s, false);
    if (!slot)
        return;
    struct node *n = *slot;
    *slot = TOMB;
    list_unlink(n);
    n->u->count--;
    free(n);
}

void gw_session_table_touch(xapi_session *s)
{
    struct node **slot = node_slot(s, false);
    if (!slot)
        return;
    struct node *n = *slot;
    struct user *u = n->u;
    list_unlink(n);
    list_append(u, n);
}
