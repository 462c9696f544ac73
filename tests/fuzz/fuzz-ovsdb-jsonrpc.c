/* libFuzzer target: JSON-RPC stream framing (ovsdb/jsonrpc.c).  The first
 * byte picks a chunk size so messages also arrive split. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "jsonrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jsonrpc_conn *c;
    size_t chunk, ofs;

    if (!size) {
        return 0;
    }
    chunk = (data[0] % 16) + 1;
    data++;
    size--;
    c = jsonrpc_conn_create(-1, "fuzz");
    for (ofs = 0; ofs < size && !c->eof; ofs += chunk) {
        size_t n = size - ofs < chunk ? size - ofs : chunk;

        jsonrpc_conn_feed(c, data + ofs, n);
        for (;;) {
            json_t *msg;
            char *error;
            enum jsonrpc_status st = jsonrpc_conn_next(c, &msg, &error);

            free(error);
            if (st == JSONRPC_MSG) {
                (void) jsonrpc_msg_check(msg);
                json_decref(msg);
            } else if (st == JSONRPC_NONE || st == JSONRPC_FATAL) {
                break;
            }
        }
    }
    jsonrpc_conn_free(c);
    return 0;
}
