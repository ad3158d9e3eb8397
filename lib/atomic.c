/*
 * atomic.c - temporary file + rename (see atomic.h).
 *
 * Open atomic files are kept in a list so that the die hook can unlink
 * their temporaries: die() may be called from anywhere in a writer (a bad
 * value found half-way, a full disk), and it must not leave ".x.tmpXXXXXX"
 * files behind.
 */
#include "atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static struct atomic_file *open_files;

static void
atomic_cleanup(void)
{
	struct atomic_file *af;

	for (af = open_files; af != NULL; af = af->next)
		unlink(af->tmp);
	open_files = NULL;
}

static void
atomic_unlist(struct atomic_file *af)
{
	struct atomic_file **pp;

	for (pp = &open_files; *pp != NULL; pp = &(*pp)->next)
		if (*pp == af) {
			*pp = af->next;
			break;
		}
	af->next = NULL;
}

FILE *
atomic_open(struct atomic_file *af, const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	mode_t mask;
	int fd;

	if (*base == '\0')
		die("%s: not a file name", path);
	af->path = xstrdup(path);
	af->tmp = xmalloc(dirlen + strlen(base) + sizeof ".tmpXXXXXX" + 1);
	memcpy(af->tmp, path, dirlen);
	sprintf(af->tmp + dirlen, ".%s.tmpXXXXXX", base);
	fd = mkstemp(af->tmp);
	if (fd < 0)
		die("%s: cannot create a temporary file:", path);
	af->next = open_files;
	open_files = af;
	set_die_hook(atomic_cleanup);

	/* mkstemp gives 0600; a model or dataset should get the usual
	 * permissions, as if fopen had created it. */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) != 0)
		die("%s: chmod:", af->tmp);
	af->f = fdopen(fd, "wb");
	if (af->f == NULL)
		die("%s:", af->tmp);
	return af->f;
}

/* fsync the directory holding PATH so that the rename itself is durable.
 * File systems that cannot sync a directory say EINVAL; that is not an
 * error worth failing a write for. */
static void
sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (slash == NULL)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else {
		dir = xstrdup(path);
		dir[slash - path] = '\0';
	}
	fd = open(dir, O_RDONLY);
	if (fd < 0)
		die("%s: cannot open the directory %s to sync it:", path, dir);
	if (fsync(fd) != 0 && errno != EINVAL)
		die("%s: cannot sync the directory %s:", path, dir);
	close(fd);
	free(dir);
}

void
atomic_commit(struct atomic_file *af)
{
	int err = ferror(af->f);

	if (fflush(af->f) != 0 || err)
		die("%s: write error:", af->path);
	if (fsync(fileno(af->f)) != 0)
		die("%s: fsync:", af->path);
	if (fclose(af->f) != 0) {
		af->f = NULL;
		die("%s: close failed:", af->path);
	}
	af->f = NULL;
	if (rename(af->tmp, af->path) != 0)
		die("%s: cannot rename %s into place:", af->path, af->tmp);
	atomic_unlist(af);
	if (open_files == NULL)
		set_die_hook(NULL);
	sync_dir(af->path);
	free(af->tmp);
	free(af->path);
	af->tmp = af->path = NULL;
}

void
atomic_abort(struct atomic_file *af)
{
	if (af->f != NULL)
		fclose(af->f);
	af->f = NULL;
	unlink(af->tmp);
	atomic_unlist(af);
	if (open_files == NULL)
		set_die_hook(NULL);
	free(af->tmp);
	free(af->path);
	af->tmp = af->path = NULL;
}
