/* SHA-256 (FIPS 180-4), for the source hashes recorded with every result. */
#ifndef KG_SHA256_H
#define KG_SHA256_H

#include <stddef.h>

/* Writes the lowercase hex digest of data[0..len) into hex (65 bytes with
 * the NUL). */
void kg_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
