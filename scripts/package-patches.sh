# scripts/package-patches.sh — sourced by kafka-native.sh and tfjs-native.sh: the project's patches
# of an npm package, patches/<prefix>-*.diff, applied with `patch -p1` inside the package directory.
#   package_patches <prefix>        sets PATCHES (the files, sorted) and PATCH_HASH (the first 12
#                                   hex digits of their sha256: part of each addon's build key)
#   apply_patches <pkg_dir> <label> applies every patch not applied yet; one already applied is
#                                   skipped, one that does not apply stops the script (die)
# The caller defines log and die.

package_patches() {
  local repo_dir
  repo_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  shopt -s nullglob
  PATCHES=("$repo_dir"/patches/"$1"-*.diff)
  shopt -u nullglob
  PATCH_HASH="$(cat /dev/null "${PATCHES[@]}" | sha256sum | cut -c1-12)"
}

apply_patches() {
  local pkg_dir="$1" label="$2" p name
  ((${#PATCHES[@]} > 0)) || return 0
  command -v patch >/dev/null || die "'patch' not found on PATH (Debian: apt-get install patch)"
  for p in "${PATCHES[@]}"; do
    name="patches/$(basename "$p")"
    if patch -p1 -R -s -f --dry-run -d "$pkg_dir" <"$p" >/dev/null 2>&1; then continue; fi
    patch -p1 -s -f --dry-run -d "$pkg_dir" <"$p" >/dev/null 2>&1 \
      || die "$name does not apply to $label in $pkg_dir (port it to this version)"
    patch -p1 -s -f --no-backup-if-mismatch -d "$pkg_dir" <"$p" >/dev/null || die "applying $name failed"
    log "applied $name"
  done
}
