/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The peers file: Node objects (a NodeList or a bare array) as JSON. */
#ifndef BL_PEERS_FILE_H
#define BL_PEERS_FILE_H

#include <jansson.h>
#include "node/peer_routes.h"

/* Parse a peers file; errors name the file (and line for bad JSON). */
int peers_load(const char *path, struct peers *out);
/* The same from its parsed JSON (path names it in messages). */
int peers_from_json(json_t *root, const char *path, struct peers *out);

#endif
