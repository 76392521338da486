/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * driver.c - run a libFuzzer-style target without libFuzzer
 *
 * With gcc (the default build) every fuzz target is linked with this driver
 * and run as a test over its checked-in corpus: every seed and every crash
 * ever found is replayed, under ASan/UBSan in the sanitizer build. Arguments
 * are files or folders; folders are read one level deep. With
 * "--mutate SECONDS", each input is also mutated at random (bit flips,
 * truncation, byte repeats) for the given time, a poor man's fuzzer that
 * still catches shallow bugs when clang's libFuzzer is not used.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Corpus files larger than this are not seeds but mistakes. */
#define FUZZ_MAX_INPUT (1 << 20)

static unsigned long runs;

static int run_file(const char *path, double mutate_s)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf, *m;
	size_t n;
	struct timespec t0, t;

	if (!f) {
		perror(path);
		return -1;
	}
	buf = malloc(FUZZ_MAX_INPUT);
	if (!buf) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, FUZZ_MAX_INPUT, f);
	fclose(f);
	/* Exact-size copy so ASan sees reads past the end. */
	m = malloc(n ? n : 1);
	memcpy(m, buf, n);
	LLVMFuzzerTestOneInput(m, n);
	free(m);
	runs++;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (mutate_s > 0) {
		size_t len = n, i, k;

		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((double)(t.tv_sec - t0.tv_sec) +
			    (double)(t.tv_nsec - t0.tv_nsec) / 1e9 > mutate_s)
			break;
		if (len && rand() % 4 == 0)
			len = (size_t)rand() % len;
		m = malloc(len ? len : 1);
		memcpy(m, buf, len);
		for (k = (size_t)rand() % 8; len && k; k--) {
			i = (size_t)rand() % len;
			switch (rand() % 3) {
			case 0: m[i] ^= (uint8_t)(1u << (rand() % 8)); break;
			case 1: m[i] = (uint8_t)rand(); break;
			default: m[i] = m[(size_t)rand() % len]; break;
			}
		}
		LLVMFuzzerTestOneInput(m, len);
		free(m);
		runs++;
	}
	free(buf);
	return 0;
}

int main(int argc, char *argv[])
{
	double mutate_s = 0;
	int i, files = 0;

	srand(1);
	for (i = 1; i < argc; i++) {
		struct stat st;

		if (!strcmp(argv[i], "--mutate") && i + 1 < argc) {
			mutate_s = atof(argv[++i]);
			continue;
		}
		if (stat(argv[i], &st)) {
			perror(argv[i]);
			return 1;
		}
		if (S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *de;
			char p[4096];

			while (d && (de = readdir(d))) {
				if (de->d_name[0] == '.')
					continue;
				snprintf(p, sizeof(p), "%s/%s", argv[i], de->d_name);
				if (run_file(p, mutate_s))
					return 1;
				files++;
			}
			if (d)
				closedir(d);
		} else {
			if (run_file(argv[i], mutate_s))
				return 1;
			files++;
		}
	}
	if (!files) {
		fprintf(stderr, "fuzz driver: empty corpus\n");
		return 1;
	}
	printf("fuzz driver: %d corpus files, %lu runs, no crash\n", files, runs);
	return 0;
}
