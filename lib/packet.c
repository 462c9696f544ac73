/* Packet buffers: allocation, copy-on-write and headroom management. */
#include "packet.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Large blocks (super-packets: receive staging buffers of 64 KiB and
 * more) are recycled through a small per-thread cache.  Handing them back
 * to malloc lets it trim or unmap them, and the next receive then faults
 * in and zeroes sixteen fresh pages before the kernel can copy into them:
 * that cost a third of a forwarding thread under TCP.  A block goes to the
 * cache of the thread that frees it; the cache empties when the thread
 * exits. */
#define BIG_BUF_MIN (32 * 1024)
#define BIG_CACHE_MAX 32

struct big_cache {
    unsigned n;
    struct dp_buf *bufs[BIG_CACHE_MAX];
};

static pthread_once_t big_once = PTHREAD_ONCE_INIT;
static pthread_key_t big_key;
static _Thread_local struct big_cache *big_mine;

static void
big_cache_destroy(void *cache_)
{
    struct big_cache *cache = cache_;

    while (cache->n) {
        free(cache->bufs[--cache->n]);
    }
    free(cache);
}

static void
big_cache_init_key(void)
{
    pthread_key_create(&big_key, big_cache_destroy);
}

static struct big_cache *
big_cache_get(void)
{
    if (!big_mine) {
        pthread_once(&big_once, big_cache_init_key);
        big_mine = calloc(1, sizeof *big_mine);
        if (big_mine) {
            pthread_setspecific(big_key, big_mine);
        }
    }
    return big_mine;
}

void
dp_packet_cache_flush(void)
{
    if (big_mine) {
        pthread_setspecific(big_key, NULL);
        big_cache_destroy(big_mine);
        big_mine = NULL;
    }
}

static struct dp_buf *
buf_alloc(size_t size)
{
    struct dp_buf *b = NULL;

    if (size >= BIG_BUF_MIN) {
        struct big_cache *c = big_cache_get();

        /* Blocks of one size dominate (the receive staging size), so the
         * newest one nearly always fits. */
        if (c && c->n && c->bufs[c->n - 1]->size >= size) {
            b = c->bufs[--c->n];
        }
    }
    if (!b) {
        b = malloc(sizeof *b + size);
        if (!b) {
            return NULL;
        }
        b->size = size;
    }
    atomic_init(&b->refcnt, 1);
    return b;
}

static void
buf_unref(struct dp_buf *b)
{
    if (atomic_fetch_sub_explicit(&b->refcnt, 1, memory_order_acq_rel) == 1) {
        if (b->size >= BIG_BUF_MIN) {
            struct big_cache *c = big_cache_get();

            if (c && c->n < BIG_CACHE_MAX) {
                c->bufs[c->n++] = b;
                return;
            }
        }
        free(b);
    }
}

static void
packet_init(struct dp_packet *p, struct dp_buf *b, size_t headroom)
{
    memset(p, 0, sizeof *p);
    p->buf = b;
    p->data_ofs = headroom;
    p->l3_ofs = DP_OFS_NONE;
    p->l4_ofs = DP_OFS_NONE;
}

struct dp_packet *
dp_packet_new(size_t headroom, size_t size)
{
    struct dp_packet *p = malloc(sizeof *p);
    struct dp_buf *b = p ? buf_alloc(headroom + size) : NULL;

    if (!b) {
        free(p);
        return NULL;
    }
    packet_init(p, b, headroom);
    return p;
}

struct dp_packet *
dp_packet_copy_from(const void *data, size_t len, size_t headroom)
{
    struct dp_packet *p = dp_packet_new(headroom, len);

    if (p) {
        memcpy(dp_packet_data(p), data, len);
        p->len = len;
    }
    return p;
}

struct dp_packet *
dp_packet_clone(const struct dp_packet *src)
{
    struct dp_packet *p = malloc(sizeof *p);

    if (p) {
        *p = *src;
        atomic_fetch_add_explicit(&p->buf->refcnt, 1, memory_order_relaxed);
    }
    return p;
}

struct dp_packet *
dp_packet_deep_copy(const struct dp_packet *src, size_t headroom)
{
    struct dp_packet *p = dp_packet_new(headroom, src->len);

    if (p) {
        struct dp_buf *b = p->buf;

        *p = *src;
        p->buf = b;
        p->data_ofs = headroom;
        memcpy(dp_packet_data(p), dp_packet_data(src), src->len);
    }
    return p;
}

void
dp_packet_free(struct dp_packet *p)
{
    if (p) {
        buf_unref(p->buf);
        free(p);
    }
}

int
dp_packet_make_writable(struct dp_packet *p, size_t headroom)
{
    struct dp_buf *b;

    if (!dp_packet_shared(p) && p->data_ofs >= headroom) {
        return 0;
    }
    /* Keep the tailroom the old block had, so appends stay cheap. */
    size_t tail = dp_packet_tailroom(p);
    size_t room = headroom > p->data_ofs ? headroom : p->data_ofs;

    b = buf_alloc(room + p->len + tail);
    if (!b) {
        return -ENOMEM;
    }
    memcpy(b->data + room, dp_packet_data(p), p->len);
    buf_unref(p->buf);
    p->buf = b;
    p->data_ofs = room;
    return 0;
}

static void
shift_offsets(struct dp_packet *p, int delta)
{
    if (p->l3_ofs != DP_OFS_NONE) {
        p->l3_ofs += delta;
    }
    if (p->l4_ofs != DP_OFS_NONE) {
        p->l4_ofs += delta;
    }
    if (p->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        p->vnet.csum_start += delta;
    }
}

void *
dp_packet_push(struct dp_packet *p, size_t n)
{
    if (dp_packet_make_writable(p, n + (n < DP_PACKET_HEADROOM
                                        ? DP_PACKET_HEADROOM : 0))) {
        return NULL;
    }
    p->data_ofs -= n;
    p->len += n;
    shift_offsets(p, (int) n);
    return dp_packet_data(p);
}

void
dp_packet_pull(struct dp_packet *p, size_t n)
{
    if (n > p->len) {
        n = p->len;
    }
    p->data_ofs += n;
    p->len -= n;
    shift_offsets(p, -(int) n);
}

void *
dp_packet_put(struct dp_packet *p, size_t n)
{
    if (dp_packet_shared(p) || dp_packet_tailroom(p) < n) {
        size_t room = p->data_ofs;
        struct dp_buf *b = buf_alloc(room + p->len + n + 64);

        if (!b) {
            return NULL;
        }
        memcpy(b->data + room, dp_packet_data(p), p->len);
        buf_unref(p->buf);
        p->buf = b;
    }
    void *tail = dp_packet_data(p) + p->len;
    p->len += n;
    return tail;
}

void
dp_packet_trim(struct dp_packet *p, size_t len)
{
    if (len < p->len) {
        p->len = len;
    }
}
