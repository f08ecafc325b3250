/*
 * check_file: bounded reads (the limit, non-regular files, a FIFO that
 * must not block) and whole writes (a new file never replaces one, a
 * replaced file is whole and leaves no temporary file).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "fixture.h"

static char tmpdir[64];

static void
tmp_setup(void)
{

	strcpy(tmpdir, "/tmp/check_file.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
tmp_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* ${tmpdir}/${name} into ${buf}. */
static void
tmp_path(char *buf, size_t len, const char *name)
{

	ck_assert_int_lt(snprintf(buf, len, "%s/%s", tmpdir, name), (int)len);
}

/* A file of ${n} bytes 'x' at ${path}. */
static void
put(const char *path, size_t n)
{
	FILE *f;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	while (n-- > 0)
		ck_assert_int_ne(fputc('x', f), EOF);
	ck_assert_int_eq(fclose(f), 0);
}

/* Whether ${path} holds exactly the ${n} bytes ${want} (file_read). */
static void
holds(const char *path, const char *want, size_t n)
{
	char err[256];
	uint8_t buf[16];
	size_t len;

	ck_assert_uint_lt(n, sizeof(buf));
	ck_assert_int_eq(file_read(path, buf, sizeof(buf) - 1, &len, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(len, n);
	ck_assert_mem_eq(buf, want, n);
}

START_TEST(test_read_limit)
{
	char path[128], err[256], want[256];
	uint8_t buf[17];
	size_t len = 99;

	tmp_path(path, sizeof(path), "f");
	put(path, 16);
	ck_assert_int_eq(file_read(path, buf, 16, &len, err, sizeof(err)), 0);
	ck_assert_uint_eq(len, 16);
	put(path, 0);
	ck_assert_int_eq(file_read(path, buf, 16, &len, err, sizeof(err)), 0);
	ck_assert_uint_eq(len, 0);
	/* One byte over: refused, whatever the read sizes. */
	put(path, 17);
	errno = 0;
	ck_assert_int_eq(file_read(path, buf, 16, &len, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(errno, EFBIG);
	snprintf(want, sizeof(want), "%s: too large (over 16 bytes)", path);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_read_refused)
{
	char path[128], err[256], want[256];
	uint8_t buf[17];
	size_t len;

	/* Missing. */
	tmp_path(path, sizeof(path), "none");
	ck_assert_int_eq(file_read(path, buf, 16, &len, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(errno, ENOENT);
	snprintf(want, sizeof(want), "%s: cannot open: %s", path,
	    strerror(ENOENT));
	ck_assert_str_eq(err, want);
	/* A directory. */
	ck_assert_int_eq(file_read(tmpdir, buf, 16, &len, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
	snprintf(want, sizeof(want), "%s: not a regular file", tmpdir);
	ck_assert_str_eq(err, want);
	/* A FIFO nobody writes: refused at once, never waited on. */
	tmp_path(path, sizeof(path), "fifo");
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(file_read(path, buf, 16, &len, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
	snprintf(want, sizeof(want), "%s: not a regular file", path);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_create)
{
	char path[128], link[128], err[256], want[256];
	struct stat st;

	tmp_path(path, sizeof(path), "new");
	ck_assert_int_eq(file_create(path, (const uint8_t *)"abc", 3, 0600,
	    err, sizeof(err)), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	holds(path, "abc", 3);
	/* Never over an existing file, nor through a symbolic link. */
	ck_assert_int_eq(file_create(path, (const uint8_t *)"de", 2, 0600,
	    err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EEXIST);
	snprintf(want, sizeof(want), "%s: cannot create: %s", path,
	    strerror(EEXIST));
	ck_assert_str_eq(err, want);
	tmp_path(link, sizeof(link), "link");
	ck_assert_int_eq(symlink("elsewhere", link), 0);
	ck_assert_int_eq(file_create(link, (const uint8_t *)"de", 2, 0600,
	    err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EEXIST);
	holds(path, "abc", 3);
}
END_TEST

START_TEST(test_replace)
{
	char path[128], tmp[160], err[256], want[256];
	struct stat st;

	tmp_path(path, sizeof(path), "cred");
	put(path, 10);
	ck_assert_int_eq(file_replace(path, (const uint8_t *)"abc", 3, 0644,
	    err, sizeof(err)), 0);
	holds(path, "abc", 3);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0644 & ~(unsigned)umask(022));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ck_assert_int_eq(access(tmp, F_OK), -1);
	/* A missing directory: the temporary file names the failure. */
	tmp_path(path, sizeof(path), "none/cred");
	ck_assert_int_eq(file_replace(path, (const uint8_t *)"abc", 3, 0644,
	    err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s.tmp: %s", path, strerror(ENOENT));
	ck_assert_str_eq(err, want);
}
END_TEST

static Suite *
file_suite(void)
{
	Suite *s = suite_create("file");
	TCase *tc;

	tc = tcase_create("read");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_read_limit);
	tcase_add_test(tc, test_read_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("write");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_create);
	tcase_add_test(tc, test_replace);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(file_suite()));
}
