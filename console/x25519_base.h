/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef WALLOFF_X25519_BASE_H
#define WALLOFF_X25519_BASE_H

#include <stdint.h>

/*
 * X25519 public key of @priv (clamped here, as X25519 does), equal to
 * crypto_scalarmult_base() but computed with libsodium's table-based
 * Ed25519 base multiplication and the birational map. 0, or -1 when the
 * result would be the identity (never for a clamped scalar).
 */
int x25519_base(uint8_t pub[static 32], const uint8_t priv[static 32]);

#endif
