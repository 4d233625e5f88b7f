/* mreg.c: the registry of live RRDs, keyed by uuid. A hash of indexes keeps
 * the per-tick lookup of 10,000 VMs O(1); the array and the hash grow by
 * doubling (the hash stays at most half full), so there is no VM limit;
 * removals (rare: VM halts) rebuild the hash. Locking is the caller's (see
 * struct mreg). */
#include "metrics_int.h"

#include <stdlib.h>
#include <string.h>

#define INITIAL_VMS 256

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u;          /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

void mreg_init(struct mreg *g)
{
    memset(g, 0, sizeof(*g));
    pthread_rwlock_init(&g->lock, NULL);
    g->host.domid = UINT32_MAX;
    g->cap = INITIAL_VMS;
    g->vm = calloc(g->cap, sizeof(*g->vm));
    g->nslot = 2 * g->cap;
    g->slot = calloc(g->nslot, sizeof(*g->slot));
    if (!g->vm || !g->slot)
        abort();
}

void mreg_destroy(struct mreg *g)
{
    for (uint32_t i = 0; i < g->nvm; i++) {
        rrd_free(g->vm[i]->rrd);
        free(g->vm[i]);
    }
    rrd_free(g->host.rrd);
    free(g->vm);
    free(g->slot);
    pthread_rwlock_destroy(&g->lock);
}

struct mentry *mreg_find(const struct mreg *g, const char *uuid)
{
    for (uint32_t h = hash(uuid) % g->nslot;; h = (h + 1) % g->nslot) {
        uint32_t v = g->slot[h];
        if (v == 0)
            return NULL;
        if (strcmp(g->vm[v - 1]->uuid, uuid) == 0)
            return g->vm[v - 1];
    }
}

static void put_slot(struct mreg *g, uint32_t idx)
{
    uint32_t h = hash(g->vm[idx]->uuid) % g->nslot;
    while (g->slot[h])
        h = (h + 1) % g->nslot;
    g->slot[h] = idx + 1;
}

static void rehash(struct mreg *g)
{
    memset(g->slot, 0, g->nslot * sizeof(*g->slot));
    for (uint32_t k = 0; k < g->nvm; k++)
        put_slot(g, k);
}

void mreg_add(struct mreg *g, struct mentry *e)
{
    if (g->nvm == g->cap) {
        uint32_t cap = g->cap * 2;
        struct mentry **vm = realloc(g->vm, cap * sizeof(*vm));
        uint32_t *slot = calloc(2 * (size_t)cap, sizeof(*slot));
        if (!vm || !slot)
            abort();
        g->vm = vm;
        free(g->slot);
        g->slot = slot;
        g->nslot = 2 * cap;
        g->cap = cap;
        rehash(g);
    }
    g->vm[g->nvm] = e;
    put_slot(g, g->nvm);
    g->nvm++;
}

void mreg_remove(struct mreg *g, struct mentry *e)
{
    uint32_t i;
    for (i = 0; i < g->nvm && g->vm[i] != e; i++)
        ;
    if (i == g->nvm)
        return;
    rrd_free(e->rrd);
    free(e);
    memmove(&g->vm[i], &g->vm[i + 1], (g->nvm - i - 1) * sizeof(g->vm[0]));
    g->nvm--;
    rehash(g);
}
