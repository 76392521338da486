/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proxy.c - walloff-console: one TCP listener, Noise_XX, roles, RFB filter
 *
 * One thread, one epoll set, non-blocking sockets everywhere. Each TCP
 * connection is a struct sess that goes through:
 *
 *   HANDSHAKE  Noise_XX as responder (messages 1 and 3 in, 2 out), bounded
 *              by --handshake-timeout; counted against --max-handshakes.
 *   OPEN       the client's static key was found in the keys file: HELLO
 *              sent (version, cell, role), then the --notice if there is
 *              one (control.c); the client may OPEN the screen
 *              channel (a fresh connection to QEMU's VNC socket) and the
 *              serial channel. Counted against --max-sessions.
 *
 * Data path: QEMU -> client bytes are read straight into the session's
 * output buffer behind the frame headers, encrypted in place and written
 * (one copy in, one copy out, no parsing: the screen is the viewer's
 * problem). Client -> QEMU frames are decrypted in place and, for the
 * screen, pass through the strict RFB filter (rfb.c), which drops input
 * for view sessions and the clipboard unless allowed, and ends the
 * session on anything malformed. Flow control is by interest masks: we
 * read from a side only while the buffer toward the other side has room
 * for one more full frame, so memory per session is bounded and a slow
 * peer slows its own session only. Buffers exist only while in use, so
 * idle sessions cost little.
 *
 * Limits before authentication: a per-source token bucket on new
 * connections, a cap on concurrent handshakes and the handshake timeout;
 * after it, the session cap and the idle timeout. Every refusal and every
 * session's open and close is an audit record; if an audit record cannot
 * be written the proxy stops (an unaudited console must not run). The
 * keys file is re-read on SIGHUP and when its inode, size or mtime
 * changes; sessions whose key disappeared or changed role are ended, and
 * a keys file that no longer parses ends all sessions (fail closed).
 *
 * Once the listener is up the proxy keeps, of the filesystem, read access
 * to the keys file's folder only (Landlock, common/landlock.c: the folder,
 * because the supervisor replaces the file by rename), then installs its
 * syscall allowlist. Connecting to QEMU's unix sockets is not a file
 * access Landlock controls, so the screen and serial channels still open.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "client.h"
#include "control.h"
#include "keys.h"
#include "landlock.h"
#include "noise.h"
#include "path.h"
#include "proxy.h"
#include "seccomp_policy.h"
#include "rfb.h"
#include "session.h"

/* Output toward the client: several full frames, so writes are large. */
#define OUT_CAP (4 * SESSION_FRAME_MAX)
/* Output toward QEMU: one decrypted frame plus one held RFB message. */
#define UP_CAP (2 * (SESSION_DATA_MAX + RFB_MSG_MAX))
/*
 * Hard limit of those buffers: flow control reads from the client only
 * below UP_CAP, but one read may complete the frame in progress and the
 * next one, up to one more full frame of data.
 */
#define UP_MAX (UP_CAP + SESSION_FRAME_MAX)
/* First allocation of a buffer: a HELLO, a CLOSE, a burst of keys. */
#define BUF_MIN 4096
/* Source-address buckets for the rate limiter (collisions only share). */
#define RATE_SLOTS 1024
/* How often timeouts and the keys file are checked. */
#define TICK_MS 250

enum ep_kind { EP_LISTEN, EP_SIGNAL, EP_CLIENT, EP_VNC, EP_SERIAL };

struct ep {
	enum ep_kind kind;
	struct sess *s;
	int fd;
	uint32_t mask; /* current epoll interest, 0: not added */
};

struct buf {
	uint8_t *p;
	size_t off, len, cap;
};

struct sess {
	struct sess *next, *prev;
	struct proxy *px;
	struct ep cli, vnc, ser;
	char src[INET6_ADDRSTRLEN + 8];
	bool authed, dying, gone;
	struct noise_handshake *hs;
	struct noise_cipher tx, rx;
	struct noise_frame_reader *fr;
	struct buf out, up, serout;
	struct rfb_filter *rfb;
	struct rfb_upstream ups;
	bool ups_done;
	struct key_entry key;
	char fpr[CONSOLE_FPR_LEN];
	uint64_t bytes_in, bytes_out, dropped_serial;
	struct timespec start, last;
};

struct rate_slot {
	uint8_t addr[16];
	double tokens;
	struct timespec t;
};

struct proxy {
	struct proxy_config *cfg;
	int epfd;
	struct ep lis, sig;
	struct sess *sessions;
	struct sess *graveyard; /* ended during this epoll batch */
	unsigned n_hs, n_open;
	unsigned audit_budget;	  /* refusal records left this second */
	unsigned long suppressed; /* refusals not recorded one by one */
	struct keys keys;
	bool keys_ok;
	/* initialised once: the state before message 1 is the same for all */
	struct noise_handshake hs_tmpl;
	struct stat keys_st;
	struct rate_slot *rate;
	uint8_t scratch[SESSION_FRAME_MAX];
	bool stop;
	int fatal;
};

static double since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void now(struct timespec *t)
{
	clock_gettime(CLOCK_MONOTONIC, t);
}

/* --- audit --------------------------------------------------------------- */

static void audit(struct proxy *px, const char *event, json_t *d)
{
	if (audit_log(px->cfg->audit, event, d)) {
		fprintf(stderr,
			"walloff-console: audit write failed: stopping\n");
		px->fatal = -EIO;
		px->stop = true;
	}
}

/*
 * A flood of refused connections must not become a flood of disk writes:
 * at most AUDIT_REFUSALS_PER_S records a second, the rest are counted and
 * summarised by tick().
 */
#define AUDIT_REFUSALS_PER_S 20

static void audit_refused(struct proxy *px, const char *src, const char *reason,
			  const char *fpr)
{
	json_t *d;

	if (!px->audit_budget) {
		px->suppressed++;
		return;
	}
	px->audit_budget--;
	d = json_pack("{s:s, s:s}", "source", src, "reason", reason);

	if (fpr)
		json_object_set_new(d, "fingerprint", json_string(fpr));
	audit(px, "console-refused", d);
}

/* --- buffers ------------------------------------------------------------- */

static size_t buf_room(const struct buf *b)
{
	return b->p ? b->cap - b->len : 0;
}

static size_t buf_pending(const struct buf *b)
{
	return b->p ? b->len - b->off : 0;
}

static void buf_compact(struct buf *b);

/*
 * Make room for @room more bytes at the tail, growing up to @max. Buffers
 * start small (control messages, keystrokes) and grow only for bulk data,
 * so a handshake or an idle session never maps large buffers.
 */
static int buf_reserve(struct buf *b, size_t room, size_t max)
{
	size_t cap;
	uint8_t *p;

	if (buf_room(b) >= room)
		return 0;
	/*
	 * Move what is pending to the front first: the new size below counts
	 * only pending bytes, so data left at an offset would overrun it.
	 */
	if (b->p && b->off) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (buf_room(b) >= room)
		return 0;
	cap = buf_pending(b) + room;
	if (cap > max)
		return -ENOBUFS;
	if (cap < BUF_MIN)
		cap = BUF_MIN;
	if (cap < b->cap * 2)
		cap = b->cap * 2 < max ? b->cap * 2 : max;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	if (!b->p)
		b->off = b->len = 0;
	b->p = p;
	b->cap = cap;
	return 0;
}

static void buf_compact(struct buf *b)
{
	if (b->off && b->off == b->len) {
		b->off = b->len = 0;
	} else if (b->off > b->cap / 2) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
}

/* Free an empty buffer: idle sessions hold no buffers. */
static void buf_trim(struct buf *b)
{
	if (b->p && b->off == b->len) {
		free(b->p);
		memset(b, 0, sizeof(*b));
	}
}

static bool buf_empty(const struct buf *b)
{
	return !b->p || b->off == b->len;
}

/* Write what we can; 0, or -errno for a dead peer. */
static int buf_flush(struct buf *b, int fd, uint64_t *count)
{
	ssize_t n;

	while (!buf_empty(b)) {
		n = send(fd, b->p + b->off, b->len - b->off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return errno ? -errno : -EPIPE;
		b->off += (size_t)n;
		if (count)
			*count += (uint64_t)n;
	}
	buf_compact(b);
	buf_trim(b);
	return 0;
}

/* --- epoll --------------------------------------------------------------- */

static void ep_set(struct proxy *px, struct ep *ep, uint32_t mask)
{
	struct epoll_event ev = {.events = mask, .data.ptr = ep};

	if (ep->fd < 0 || ep->mask == mask)
		return;
	if (!ep->mask)
		epoll_ctl(px->epfd, EPOLL_CTL_ADD, ep->fd, &ev);
	else if (!mask)
		epoll_ctl(px->epfd, EPOLL_CTL_DEL, ep->fd, NULL);
	else
		epoll_ctl(px->epfd, EPOLL_CTL_MOD, ep->fd, &ev);
	ep->mask = mask;
}

/*
 * close(2) also removes the descriptor from the epoll set (we never dup
 * one), so no EPOLL_CTL_DEL first: one syscall less per socket.
 */
static void ep_close(struct proxy *px, struct ep *ep)
{
	(void)px;
	if (ep->fd < 0)
		return;
	ep->mask = 0;
	close(ep->fd);
	ep->fd = -1;
}

/* Recompute interest from buffer state: this is the flow control. */
static void sess_update(struct sess *s)
{
	struct proxy *px = s->px;
	bool out_room = buf_pending(&s->out) + SESSION_FRAME_MAX <= OUT_CAP;
	bool up_room =
	    buf_pending(&s->up) + SESSION_DATA_MAX + RFB_MSG_MAX <= UP_CAP;
	bool ser_room = buf_pending(&s->serout) + SESSION_DATA_MAX <= UP_CAP;
	uint32_t m;

	m = (!s->dying && out_room && up_room && ser_room ? EPOLLIN : 0) |
	    (buf_empty(&s->out) ? 0 : EPOLLOUT);
	ep_set(px, &s->cli, m ? m : EPOLLERR);
	if (s->vnc.fd >= 0)
		ep_set(px, &s->vnc,
		       ((out_room && !s->dying) ? EPOLLIN : 0) |
			   (buf_empty(&s->up) || !s->ups_done ? 0 : EPOLLOUT) |
			   EPOLLRDHUP);
	if (s->ser.fd >= 0)
		ep_set(px, &s->ser,
		       ((out_room && !s->dying) ? EPOLLIN : 0) |
			   (buf_empty(&s->serout) ? 0 : EPOLLOUT) | EPOLLRDHUP);
}

/* --- sessions ------------------------------------------------------------ */

/*
 * Close a session's sockets and unlink it; the memory is released after
 * the current epoll batch (events of the batch may still point into it).
 */
static void sess_free(struct sess *s)
{
	struct proxy *px = s->px;

	ep_close(px, &s->cli);
	ep_close(px, &s->vnc);
	ep_close(px, &s->ser);
	if (s->prev)
		s->prev->next = s->next;
	else
		px->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	if (s->hs) {
		noise_handshake_wipe(s->hs);
		free(s->hs);
		px->n_hs--;
	}
	if (s->authed)
		px->n_open--;
	noise_cipher_wipe(&s->tx);
	noise_cipher_wipe(&s->rx);
	free(s->fr);
	free(s->out.p);
	free(s->up.p);
	free(s->serout.p);
	free(s->rfb);
	s->fr = NULL;
	s->rfb = NULL;
	memset(&s->out, 0, sizeof(s->out));
	memset(&s->up, 0, sizeof(s->up));
	memset(&s->serout, 0, sizeof(s->serout));
	s->gone = true;
	s->next = px->graveyard;
	px->graveyard = s;
}

static void graveyard_empty(struct proxy *px)
{
	struct sess *s;

	while ((s = px->graveyard)) {
		px->graveyard = s->next;
		sodium_memzero(s, sizeof(*s));
		free(s);
	}
}

/* Queue one message to the client; data already at buf + SESSION_DATA_OFF? */
static int sess_send(struct sess *s, uint8_t type, uint8_t ch, const void *data,
		     size_t len)
{
	uint8_t *frame;
	long r;

	r = buf_reserve(&s->out, SESSION_DATA_OFF + len + NOISE_TAG_LEN,
			OUT_CAP);
	if (r)
		return (int)r;
	frame = s->out.p + s->out.len;
	memcpy(frame + SESSION_DATA_OFF, data, len);
	r = session_seal(&s->tx, frame, type, ch, len, NULL);
	if (r < 0)
		return (int)r;
	s->out.len += (size_t)r;
	return 0;
}

static void sess_end(struct sess *s, const char *reason)
{
	struct proxy *px = s->px;
	struct timespec t;
	json_t *d;

	if (s->authed) {
		/* tell the client why, best effort, then close */
		if (!s->dying &&
		    !sess_send(s, SESSION_CLOSE, SESSION_CH_CONTROL, reason,
			       strlen(reason)))
			buf_flush(&s->out, s->cli.fd, &s->bytes_out);
		now(&t);
		d = json_pack(
		    "{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, "
		    "s:f}",
		    "key", s->key.name, "fingerprint", s->fpr, "role",
		    role_name(s->key.role), "source", s->src, "reason", reason,
		    "bytes_in", (json_int_t)s->bytes_in, "bytes_out",
		    (json_int_t)s->bytes_out, "dropped_key",
		    (json_int_t)(s->rfb ? s->rfb->dropped_key : 0),
		    "dropped_pointer",
		    (json_int_t)(s->rfb ? s->rfb->dropped_pointer : 0),
		    "dropped_clipboard",
		    (json_int_t)(s->rfb ? s->rfb->dropped_cut : 0),
		    "dropped_serial", (json_int_t)s->dropped_serial, "seconds",
		    since(&s->start, &t));
		audit(px, "console-session-close", d);
	} else {
		audit_refused(px, s->src, reason, s->fpr[0] ? s->fpr : NULL);
	}
	sess_free(s);
}

static bool rate_ok(struct proxy *px, const struct sockaddr_storage *ss)
{
	uint8_t addr[16] = {0};
	struct rate_slot *r;
	struct timespec t;
	uint32_t h;
	size_t i;

	if (ss->ss_family == AF_INET)
		memcpy(addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	else
		memcpy(addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	for (h = 2166136261u, i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	r = &px->rate[h % RATE_SLOTS];
	now(&t);
	if (memcmp(r->addr, addr, 16) || !r->t.tv_sec) {
		memcpy(r->addr, addr, 16);
		r->tokens = px->cfg->rate_burst;
	} else {
		r->tokens += since(&r->t, &t) * px->cfg->rate_per_s;
		if (r->tokens > px->cfg->rate_burst)
			r->tokens = px->cfg->rate_burst;
	}
	r->t = t;
	if (r->tokens < 1)
		return false;
	r->tokens -= 1;
	return true;
}

static void format_src(const struct sockaddr_storage *ss, char *out, size_t n)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port;

	/* accept4() filled *ss; clang 14's analyzer does not know that */
	/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
			  a, sizeof(a));
		port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
		snprintf(out, n, "%s:%u", a, port);
	} else {
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)ss)->sin6_addr, a,
			  sizeof(a));
		port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
		snprintf(out, n, "[%s]:%u", a, port);
	}
}

static void on_client_in(struct sess *s);

/*
 * One connection per readiness event, like nginx without multi_accept:
 * the listener is level-triggered, so epoll reports it again while more
 * wait, and a lone client costs no second accept4() that fails EAGAIN.
 */
static void on_accept(struct proxy *px)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct sess *s;
	char src[sizeof(s->src)];
	int fd;

	sl = sizeof(ss);
	fd = accept4(px->lis.fd, (struct sockaddr *)&ss, &sl,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	format_src(&ss, src, sizeof(src));
	if (!rate_ok(px, &ss)) {
		audit_refused(px, src, "rate limited", NULL);
		close(fd);
		return;
	}
	if (px->n_hs >= px->cfg->max_handshakes) {
		audit_refused(px, src, "too many handshakes", NULL);
		close(fd);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (s)
		s->hs = malloc(sizeof(*s->hs));
	if (s && s->hs)
		*s->hs = px->hs_tmpl;
	if (!s || !s->hs) {
		if (s)
			free(s->hs);
		free(s);
		close(fd);
		audit_refused(px, src, "out of memory", NULL);
		return;
	}
	px->n_hs++;
	s->px = px;
	memcpy(s->src, src, sizeof(src));
	s->cli = (struct ep){EP_CLIENT, s, fd, 0};
	s->vnc = (struct ep){EP_VNC, s, -1, 0};
	s->ser = (struct ep){EP_SERIAL, s, -1, 0};
	now(&s->start);
	s->last = s->start;
	s->next = px->sessions;
	if (s->next)
		s->next->prev = s;
	px->sessions = s;
	sess_update(s);
	/* the client sends message 1 right after connecting: it is often
	 * here already, which saves a trip through epoll_wait */
	on_client_in(s);
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    errno != EINPROGRESS) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* Authentication finished: look the key up, HELLO or refuse. */
static int sess_authenticate(struct sess *s)
{
	struct proxy *px = s->px;
	const struct key_entry *k;
	char hello[CONTROL_HELLO_MAX];
	const char *notice = px->cfg->notice;
	int n;

	console_fingerprint(s->fpr, s->hs->rs);
	k = px->keys_ok ? keys_find(&px->keys, s->hs->rs) : NULL;
	if (noise_split(s->hs, &s->tx, &s->rx, NULL))
		return -EPROTO;
	noise_handshake_wipe(s->hs);
	free(s->hs);
	s->hs = NULL;
	px->n_hs--;
	if (!k) {
		/* say so inside the tunnel, so the user sees a reason */
		if (!sess_send(s, SESSION_CLOSE, SESSION_CH_CONTROL,
			       "key not authorized", 18))
			buf_flush(&s->out, s->cli.fd, NULL);
		sess_end(s, "unknown key");
		return 1;
	}
	if (px->n_open >= px->cfg->max_sessions) {
		if (!sess_send(s, SESSION_CLOSE, SESSION_CH_CONTROL,
			       "too many sessions", 17))
			buf_flush(&s->out, s->cli.fd, NULL);
		sess_end(s, "too many sessions");
		return 1;
	}
	s->key = *k;
	s->authed = true;
	px->n_open++;
	audit(px, "console-session-open",
	      json_pack("{s:s, s:s, s:s, s:s}", "key", s->key.name,
			"fingerprint", s->fpr, "role", role_name(s->key.role),
			"source", s->src));
	n = control_hello_format(hello, sizeof(hello), SESSION_VERSION,
				 px->cfg->cell, role_name(s->key.role),
				 notice ? 1 : 0);
	if (n < 0)
		return n;
	n = sess_send(s, SESSION_HELLO, SESSION_CH_CONTROL, hello, (size_t)n);
	if (n || !notice)
		return n;
	/* announced in HELLO, so it comes right after it */
	return sess_send(s, SESSION_NOTICE, SESSION_CH_CONTROL, notice,
			 strlen(notice));
}

static int handshake_frame(struct sess *s, uint8_t *body, size_t blen)
{
	uint8_t *frame;
	long r;

	uint8_t payload[64]; /* handshake payloads are empty */

	r = noise_read_message(s->hs, body, blen, payload, sizeof(payload),
			       NULL);
	if (r < 0)
		return -EBADMSG;
	if (noise_handshake_done(s->hs))
		return sess_authenticate(s);
	/* message 2: e, encrypted s, tag of the empty payload */
	if (buf_reserve(&s->out,
			NOISE_FRAME_HDR + 2 * NOISE_DH_LEN + 2 * NOISE_TAG_LEN,
			OUT_CAP))
		return -ENOMEM;
	frame = s->out.p + s->out.len;
	r = noise_write_message(s->hs, NULL, 0, frame + NOISE_FRAME_HDR,
				NOISE_MAX_MSG, NULL);
	if (r < 0)
		return -EPROTO;
	frame[0] = (uint8_t)(r >> 8);
	frame[1] = (uint8_t)r;
	s->out.len += (size_t)r + NOISE_FRAME_HDR;
	return 0;
}

static int open_screen(struct sess *s)
{
	struct proxy *px = s->px;
	int fd;

	if (s->vnc.fd >= 0)
		return -EPROTO;
	fd = unix_connect(px->cfg->vnc_path);
	if (fd < 0) {
		sess_send(s, SESSION_CLOSE, SESSION_CH_SCREEN,
			  "screen unavailable", 18);
		return 0;
	}
	if (!s->rfb)
		s->rfb = malloc(sizeof(*s->rfb));
	if (!s->rfb) {
		close(fd);
		return -ENOMEM;
	}
	rfb_filter_init(s->rfb, s->key.role >= ROLE_OPERATE,
			s->key.role >= ROLE_OPERATE &&
			    px->cfg->clipboard_to_guest);
	memset(&s->ups, 0, sizeof(s->ups));
	s->ups_done = false;
	s->vnc = (struct ep){EP_VNC, s, fd, 0};
	return 0;
}

static int open_serial(struct sess *s)
{
	int fd;

	if (s->ser.fd >= 0)
		return -EPROTO;
	fd = s->px->cfg->serial_path ? unix_connect(s->px->cfg->serial_path)
				     : -ENOENT;
	if (fd < 0) {
		sess_send(s, SESSION_CLOSE, SESSION_CH_SERIAL,
			  "serial unavailable", 18);
		return 0;
	}
	s->ser = (struct ep){EP_SERIAL, s, fd, 0};
	return 0;
}

static int screen_data(struct sess *s, uint8_t *data, size_t len)
{
	uint8_t reply[RFB_REPLY_MAX];
	size_t uplen, replylen;
	int r;

	/* The client speaks only after our greeting, sent once QEMU is up. */
	if (!s->ups_done)
		return -EPROTO;
	if (buf_reserve(&s->up, len + RFB_MSG_MAX, UP_MAX))
		return -ENOBUFS;
	r = rfb_filter_feed(s->rfb, data, len, s->up.p + s->up.len,
			    buf_room(&s->up), &uplen, reply, &replylen, NULL);
	if (r)
		return r;
	s->up.len += uplen;
	if (replylen)
		return sess_send(s, SESSION_DATA, SESSION_CH_SCREEN, reply,
				 replylen);
	return 0;
}

static int serial_data(struct sess *s, uint8_t *data, size_t len)
{
	if (s->key.role < ROLE_OPERATE) {
		s->dropped_serial += len;
		return 0;
	}
	if (buf_reserve(&s->serout, len, UP_MAX))
		return -ENOBUFS;
	memcpy(s->serout.p + s->serout.len, data, len);
	s->serout.len += len;
	return 0;
}

static int session_frame(struct sess *s, uint8_t *body, size_t blen)
{
	uint8_t type, ch, *data;
	long n;

	n = session_open(&s->rx, body, blen, &type, &ch, &data, NULL);
	if (n < 0)
		return -EBADMSG;
	switch (type) {
	case SESSION_OPEN:
		if (n)
			return -EPROTO;
		if (ch == SESSION_CH_SCREEN)
			return open_screen(s);
		if (ch == SESSION_CH_SERIAL)
			return open_serial(s);
		return -EPROTO;
	case SESSION_DATA:
		if (ch == SESSION_CH_SCREEN && s->vnc.fd >= 0)
			return screen_data(s, data, (size_t)n);
		if (ch == SESSION_CH_SERIAL && s->ser.fd >= 0)
			return serial_data(s, data, (size_t)n);
		return -EPROTO;
	case SESSION_CLOSE:
		if (ch == SESSION_CH_CONTROL)
			return -ECONNRESET;
		if (ch == SESSION_CH_SCREEN)
			ep_close(s->px, &s->vnc);
		else if (ch == SESSION_CH_SERIAL)
			ep_close(s->px, &s->ser);
		else
			return -EPROTO;
		/* confirm: the client drops channel data until it sees this */
		return sess_send(s, SESSION_CLOSE, ch, "closed", 6);
	default:
		return -EPROTO;
	}
}

static const char *why(int r, bool authed)
{
	switch (r) {
	case -EBADMSG:
		return authed ? "decryption failed" : "handshake failed";
	case -ECONNRESET:
		return "client closed";
	case -EPROTO:
		return "protocol error";
	case -ENOMEM:
		return "out of memory";
	case 0:
		return authed ? "client disconnected"
			      : "client disconnected during handshake";
	default:
		return "connection error";
	}
}

/* Client readable: read, reassemble frames, dispatch. */
static void on_client_in(struct sess *s)
{
	struct proxy *px = s->px;
	uint8_t *in = px->scratch, *body;
	size_t used, off = 0, blen;
	ssize_t n;
	int r = 0;

	n = recv(s->cli.fd, in, SESSION_FRAME_MAX, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		sess_end(
		    s, why(n < 0 && errno != ECONNRESET ? -EIO : 0, s->authed));
		return;
	}
	s->bytes_in += (uint64_t)n;
	now(&s->last);
	if (!s->fr) {
		s->fr = malloc(sizeof(*s->fr));
		if (!s->fr) {
			sess_end(s, "out of memory");
			return;
		}
		noise_frame_reset(s->fr);
	}
	/* The scratch buffer is reused by dispatch: copy input out first. */
	while (off < (size_t)n) {
		r = noise_frame_feed(s->fr, in + off, (size_t)n - off, &used,
				     NULL);
		if (r < 0) {
			r = -EBADMSG;
			break;
		}
		off += used;
		if (!r)
			break;
		body = noise_frame_body(s->fr, &blen);
		if (s->hs) {
			/* handshake messages never use the scratch input */
			uint8_t tmp[NOISE_MAX_MSG];

			memcpy(tmp, body, blen);
			noise_frame_reset(s->fr);
			r = handshake_frame(s, tmp, blen);
			if (r == 1)
				return; /* session ended */
		} else {
			r = session_frame(s, body, blen);
			noise_frame_reset(s->fr);
		}
		if (r)
			break;
		/*
		 * A handshake message may have been followed by transport
		 * frames in the same read: they are still in @in, which the
		 * dispatch above did not touch (it used s->fr and tmp).
		 */
	}
	if (r < 0) {
		/* the client closed the session itself: no CLOSE back */
		if (r == -ECONNRESET)
			s->dying = true;
		sess_end(s, why(r, s->authed));
		return;
	}
	if (s->fr && !s->fr->len) {
		free(s->fr);
		s->fr = NULL;
	}
	/* write toward QEMU now: saves an epoll round trip per keystroke */
	if (s->vnc.fd >= 0 && s->ups_done && buf_flush(&s->up, s->vnc.fd, NULL))
		ep_close(px, &s->vnc);
	if (s->ser.fd >= 0 && buf_flush(&s->serout, s->ser.fd, NULL))
		ep_close(px, &s->ser);
	if (buf_flush(&s->out, s->cli.fd, &s->bytes_out)) {
		sess_end(s, "client write failed");
		return;
	}
	sess_update(s);
}

/* QEMU (VNC or serial) readable: encrypt straight into the out buffer. */
static void on_backend_in(struct sess *s, struct ep *ep)
{
	uint8_t ch = ep->kind == EP_VNC ? SESSION_CH_SCREEN : SESSION_CH_SERIAL;
	uint8_t *frame, *data;
	size_t used = 0, outlen;
	uint8_t hs_out[16];
	ssize_t n;
	long r;

	if (buf_reserve(&s->out, SESSION_FRAME_MAX, OUT_CAP))
		return; /* full: sess_update() stops reading this side */
	frame = s->out.p + s->out.len;
	data = frame + SESSION_DATA_OFF;
	n = read(ep->fd, data, SESSION_DATA_MAX);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		sess_send(s, SESSION_CLOSE, ch,
			  ch == SESSION_CH_SCREEN ? "screen closed"
						  : "serial closed",
			  13);
		ep_close(s->px, ep);
		goto flush;
	}
	if (ep->kind == EP_VNC && !s->ups_done) {
		int d = rfb_upstream_feed(&s->ups, data, (size_t)n, &used,
					  hs_out, &outlen, NULL);

		if (d < 0) {
			sess_send(s, SESSION_CLOSE, ch, "screen unavailable",
				  18);
			ep_close(s->px, ep);
			goto flush;
		}
		if (outlen &&
		    write(ep->fd, hs_out, outlen) != (ssize_t)outlen) {
			sess_end(s, "vnc write failed");
			return;
		}
		if (d == 1) {
			/* QEMU's first ServerInit bytes may follow */
			uint8_t *rest = NULL;
			size_t nrest = (size_t)n - used;

			s->ups_done = true;
			if (nrest) {
				rest = malloc(nrest);
				if (!rest) {
					sess_end(s, "out of memory");
					return;
				}
				memcpy(rest, data + used, nrest);
			}
			/* greet the viewer (this reuses @frame) */
			sess_send(s, SESSION_DATA, ch, rfb_server_version, 12);
			if (nrest)
				sess_send(s, SESSION_DATA, ch, rest, nrest);
			free(rest);
		}
		goto flush;
	}
	r = session_seal(&s->tx, frame, SESSION_DATA, ch, (size_t)n, NULL);
	if (r < 0) {
		sess_end(s, "encryption failed");
		return;
	}
	s->out.len += (size_t)r;
flush:
	if (buf_flush(&s->out, s->cli.fd, &s->bytes_out)) {
		sess_end(s, "client write failed");
		return;
	}
	sess_update(s);
}

static void on_event(struct proxy *px, struct ep *ep, uint32_t ev)
{
	struct sess *s = ep->s;
	int r;

	switch (ep->kind) {
	case EP_CLIENT:
		if (ev & EPOLLOUT) {
			if (buf_flush(&s->out, s->cli.fd, &s->bytes_out)) {
				sess_end(s, "client write failed");
				return;
			}
		}
		if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
			on_client_in(s);
			return;
		}
		sess_update(s);
		return;
	case EP_VNC:
	case EP_SERIAL:
		if (ev & EPOLLOUT) {
			struct buf *b =
			    ep->kind == EP_VNC ? &s->up : &s->serout;

			r = buf_flush(b, ep->fd, NULL);
			if (r) {
				ep_close(px, ep);
				sess_send(s, SESSION_CLOSE,
					  ep->kind == EP_VNC
					      ? SESSION_CH_SCREEN
					      : SESSION_CH_SERIAL,
					  "backend closed", 14);
			}
		}
		if (ep->fd >= 0 &&
		    (ev & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))) {
			on_backend_in(s, ep);
			return;
		}
		sess_update(s);
		return;
	default:
		return;
	}
}

/* --- keys ---------------------------------------------------------------- */

static void keys_reload(struct proxy *px, const char *why_)
{
	struct keys nk;
	struct err e = {0};
	struct sess *s, *next;
	const struct key_entry *k;

	stat(px->cfg->keys_path, &px->keys_st);
	if (keys_load(&nk, px->cfg->keys_path, &e)) {
		audit(px, "console-keys-error",
		      json_pack("{s:s, s:s}", "error", e.msg, "trigger", why_));
		fprintf(stderr, "walloff-console: %s (all sessions end)\n",
			e.msg);
		keys_free(&px->keys);
		px->keys_ok = false;
	} else {
		keys_free(&px->keys);
		px->keys = nk;
		px->keys_ok = true;
		audit(px, "console-keys-loaded",
		      json_pack("{s:i, s:s}", "keys", (int)nk.n, "trigger",
				why_));
	}
	for (s = px->sessions; s; s = next) {
		next = s->next;
		if (!s->authed)
			continue;
		k = px->keys_ok ? keys_find(&px->keys, s->key.pub) : NULL;
		if (!k)
			sess_end(s, "key removed");
		else if (k->role != s->key.role)
			sess_end(s, "role changed");
	}
}

static void keys_check(struct proxy *px)
{
	struct stat st;

	if (stat(px->cfg->keys_path, &st)) {
		if (px->keys_ok)
			keys_reload(px, "file changed");
		return;
	}
	if (st.st_ino != px->keys_st.st_ino ||
	    st.st_size != px->keys_st.st_size ||
	    st.st_mtim.tv_sec != px->keys_st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != px->keys_st.st_mtim.tv_nsec)
		keys_reload(px, "file changed");
}

/* --- timers and signals -------------------------------------------------- */

static void tick(struct proxy *px)
{
	struct sess *s, *next;
	struct timespec t;
	static time_t budget_second;

	now(&t);
	if (t.tv_sec != budget_second) {
		budget_second = t.tv_sec;
		px->audit_budget = AUDIT_REFUSALS_PER_S;
		if (px->suppressed) {
			audit(px, "console-refused-summary",
			      json_pack("{s:I}", "not_recorded",
					(json_int_t)px->suppressed));
			px->suppressed = 0;
		}
	}
	for (s = px->sessions; s; s = next) {
		next = s->next;
		if (!s->authed &&
		    since(&s->start, &t) > px->cfg->handshake_timeout_s)
			sess_end(s, "handshake timeout");
		else if (s->authed && px->cfg->idle_timeout_s &&
			 since(&s->last, &t) > px->cfg->idle_timeout_s)
			sess_end(s, "idle timeout");
	}
	keys_check(px);
}

static void on_signal(struct proxy *px)
{
	struct signalfd_siginfo si;

	while (read(px->sig.fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			keys_reload(px, "SIGHUP");
		else
			px->stop = true;
	}
}

static int listen_on(const char *spec, struct err *e)
{
	char host[256];
	const char *colon, *port;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV |
					     AI_PASSIVE};
	struct addrinfo *ai = NULL;
	int fd = -1, one = 1, r;
	size_t hl;

	if (spec[0] == '[') {
		colon = strstr(spec, "]:");
		if (!colon)
			return err_set(e, EINVAL,
				       "--listen %s: want [ADDR]:PORT", spec);
		hl = (size_t)(colon - spec - 1);
		port = colon + 2;
		spec++;
	} else {
		colon = strrchr(spec, ':');
		if (!colon)
			return err_set(e, EINVAL, "--listen %s: want ADDR:PORT",
				       spec);
		hl = (size_t)(colon - spec);
		port = colon + 1;
	}
	if (hl >= sizeof(host))
		return err_set(e, EINVAL, "--listen: address too long");
	memcpy(host, spec, hl);
	host[hl] = '\0';
	r = getaddrinfo(host, port, &hints, &ai);
	if (r || !ai)
		return err_set(e, EINVAL, "--listen %s: %s", host,
			       gai_strerror(r));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		r = err_set(e, errno, "socket: %s", strerror(errno));
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* accepted sockets inherit it (Linux): no setsockopt per client */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128)) {
		r = err_set(e, errno, "listen %s:%s: %s", host, port,
			    strerror(errno));
		close(fd);
		goto out;
	}
	r = fd;
out:
	freeaddrinfo(ai);
	return r;
}

/* Keep read access to the keys file's folder; nothing else. */
static int confine_fs(const char *keys_path,
		      char status[static LANDLOCK_STATUS_MAX], struct err *e)
{
	struct landlock_rule rule = { NULL, LANDLOCK_GRANT_READ };
	char dir[PATH_MAX];

	if (path_dirname(keys_path, dir, sizeof(dir)))
		return err_set(e, ENAMETOOLONG, "%s: too long", keys_path);
	rule.path = dir;
	return landlock_restrict(&rule, 1, status, e);
}

int proxy_run(struct proxy_config *cfg, struct err *e)
{
	struct proxy *px;
	struct epoll_event evs[64];
	struct timespec last_tick, t;
	char fpr[CONSOLE_FPR_LEN], landlock[LANDLOCK_STATUS_MAX];
	sigset_t mask;
	int n, i, r = 0;

	px = calloc(1, sizeof(*px));
	if (!px)
		return err_set(e, ENOMEM, "out of memory");
	px->cfg = cfg;
	px->epfd = -1;
	px->audit_budget = AUDIT_REFUSALS_PER_S;
	px->lis.fd = px->sig.fd = -1;
	px->rate = calloc(RATE_SLOTS, sizeof(*px->rate));
	if (!px->rate) {
		r = err_set(e, ENOMEM, "out of memory");
		goto out;
	}
	if (keys_load(&px->keys, cfg->keys_path, e)) {
		r = -e->code;
		goto out;
	}
	px->keys_ok = true;
	stat(cfg->keys_path, &px->keys_st);
	if (noise_handshake_init(&px->hs_tmpl, NOISE_XX, false,
				 (const uint8_t *)SESSION_PROLOGUE,
				 strlen(SESSION_PROLOGUE), cfg->priv, e)) {
		r = -e->code;
		goto out;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	px->sig =
	    (struct ep){EP_SIGNAL, NULL,
			signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC), 0};
	px->epfd = epoll_create1(EPOLL_CLOEXEC);
	r = listen_on(cfg->listen, e);
	if (r < 0)
		goto out;
	px->lis = (struct ep){EP_LISTEN, NULL, r, 0};
	if (px->epfd < 0 || px->sig.fd < 0) {
		r = err_set(e, errno, "epoll/signalfd: %s", strerror(errno));
		goto out;
	}
	ep_set(px, &px->lis, EPOLLIN);
	ep_set(px, &px->sig, EPOLLIN);

	r = confine_fs(cfg->keys_path, landlock, e);
	if (r)
		goto out;
	console_fingerprint(fpr, cfg->pub);
	audit(px, "console-listen",
	      json_pack("{s:s, s:s, s:i, s:s, s:s*, s:s, s:s}", "listen",
			cfg->listen, "server_fingerprint", fpr, "keys",
			(int)px->keys.n, "clipboard",
			cfg->clipboard_to_guest ? "to-guest" : "none",
			"notice", cfg->notice, "landlock", landlock,
			"seccomp", "SECCOMP_CONSOLE"));
	if (cfg->ready_fd >= 0) {
		if (write(cfg->ready_fd, "1", 1) != 1) {
			r = err_set(e, errno, "ready fd: %s", strerror(errno));
			goto out;
		}
		close(cfg->ready_fd);
		cfg->ready_fd = -1;
	}
	/* The listener is up: from here on we handle network bytes, so the
	 * process is confined to its syscall allowlist (common/). */
	r = seccomp_install(SECCOMP_CONSOLE, e);
	if (r)
		goto out;

	now(&last_tick);
	while (!px->stop) {
		n = epoll_wait(px->epfd, evs, 64, TICK_MS);
		if (n < 0 && errno != EINTR) {
			r = err_set(e, errno, "epoll_wait: %s",
				    strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			struct ep *ep = evs[i].data.ptr;

			if (ep->kind == EP_LISTEN) {
				on_accept(px);
			} else if (ep->kind == EP_SIGNAL) {
				on_signal(px);
			} else if (!ep->s->gone && ep->fd >= 0) {
				/* skip sessions ended earlier in this batch */
				on_event(px, ep, evs[i].events);
			}
		}
		graveyard_empty(px);
		now(&t);
		if (since(&last_tick, &t) * 1000 >= TICK_MS) {
			tick(px);
			last_tick = t;
		}
	}
	while (px->sessions)
		sess_end(px->sessions, "console stopping");
	graveyard_empty(px);
	if (px->fatal)
		r = err_set(e, -px->fatal, "audit log not writable");
out:
	if (px->lis.fd >= 0)
		close(px->lis.fd);
	if (px->sig.fd >= 0)
		close(px->sig.fd);
	if (px->epfd >= 0)
		close(px->epfd);
	keys_free(&px->keys);
	noise_handshake_wipe(&px->hs_tmpl);
	free(px->rate);
	free(px);
	return r;
}
