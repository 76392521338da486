/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_sysd.c - common/sdnotify.c and common/journal.c: NOTIFY_SOCKET
 * values (good, hostile, too long), real datagrams on sockets bound here,
 * journal field encoding with hostile names and values, and the audit
 * writer's copy to a fake journal (including a journal that is gone).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "audit.h"
#include "journal.h"
#include "sdnotify.h"

/* --- helpers ---------------------------------------------------------- */

/* A datagram socket bound to a fresh abstract name; returns the '@' form. */
static int bind_abstract(char name[static 64])
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	size_t n;

	assert_true(fd >= 0);
	snprintf(name, 64, "@walloff-test-%d-%ld", (int)getpid(), random());
	n = strlen(name);
	memcpy(sa.sun_path, name, n);
	sa.sun_path[0] = '\0';
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)),
			 0);
	return fd;
}

static ssize_t recv_nb(int fd, char *buf, size_t len)
{
	return recv(fd, buf, len, MSG_DONTWAIT);
}

struct field {
	char name[JOURNAL_NAME_MAX + 1];
	const char *val;
	size_t len;
};

/* Decode a native-protocol entry; fails the test on any malformed byte. */
static size_t decode(const char *buf, size_t len, struct field *f, size_t max)
{
	size_t pos = 0, n = 0, i;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		const char *eq = memchr(buf + pos, '=', len - pos);
		size_t nlen;

		assert_non_null(nl);
		assert_true(n < max);
		if (eq && eq < nl) {
			nlen = (size_t)(eq - (buf + pos));
			f[n].val = eq + 1;
			f[n].len = (size_t)(nl - eq - 1);
			memcpy(f[n].name, buf + pos, nlen);
			pos = (size_t)(nl - buf) + 1;
		} else {
			uint64_t vl = 0;

			nlen = (size_t)(nl - (buf + pos));
			assert_true((size_t)(nl - buf) + 9 <= len);
			for (i = 0; i < 8; i++)
				vl |= (uint64_t)(uint8_t)nl[1 + i] << (8 * i);
			f[n].val = nl + 9;
			f[n].len = (size_t)vl;
			memcpy(f[n].name, buf + pos, nlen);
			pos = (size_t)(nl - buf) + 9 + vl;
			assert_true(pos < len);
			assert_int_equal(buf[pos], '\n');
			pos++;
		}
		assert_true(nlen >= 1 && nlen <= JOURNAL_NAME_MAX);
		f[n].name[nlen] = '\0';
		/* journald's rules: [A-Z0-9_], no leading '_' or digit */
		assert_false(f[n].name[0] == '_' ||
			     (f[n].name[0] >= '0' && f[n].name[0] <= '9'));
		for (i = 0; i < nlen; i++)
			assert_true((f[n].name[i] >= 'A' && f[n].name[i] <= 'Z') ||
				    (f[n].name[i] >= '0' && f[n].name[i] <= '9') ||
				    f[n].name[i] == '_');
		n++;
	}
	assert_int_equal(pos, len);
	return n;
}

static const struct field *find(const struct field *f, size_t n,
				const char *name, int *count)
{
	const struct field *hit = NULL;
	size_t i;

	*count = 0;
	for (i = 0; i < n; i++) {
		if (!strcmp(f[i].name, name)) {
			hit = hit ? hit : &f[i];
			(*count)++;
		}
	}
	return hit;
}

static void assert_field(const struct field *f, size_t n, const char *name,
			 const char *want)
{
	const struct field *x;
	int c;

	x = find(f, n, name, &c);
	assert_non_null(x);
	assert_int_equal(c, 1);
	assert_int_equal(x->len, strlen(want));
	assert_memory_equal(x->val, want, x->len);
}

/* --- sdnotify --------------------------------------------------------- */

static void test_notify_parse(void **state)
{
	struct sockaddr_un sa;
	char v[200];
	socklen_t len;

	assert_int_equal(sdnotify_parse("/run/systemd/notify", &sa, &len, NULL), 0);
	assert_string_equal(sa.sun_path, "/run/systemd/notify");
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 20);

	assert_int_equal(sdnotify_parse("@abc", &sa, &len, NULL), 0);
	assert_int_equal(sa.sun_path[0], '\0');
	assert_memory_equal(sa.sun_path + 1, "abc", 3);
	/* abstract: no terminator, the length says where the name ends */
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 4);

	/* longest path that fits: 107 bytes and its NUL */
	memset(v, 'a', sizeof(v));
	v[0] = '/';
	v[sizeof(sa.sun_path) - 1] = '\0';
	assert_int_equal(sdnotify_parse(v, &sa, &len, NULL), 0);
	v[sizeof(sa.sun_path) - 1] = 'a';
	v[sizeof(sa.sun_path)] = '\0';
	assert_int_equal(sdnotify_parse(v, &sa, &len, NULL), -ENAMETOOLONG);
	v[0] = '@';
	assert_int_equal(sdnotify_parse(v, &sa, &len, NULL), -ENAMETOOLONG);
	v[199] = '\0';
	memset(v + 1, 'b', 198);
	assert_int_equal(sdnotify_parse(v, &sa, &len, NULL), -ENAMETOOLONG);
}

static void test_notify_parse_hostile(void **state)
{
	static const char *const bad[] = {
		"", "@", "relative/path", "notify", "vsock:2:1234",
		" /run/x", "./notify", "~/x",
	};
	struct sockaddr_un sa;
	socklen_t len;
	struct err e;
	size_t i;

	assert_int_equal(sdnotify_parse(NULL, &sa, &len, NULL), -EINVAL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		assert_int_equal(sdnotify_parse(bad[i], &sa, &len, &e), -EINVAL);
		assert_true(e.msg[0] != '\0');
	}
}

static void test_notify_send(void **state)
{
	char name[64], buf[SDNOTIFY_MSG_MAX * 2];
	struct sdnotify n;
	ssize_t r;
	int rx;

	/* unset: nothing to do, and sending is a no-op */
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sdnotify_open(&n, NULL), 0);
	assert_int_equal(n.fd, -1);
	assert_int_equal(sdnotify_send(&n, "READY=1"), 0);

	/* bad value: refused, and removed from the environment anyway */
	setenv("NOTIFY_SOCKET", "relative", 1);
	assert_int_equal(sdnotify_open(&n, NULL), -EINVAL);
	assert_int_equal(n.fd, -1);
	assert_null(getenv("NOTIFY_SOCKET"));

	rx = bind_abstract(name);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(sdnotify_open(&n, NULL), 0);
	assert_true(n.fd >= 0);
	assert_null(getenv("NOTIFY_SOCKET"));	/* children never see it */
	assert_true(fcntl(n.fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(sdnotify_send(&n, "READY=1\nSTATUS=running"), 0);
	r = recv_nb(rx, buf, sizeof(buf));
	assert_int_equal(r, 22);
	assert_memory_equal(buf, "READY=1\nSTATUS=running", 22);

	memset(buf, 'x', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	assert_int_equal(sdnotify_send(&n, buf), -EMSGSIZE);
	assert_true(recv_nb(rx, buf, sizeof(buf)) < 0);

	/* the manager went away: an error, never a hang */
	close(rx);
	assert_true(sdnotify_send(&n, "STOPPING=1") < 0);
	sdnotify_close(&n);
	assert_int_equal(n.fd, -1);
}

/* --- journal encoding ------------------------------------------------- */

static void test_journal_names(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "qemu_pid", "QEMU_PID" },
		{ "server-key", "SERVER_KEY" },
		{ "a=b", "A_B" },
		{ "a\nb", "A_B" },
		{ "_PID", "F_PID" },
		{ "__realtime", "F__REALTIME" },
		{ "9lives", "F9LIVES" },
		{ "=", "F_" },
		{ "\xc3\xbc", "F__" },
		{ "message", "DETAIL_MESSAGE" },
		{ "PRIORITY", "DETAIL_PRIORITY" },
		{ "cell", "DETAIL_CELL" },
		{ "event", "DETAIL_EVENT" },
		{ "syslog_identifier", "DETAIL_SYSLOG_IDENTIFIER" },
		{ "messages", "MESSAGES" },
	};
	char out[JOURNAL_NAME_MAX + 1], longkey[300];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(journal_field_name(cases[i].in, out),
				 strlen(cases[i].out));
		assert_string_equal(out, cases[i].out);
	}
	assert_int_equal(journal_field_name("", out), 0);
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	assert_int_equal(journal_field_name(longkey, out), JOURNAL_NAME_MAX);
	longkey[0] = '_';
	assert_int_equal(journal_field_name(longkey, out), JOURNAL_NAME_MAX);
	assert_int_equal(out[0], 'F');
}

static void test_journal_field_forms(void **state)
{
	char buf[64];
	size_t len = 0;

	assert_int_equal(journal_field(buf, sizeof(buf), &len, "A", "x=y", 3), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(buf, "A=x=y\n", 6);

	/* newline: binary-safe form, length little-endian */
	assert_int_equal(journal_field(buf, sizeof(buf), &len, "B", "1\n2", 3), 0);
	assert_int_equal(len, 6 + 2 + 8 + 3 + 1);
	assert_memory_equal(buf + 6, "B\n\x03\0\0\0\0\0\0\0" "1\n2\n", 2 + 8 + 4);

	/* NUL inside: binary form too */
	len = 0;
	assert_int_equal(journal_field(buf, sizeof(buf), &len, "C", "a\0b", 3), 0);
	assert_memory_equal(buf, "C\n\x03\0\0\0\0\0\0\0" "a\0b\n", 2 + 8 + 4);

	/* does not fit: nothing appended */
	len = 50;
	assert_int_equal(journal_field(buf, sizeof(buf), &len, "D",
				       "0123456789abcdef", 16), -ENOSPC);
	assert_int_equal(len, 50);
	len = 70;	/* a corrupt length never writes out of bounds */
	assert_int_equal(journal_field(buf, sizeof(buf), &len, "E", "", 0),
			 -ENOSPC);
}

static void test_journal_priority(void **state)
{
	assert_int_equal(journal_priority("verify-error"), 3);
	assert_int_equal(journal_priority("net-died"), 3);
	assert_int_equal(journal_priority("qemu-killed"), 3);
	assert_int_equal(journal_priority("image-refused"), 4);
	assert_int_equal(journal_priority("net-deny"), 4);
	assert_int_equal(journal_priority("stop-timeout"), 4);
	assert_int_equal(journal_priority("running"), 5);
	assert_int_equal(journal_priority("stopped"), 5);
	assert_int_equal(journal_priority("limits"), 6);
	assert_int_equal(journal_priority("qmp-event"), 6);
}

static void test_journal_entry_hostile(void **state)
{
	char *buf = malloc(JOURNAL_ENTRY_MAX);
	struct field f[64];
	const struct field *x;
	json_t *d;
	long n;
	size_t nf;
	int c;

	d = json_pack("{s:s, s:s, s:b, s:i, s:f, s:{s:i}, s:[i], s:n, s:s, s:s, s:s}",
		      "message", "evil\nPRIORITY=0\nMESSAGE=spoofed",
		      "priority", "0", "ok", 1, "qemu_pid", 4242, "ratio", 0.5,
		      "nested", "x", 1, "list", 2, "nothing", "_PID", "1",
		      "a=b", "c=d", "host", "line1\nline2");
	assert_non_null(d);
	assert_non_null(buf);
	n = journal_entry(buf, JOURNAL_ENTRY_MAX, "xp-acct", "verify", d);
	assert_true(n > 0 && n <= JOURNAL_ENTRY_MAX);
	nf = decode(buf, (size_t)n, f, 64);

	assert_field(f, nf, "SYSLOG_IDENTIFIER", "walloff");
	assert_field(f, nf, "CELL", "xp-acct");
	assert_field(f, nf, "EVENT", "verify");
	assert_field(f, nf, "PRIORITY", "6");
	x = find(f, nf, "MESSAGE", &c);
	assert_int_equal(c, 1);	/* the spoofed MESSAGE is only a value */
	assert_true(x->len > 7 && !memcmp(x->val, "verify {", 8));
	assert_null(memchr(x->val, '\n', x->len));
	assert_field(f, nf, "DETAIL_MESSAGE", "evil\nPRIORITY=0\nMESSAGE=spoofed");
	assert_field(f, nf, "DETAIL_PRIORITY", "0");
	assert_field(f, nf, "OK", "true");
	assert_field(f, nf, "QEMU_PID", "4242");
	assert_field(f, nf, "RATIO", "0.5");
	assert_field(f, nf, "F_PID", "1");
	assert_field(f, nf, "A_B", "c=d");
	assert_field(f, nf, "HOST", "line1\nline2");
	assert_null(find(f, nf, "NESTED", &c));
	assert_null(find(f, nf, "LIST", &c));
	assert_null(find(f, nf, "NOTHING", &c));
	json_decref(d);

	/* no details at all */
	n = journal_entry(buf, JOURNAL_ENTRY_MAX, "c", "start", NULL);
	nf = decode(buf, (size_t)n, f, 64);
	assert_int_equal(nf, 5);
	assert_field(f, nf, "MESSAGE", "start");
	assert_field(f, nf, "PRIORITY", "5");
	free(buf);
}

static void test_journal_entry_long(void **state)
{
	char *buf = malloc(JOURNAL_ENTRY_MAX), *big = malloc(100000);
	struct field f[16];
	const struct field *x;
	json_t *d;
	size_t nf;
	long n;
	int c;

	assert_non_null(buf);
	assert_non_null(big);
	memset(big, 'y', 99999);
	big[99999] = '\0';
	big[500] = '\n';
	d = json_pack("{s:s, s:i}", "blob", big, "small", 7);
	n = journal_entry(buf, JOURNAL_ENTRY_MAX, "c", "qmp-event", d);
	assert_true(n > 0 && n <= JOURNAL_ENTRY_MAX);
	nf = decode(buf, (size_t)n, f, 16);
	assert_field(f, nf, "EVENT", "qmp-event");
	assert_field(f, nf, "SMALL", "7");
	assert_null(find(f, nf, "BLOB", &c));	/* too big: left out */
	x = find(f, nf, "MESSAGE", &c);
	assert_int_equal(c, 1);	/* cut, but there */
	assert_true(x->len > 1000 && x->len < JOURNAL_ENTRY_MAX);

	/* a buffer too small for the fixed fields is refused, not overrun */
	assert_int_equal(journal_entry(buf, 100, "c", "start", d), -ENOSPC);
	json_decref(d);
	free(big);
	free(buf);
}

/* --- the audit writer's copy ------------------------------------------ */

static void test_audit_to_journal(void **state)
{
	char path[] = "/tmp/walloff-test-jaudit-XXXXXX";
	char name[64], *buf = malloc(JOURNAL_ENTRY_MAX);
	char line[AUDIT_RECORD_MAX];
	struct field f[32];
	struct audit *a;
	size_t nf;
	ssize_t r;
	FILE *fp;
	int fd, rx, lines = 0;

	assert_non_null(buf);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);

	rx = bind_abstract(name);
	setenv("WALLOFF_JOURNAL_SOCKET", name, 1);
	a = audit_open(path, "jcell", NULL);
	assert_non_null(a);
	assert_int_equal(audit_logf(a, "net-deny", "{s:s, s:i, s:s}", "proto",
				    "tcp", "port", 445, "why", "a\nb"), 0);
	r = recv_nb(rx, buf, JOURNAL_ENTRY_MAX);
	assert_true(r > 0);
	nf = decode(buf, (size_t)r, f, 32);
	assert_field(f, nf, "CELL", "jcell");
	assert_field(f, nf, "EVENT", "net-deny");
	assert_field(f, nf, "PRIORITY", "4");
	assert_field(f, nf, "PROTO", "tcp");
	assert_field(f, nf, "PORT", "445");
	assert_field(f, nf, "WHY", "a\nb");

	/* journald gone: the audit write still succeeds */
	close(rx);
	assert_int_equal(audit_logf(a, "running", "{s:i}", "qemu_pid", 1), 0);
	audit_close(a);

	/* WALLOFF_JOURNAL_SOCKET="" turns the copy off; a bad value is no
	 * reason to refuse the audit log either */
	setenv("WALLOFF_JOURNAL_SOCKET", "", 1);
	a = audit_open(path, "jcell", NULL);
	assert_non_null(a);
	assert_int_equal(audit_logf(a, "stopped", NULL), -EINVAL);
	assert_int_equal(audit_log(a, "stopped", NULL), 0);
	audit_close(a);
	setenv("WALLOFF_JOURNAL_SOCKET", "not-absolute", 1);
	a = audit_open(path, "jcell", NULL);
	assert_non_null(a);
	assert_int_equal(audit_log(a, "stopped", NULL), 0);
	audit_close(a);
	unsetenv("WALLOFF_JOURNAL_SOCKET");

	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp))
		lines++;
	fclose(fp);
	assert_int_equal(lines, 4);	/* the file has every record */
	unlink(path);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify_parse),
		cmocka_unit_test(test_notify_parse_hostile),
		cmocka_unit_test(test_notify_send),
		cmocka_unit_test(test_journal_names),
		cmocka_unit_test(test_journal_field_forms),
		cmocka_unit_test(test_journal_priority),
		cmocka_unit_test(test_journal_entry_hostile),
		cmocka_unit_test(test_journal_entry_long),
		cmocka_unit_test(test_audit_to_journal),
	};

	srandom((unsigned)getpid());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
