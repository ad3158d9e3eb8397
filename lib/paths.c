/*
 * paths.c - locate the share directory (see paths.h).
 */
#include "paths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#ifndef SMEARSEG_PREFIX
#define SMEARSEG_PREFIX "/usr/local"
#endif

static int
has_table(const char *dir)
{
	char p[PATH_MAX];

	if ((size_t)snprintf(p, sizeof p, "%s/classes.yaml", dir) >= sizeof p)
		return 0;
	return access(p, R_OK) == 0;
}

const char *
exe_dir(void)
{
	static char exe[PATH_MAX];
	static int done;
	char *slash;
	ssize_t n;

	if (!done) {
		done = 1;
		n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		if (n <= 0 || (exe[n] = '\0', slash = strrchr(exe, '/')) ==
		    NULL)
			exe[0] = '\0';
		else
			*slash = '\0';
	}
	return exe[0] != '\0' ? exe : NULL;
}

/* The share directory, or NULL if none is found (see paths.h). */
static const char *
find_share(void)
{
	static char dir[PATH_MAX + 32];
	static const char *const rel[] = { "../share/smearseg", "../share" };
	const char *env, *exe;
	size_t i;

	if (dir[0] != '\0')
		return dir;
	if ((env = getenv("SMEARSEG_SHARE")) != NULL && *env != '\0') {
		if (!has_table(env))
			die("SMEARSEG_SHARE=%s: no classes.yaml there", env);
		snprintf(dir, sizeof dir, "%s", env);
		return dir;
	}
	if ((exe = exe_dir()) != NULL) {
		for (i = 0; i < sizeof rel / sizeof rel[0]; i++) {
			snprintf(dir, sizeof dir, "%s/%s", exe, rel[i]);
			if (has_table(dir))
				return dir;
		}
	}
	snprintf(dir, sizeof dir, "%s/share/smearseg", SMEARSEG_PREFIX);
	if (!has_table(dir)) {
		dir[0] = '\0';
		return NULL;
	}
	return dir;
}

const char *
share_dir(void)
{
	const char *d = find_share();

	if (d == NULL)
		die("cannot find the share directory (classes.yaml); "
		    "set SMEARSEG_SHARE");
	return d;
}

const char *
share_resolve(const char *path)
{
	const char *d;
	char *p;

	if (path == NULL || strchr(path, '/') != NULL ||
	    strcmp(path, "-") == 0 || access(path, F_OK) == 0 ||
	    (d = find_share()) == NULL)
		return path;
	p = share_path(path);
	if (access(p, F_OK) == 0)
		return p;
	free(p);
	return path;
}

char *
share_path(const char *rel)
{
	const char *d = share_dir();
	size_t n = strlen(d) + strlen(rel) + 2;
	char *p = xmalloc(n);

	snprintf(p, n, "%s/%s", d, rel);
	return p;
}
