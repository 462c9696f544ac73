/* Fuzzes lib/jsonrpc.c's stream splitter and message classifier.
 *
 * The first byte chooses a chunk size; the rest is the stream.  The stream
 * is split twice, fed all at once and fed in chunks, and both runs must
 * yield the same values and end in the same state: chunking must never
 * change what a peer sees. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonrpc.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feeds 'data' in 'chunk'-byte pieces; appends every value to 'values'.
 * Returns the parser's final status (0 or a negative errno). */
static int
split(const uint8_t *data, size_t size, size_t chunk, json_t *values)
{
    struct jsonrpc_parser *p = jsonrpc_parser_create(4096);
    size_t ofs = 0;
    int r = 0;

    if (!p) {
        abort();
    }
    do {
        size_t n = size - ofs < chunk ? size - ofs : chunk;
        json_t *v;

        if (jsonrpc_parser_feed(p, data + ofs, n)) {
            abort();
        }
        ofs += n;
        while ((r = jsonrpc_parser_next(p, &v, NULL)) > 0) {
            struct jsonrpc_msg_view view;

            if (!v || (!json_is_object(v) && !json_is_array(v))) {
                abort();
            }
            jsonrpc_msg_parse(v, &view);
            if (view.type == JSONRPC_MSG_REQUEST
                && (!view.method || !json_is_array(view.params))) {
                abort();
            }
            json_array_append_new(values, v);
        }
        if (jsonrpc_parser_buffered(p) > size) {
            abort();
        }
    } while (ofs < size && r == 0);
    jsonrpc_parser_destroy(p);
    return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;
    json_t *whole, *chunked;
    size_t chunk;
    int r1, r2;

    if (!quiet) {
        log_set_spec("ANY:off");
        quiet = true;
    }
    if (size < 1) {
        return 0;
    }
    chunk = data[0] % 16 + 1;
    data++;
    size--;

    whole = json_array();
    chunked = json_array();
    r1 = split(data, size, size ? size : 1, whole);
    r2 = split(data, size, chunk, chunked);
    if (r1 != r2 || !json_equal(whole, chunked)) {
        abort();
    }
    json_decref(whole);
    json_decref(chunked);
    return 0;
}
