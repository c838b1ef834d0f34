#!/bin/sh
# SPDX-License-Identifier: EUPL-1.2
# The layers of lib/ hold: in a scratch copy of the source tree, an include of
# a higher layer's header in a lower layer (and of the mail layer in the
# gateway), or a link to a higher layer, must make the build fail. The
# unchanged copy must build, so a failure means the rule, not a broken tree.
#
# usage: test-layers.sh SOURCE_DIR
set -eu
src=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Relative includes would walk around the include paths: there must be none.
if grep -rnE '#include "[^"]*/' "$src/lib" "$src/gateway" "$src/milter" "$src/cli"; then
	fail "an #include with a path in quotes (above) bypasses the layers"
fi

copy() {
	rm -rf "$scratch/src" "$scratch/build"
	mkdir -p "$scratch/src"
	tar -C "$src" --exclude='./build*' --exclude=./.git --exclude=node_modules -cf - . | tar -C "$scratch/src" -xf -
}
configure() {
	cmake -S "$scratch/src" -B "$scratch/build" -DBD_TESTS=OFF -DBD_WERROR=ON \
	      >"$scratch/configure.log" 2>&1
}
build() { cmake --build "$scratch/build" -j 2 --target "$1" >"$scratch/build.log" 2>&1; }

# 1. The unchanged tree builds every layer and the gateway.
copy
configure || { cat "$scratch/configure.log"; fail "the unchanged copy does not configure"; }
for t in bd_util bd_conf bd_crypto bd_store bd_package bd_mail bestanden-gateway; do
	build "$t" || { tail -30 "$scratch/build.log"; fail "the unchanged copy does not build $t"; }
done
echo "ok: the unchanged copy builds every layer"

# 2. An upward include fails: FILE gets #include "HEADER", target TARGET must not build.
upward() {
	file=$1 header=$2 target=$3
	printf '#include "%s"\n' "$header" >>"$scratch/src/$file"
	if build "$target"; then
		fail "$file includes $header (a higher layer) and $target still builds"
	fi
	grep -q "$header: No such file" "$scratch/build.log" ||
		{ tail -20 "$scratch/build.log"; fail "$target failed for another reason"; }
	echo "ok: $file including $header fails the build of $target"
	copy && configure
}
upward lib/util/error.c rewrite.h bd_util
upward lib/util/log.c conf.h bd_util
upward lib/conf/conf.c keys.h bd_conf
upward lib/crypto/keys.c store.h bd_crypto
upward lib/store/store.c download.h bd_store
upward lib/package/sweep.c rewrite.h bd_package
upward gateway/main.c rewrite.h bestanden-gateway

# 3. A link to a higher layer (the start of a cycle) stops the configuration.
sed -i 's/^  LINK PkgConfig::SODIUM PkgConfig::GLIB Threads::Threads)/  LINK bd_mail PkgConfig::SODIUM PkgConfig::GLIB Threads::Threads)/' \
	"$scratch/src/lib/CMakeLists.txt"
grep -q 'LINK bd_mail PkgConfig::SODIUM' "$scratch/src/lib/CMakeLists.txt" ||
	fail "could not find the util layer's LINK line to change"
rm -rf "$scratch/build"
if configure; then
	fail "util linking bd_mail still configures"
fi
grep -q "layer util links bd_mail, which is not a layer below it" "$scratch/configure.log" ||
	{ cat "$scratch/configure.log"; fail "configuration failed for another reason"; }
echo "ok: util linking the mail layer stops the configuration"
echo "PASS"
