/* odp-format-dump: prints every flow of a datapath with lib/odp-format, one
 * line per flow exactly as `ovs-dpctl dump-flows` would, so that
 * tests/system/test_odp_format.py can compare the two line by line.
 *
 *   odp-format-dump [-m] [--names|--no-names] SOCKET DATAPATH
 *
 * Port names follow ovs-dpctl: shown with -m unless --no-names, and with
 * --names. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpif.h"
#include "odp-format.h"

struct ports {
    struct dpif_port *v;
    size_t n;
};

static int
add_port(const struct dpif_port *p, void *aux)
{
    struct ports *ps = aux;
    struct dpif_port *v = realloc(ps->v, (ps->n + 1) * sizeof *v);
    if (!v) {
        return -ENOMEM;
    }
    v[ps->n++] = *p;
    ps->v = v;
    return 0;
}

static const char *
port_name(uint32_t port_no, void *aux)
{
    const struct ports *ps = aux;
    for (size_t i = 0; i < ps->n; i++) {
        if (ps->v[i].port_no == port_no) {
            return ps->v[i].name;
        }
    }
    return NULL;
}

struct dump {
    struct odp_format_opts opts;
    uint64_t now;
};

static int
print_flow(const struct dpif_flow *f, void *aux)
{
    struct dump *d = aux;
    struct odp_buf b = { 0 };

    odp_format_flow(&b, f, d->now, &d->opts);
    printf("%s\n", odp_buf_cstr(&b));
    odp_buf_free(&b);
    return 0;
}

int
main(int argc, char *argv[])
{
    struct dump d = { { 0 }, 0 };
    struct ports ports = { NULL, 0 };
    int names = -1;
    int i;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-m") || !strcmp(argv[i], "--more")) {
            d.opts.verbose = true;
        } else if (!strcmp(argv[i], "--names")) {
            names = 1;
        } else if (!strcmp(argv[i], "--no-names")) {
            names = 0;
        } else {
            break;
        }
    }
    if (argc - i != 2) {
        fprintf(stderr, "usage: %s [-m] [--names|--no-names] SOCKET DP\n",
                argv[0]);
        return 2;
    }

    struct dpif *dpif;
    int err = dpif_open(argv[i], argv[i + 1], &dpif);
    if (err) {
        fprintf(stderr, "%s: %s\n", argv[i], strerror(-err));
        return 1;
    }
    if (names < 0 ? d.opts.verbose : names) {
        err = dpif_port_dump(dpif, add_port, &ports);
        d.opts.port_name = port_name;
        d.opts.aux = &ports;
    }
    d.now = odp_now_msec();
    if (!err) {
        err = dpif_flow_dump(dpif, print_flow, &d);
    }
    if (err) {
        fprintf(stderr, "dump failed: %s\n", strerror(-err));
    }
    free(ports.v);
    dpif_close(dpif);
    return err ? 1 : 0;
}
