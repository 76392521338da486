/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * accel.h - choosing KVM or TCG without ever hanging on a broken /dev/kvm
 */
#ifndef WALLOFF_ACCEL_H
#define WALLOFF_ACCEL_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "profile.h"

/* How long a KVM probe may take before we call KVM broken. */
#define ACCEL_PROBE_TIMEOUT_MS 1500

/**
 * accel_probe_kvm() - can this host run a KVM guest right now?
 * @timeout_ms:	give up (and kill the probe) after this long
 * @why:	output: a one-line reason when KVM is not usable
 * @len:	size of @why
 *
 * Return: true if /dev/kvm opened, reported API version 12 and created a VM
 */
bool accel_probe_kvm(int timeout_ms, char *why, size_t len);

/**
 * accel_resolve() - turn the profile's accel into kvm or tcg
 * @mode:	profile setting
 * @kvm:	output: true for KVM
 * @why:	output: reason for the choice, for the audit log
 * @len:	size of @why
 * @e:		error (accel = kvm but KVM unusable)
 *
 * Return: 0 or -errno
 */
int accel_resolve(enum accel_mode mode, bool *kvm, char *why, size_t len,
		  struct err *e);

#endif /* WALLOFF_ACCEL_H */
