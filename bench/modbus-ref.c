/*
 * The C reference for modbus_rtt_us: a libmodbus TCP server answering holding-register reads
 * from a plain mapping, one client at a time. Built by `npm run bench` with
 *   gcc -O2 -o dist/bench/modbus-ref bench/modbus-ref.c $(pkg-config --cflags --libs libmodbus)
 * Usage: modbus-ref PORT (prints "listening" when ready).
 */
#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: modbus-ref PORT\n");
        return 2;
    }
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", atoi(argv[1]));
    modbus_mapping_t *mapping = modbus_mapping_new(0, 0, 8200, 0);
    if (ctx == NULL || mapping == NULL) return 1;
    int server = modbus_tcp_listen(ctx, 1);
    if (server == -1) return 1;
    printf("listening\n");
    fflush(stdout);
    for (;;) {
        if (modbus_tcp_accept(ctx, &server) == -1) return 1;
        for (;;) {
            uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
            int length = modbus_receive(ctx, query);
            if (length > 0) modbus_reply(ctx, query, length, mapping);
            else if (length == -1) break;
        }
        modbus_close(ctx);
    }
}
