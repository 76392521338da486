/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_noise.c - the Noise frame reader and handshake reader on hostile bytes
 *
 * The input is a byte stream as a client would send it to walloff-console:
 * length-prefixed frames. Each complete frame is given to a responder-side
 * XX handshake (message 1, then message 3 after we answer), and once the
 * handshake fails or finishes, to a transport cipher. Nothing may crash,
 * read out of bounds or loop; the input's first byte sets the chunk size
 * so that frames also arrive split at odd places. Then the same stream is
 * cut into frames in place (noise_frame_peek()), which must agree.
 */
#include <stdint.h>
#include <string.h>

#include "noise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct noise_frame_reader r;
	static uint8_t out[NOISE_MAX_MSG + NOISE_FRAME_HDR];
	static const uint8_t spriv[32] = {1, 2, 3};
	struct noise_handshake hs;
	struct noise_cipher rx = {.k = {9}, .has_key = true};
	size_t chunk, off = 0, used, blen, n;
	uint8_t *body;
	int rc;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] % 17 + 1;
	data++;
	size--;
	noise_frame_reset(&r);
	if (noise_handshake_init(&hs, NOISE_XX, false, NULL, 0, spriv, NULL))
		return 0;
	while (off < size) {
		n = size - off < chunk ? size - off : chunk;
		rc = noise_frame_feed(&r, data + off, n, &used, NULL);
		if (rc < 0)
			break;
		off += used;
		if (rc == 0)
			continue;
		body = noise_frame_body(&r, &blen);
		if (!hs.failed && !noise_handshake_done(&hs)) {
			if (noise_read_message(&hs, body, blen, out,
					       sizeof(out), NULL) >= 0 &&
			    noise_my_turn(&hs))
				noise_write_message(&hs, NULL, 0, out,
						    sizeof(out), NULL);
		} else if (noise_cipher_decrypt(&rx, NULL, 0, body, blen, out,
						NULL) < 0) {
			break;
		}
		noise_frame_reset(&r);
	}
	noise_handshake_wipe(&hs);
	/*
	 * The in-place reader (noise_frame_peek(), as the client uses it)
	 * must cut the same stream into the same frames as the copying
	 * reader, and stop at the same malformed header.
	 */
	off = 0;
	noise_frame_reset(&r);
	for (;;) {
		long f = noise_frame_peek(data + off, size - off, NULL);

		rc = noise_frame_feed(&r, data + off, size - off, &used, NULL);
		if (f < 0 || rc < 0) {
			if ((f < 0) != (rc < 0))
				__builtin_trap();
			break;
		}
		if ((f > 0) != (rc == 1) || (f > 0 && (size_t)f != used))
			__builtin_trap();
		if (!f)
			break;
		off += (size_t)f;
		noise_frame_reset(&r);
	}
	return 0;
}
