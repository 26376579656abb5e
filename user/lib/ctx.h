/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Which node instance a command works on: where its BPF objects are pinned
 * and where its state lives. Several simulated nodes share one machine by
 * giving each its own pair (--pin-dir/--state-dir, BRIDGELESS_PIN_DIR/
 * BRIDGELESS_STATE_DIR).
 */
#ifndef BL_CTX_H
#define BL_CTX_H

#define PIN_DIR_DEFAULT "/sys/fs/bpf/bridgeless"
#define STATE_DIR_DEFAULT "/var/lib/bridgeless"

struct ctx {
	const char *pin_dir;
	const char *state_dir;
};

#endif
