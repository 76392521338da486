/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * reply.h - frames walloff-net builds itself and injects to the guest
 */
#ifndef WALLOFF_REPLY_H
#define WALLOFF_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/* Ethernet + IPv4 + TCP without options: what a RST needs. */
#define REPLY_RST_LEN (ETH_HLEN_ + 20 + 20)

/**
 * reply_tcp_rst() - build the RST that answers a denied TCP segment
 * @f:		parsed segment from the guest (must be TCP, not itself RST)
 * @out:	output, at least REPLY_RST_LEN bytes
 * @cap:	size of @out
 *
 * To a SYN (no ACK) the answer is RST|ACK acknowledging the SYN, as a
 * closed port would send; to anything carrying an ACK it is a RST with
 * the sequence number the guest expects (RFC 793 "reset generation").
 *
 * Return: frame length, or 0 if no RST should be sent or @cap is too small
 */
size_t reply_tcp_rst(const struct frame *f, uint8_t *out, size_t cap);

/**
 * reply_udp() - build a UDP datagram answering a guest datagram
 * @f:		parsed datagram from the guest (the reply swaps its tuple)
 * @payload:	reply payload
 * @plen:	payload length
 * @out:	output
 * @cap:	size of @out
 *
 * Return: frame length, or 0 if @cap is too small
 */
size_t reply_udp(const struct frame *f, const uint8_t *payload, size_t plen,
		 uint8_t *out, size_t cap);

#endif /* WALLOFF_REPLY_H */
