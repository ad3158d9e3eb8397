/*
 * atomic.c - temporary file + rename (see atomic.h).
 *
 * Open atomic files are kept in a list so that the die hook can unlink
 * their temporaries: die() may be called from anywhere in a writer (a bad
 * value found half-way, a full disk), and it must not leave ".x.tmpXXXXXX"
 * files behind.
 */
#define _XOPEN_SOURCE 700       /* realpath */
#include "atomic.h"

#include <dirent.h>
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

static const char *
file_kind(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISCHR(m) ? "a character device" :
	    S_ISBLK(m) ? "a block device" : S_ISFIFO(m) ? "a FIFO" :
	    S_ISSOCK(m) ? "a socket" : "not a regular file";
}

/*
 * The name to rename onto for PATH, malloc'd: PATH itself if it does not
 * exist or is a regular file; the file a symbolic link leads to (so that
 * the link stays a link); never a device, FIFO, socket or directory,
 * which a rename would replace by a regular file (-o /dev/null).
 */
static char *
atomic_target(const char *path)
{
	struct stat st;
	char *real;

	if (lstat(path, &st) != 0) {
		if (errno != ENOENT)
			die("%s:", path);
		return xstrdup(path);
	}
	if (S_ISREG(st.st_mode))
		return xstrdup(path);
	if (S_ISLNK(st.st_mode)) {
		if ((real = realpath(path, NULL)) == NULL)
			die("%s: a symbolic link that leads nowhere (expected "
			    "a regular file or a new name)", path);
		if (stat(real, &st) != 0)
			die("%s:", path);
		if (S_ISREG(st.st_mode))
			return real;
		free(real);
	}
	die("%s: %s (expected a regular file or a new name: it would be "
	    "replaced, not written)", path, file_kind(st.st_mode));
}

void
atomic_check(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (*(slash ? slash + 1 : path) == '\0')
		die("'%s': not a file name", path);
	free(atomic_target(path));
}

FILE *
atomic_open(struct atomic_file *af, const char *user_path)
{
	const char *slash, *base, *path;
	size_t dirlen;
	mode_t mask;
	int fd;

	slash = strrchr(user_path, '/');
	if (*(slash ? slash + 1 : user_path) == '\0')
		die("'%s': not a file name", user_path);
	path = af->path = atomic_target(user_path);
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	dirlen = slash ? (size_t)(slash - path) + 1 : 0;
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

void
atomic_remove_stale(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char *dir = slash ? xstrdup(path) : xstrdup("."), *p;
	size_t blen = strlen(base), n;
	struct dirent *e;
	DIR *d;

	if (slash != NULL)
		dir[slash - path + (slash == path)] = '\0';
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return;         /* nothing there yet */
	}
	while ((e = readdir(d)) != NULL) {
		n = strlen(e->d_name);
		if (n != 1 + blen + 4 + 6 || e->d_name[0] != '.' ||
		    strncmp(e->d_name + 1, base, blen) != 0 ||
		    strncmp(e->d_name + 1 + blen, ".tmp", 4) != 0)
			continue;
		p = xmalloc(strlen(dir) + n + 2);
		sprintf(p, "%s/%s", dir, e->d_name);
		if (unlink(p) != 0 && errno != ENOENT)
			die("%s: cannot remove a stale temporary file:", p);
		free(p);
	}
	closedir(d);
	free(dir);
}
