# srctree.sh: the source tree as the packaging tests see it (sourced after
# lib.sh by 46-container.sh and 47-deb-package.sh).
#
# src_files lists the files of the tree (git's tracked and untracked-but-not-
# ignored files in a checkout; every file but build directories in a
# tarball's tree), src_hash digests their names and contents, src_copy
# copies them elsewhere.  The expensive products (base images, the image,
# the .deb) are cached under $SP_CACHE by that hash, so that the plain and
# the ASan runs of one CI session build them once.  The cache lives outside
# the build tree: SALLYPORT_TEST_CACHE, else /var/cache/sallyport-test as
# root, else ~/.cache/sallyport-test.

if [ -n "${SALLYPORT_TEST_CACHE:-}" ]; then
	SP_CACHE=$SALLYPORT_TEST_CACHE
elif [ "$(id -u)" = 0 ]; then
	SP_CACHE=/var/cache/sallyport-test
else
	SP_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/sallyport-test
fi
mkdir -p "$SP_CACHE" || die "cannot make the cache directory $SP_CACHE"

# ci_skip(msg...): skip (77), or fail where CI=true: CI must run it all.
ci_skip()
{
	[ "${CI:-}" != true ] || die "$* (CI=true: not skipping)"
	skip "$@"
}

# src_files: NUL-separated paths, relative to $top_srcdir, sorted.
src_files()
{
	if [ "$(git -C "$top_srcdir" rev-parse --show-toplevel 2>/dev/null)" = \
	    "$(cd "$top_srcdir" && pwd -P)" ]; then
		git -C "$top_srcdir" ls-files -z --cached --others \
		    --exclude-standard | sort -z
	else
		(cd "$top_srcdir" && find . \( -name .git -o -name 'build*' -o \
		    -name autom4te.cache -o -name 'sallyport-*' \) -prune -o \
		    -type f -print0 | sed -z 's|^\./||' | sort -z)
	fi
}

# src_hash: one SHA-256 over the tree's names and contents (12 hex digits).
src_hash()
{
	(cd "$top_srcdir" && src_files | xargs -0 -r sha256sum) |
	    sha256sum | cut -c1-12
}

# src_copy(dir): copy the tree into ${dir} (made).
src_copy()
{
	mkdir -p "$1"
	(cd "$top_srcdir" && src_files | tar --null -T - -cf -) |
	    tar -C "$1" -xf - || die "copying the source tree to $1 failed"
}
