/* Tunnel path counters (see tnl-stats.h). */
#include "tnl-stats.h"

#include <stdatomic.h>

/* Counter slots: one per thread, as far as they go; threads beyond share
 * slots (still correct, only slower). */
#define CNT_SLOTS 64

struct cnt_slot {
    _Atomic uint64_t c[TNL_C_N];
} __attribute__((aligned(64)));

static struct cnt_slot counters[CNT_SLOTS];
static atomic_uint next_slot;
static _Thread_local int my_slot = -1;

void
tnl_count(enum tnl_counter c, uint64_t n)
{
    if (my_slot < 0) {
        my_slot = (int) (atomic_fetch_add(&next_slot, 1) % CNT_SLOTS);
    }
    atomic_fetch_add_explicit(&counters[my_slot].c[c], n,
                              memory_order_relaxed);
}

uint64_t
tnl_counter_get(enum tnl_counter c)
{
    uint64_t sum = 0;

    for (int i = 0; i < CNT_SLOTS; i++) {
        sum += atomic_load_explicit(&counters[i].c[c], memory_order_relaxed);
    }
    return sum;
}

const char *
tnl_counter_name(enum tnl_counter c)
{
    /* Scripts parse these: change them only with their readers. */
    static const char *const names[TNL_C_N] = {
        [TNL_C_ENCAP] = "encap",
        [TNL_C_DECAP] = "decap",
        [TNL_C_HELD] = "held",
        [TNL_C_HOLD_DROP] = "hold_drop",
        [TNL_C_UNREACH] = "unreachable",
        [TNL_C_ENCAP_ERR] = "encap_error",
        [TNL_C_SOCKET_TX] = "socket_tx",
        [TNL_C_SOCKET_RX] = "socket_rx",
        [TNL_C_SOCKET_RX_BAD] = "socket_rx_bad",
        [TNL_C_DECAP_BAD] = "decap_bad",
        [TNL_C_GRO_SEGS] = "gro_segs",
        [TNL_C_GRO_PKTS] = "gro_pkts",
    };

    return (unsigned) c < TNL_C_N ? names[c] : "?";
}
