/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hex.h - lowercase hex encoding and strict decoding
 */
#ifndef WALLOFF_HEX_H
#define WALLOFF_HEX_H

#include <stddef.h>
#include <stdint.h>

/**
 * hex_encode() - write 2*@n lowercase hex digits and a NUL
 * @out:	output, at least 2*@n+1 bytes
 * @in:		bytes
 * @n:		number of bytes
 */
void hex_encode(char *out, const uint8_t *in, size_t n);

/**
 * hex_decode() - decode exactly @n bytes from 2*@n hex digits
 * @out:	output
 * @n:		number of bytes expected
 * @in:		NUL-terminated string of exactly 2*@n hex digits (any case)
 *
 * Return: 0, or -EINVAL for a wrong length or a non-hex character
 */
int hex_decode(uint8_t *out, size_t n, const char *in);

#endif /* WALLOFF_HEX_H */
