# Trimming the production node_modules of a bundle: build-only packages, addon sources and build
# leftovers, tests, docs, typings and sources maps go; license files stay. Sourced after common.sh.

# Directory names never loaded at run time, when found at a package's top (yaml's dist/doc/ is code).
TRIM_DIRS=(test tests __tests__ fixture fixtures .github docs doc example examples samples benchmark benchmarks coverage .nyc_output)
# File patterns never loaded at run time (C/C++ sources and objects, gyp files, docs, typings, maps).
TRIM_FILES=('*.md' '*.markdown' '*.d.ts' '*.d.mts' '*.d.cts' '*.ts' '*.mts' '*.cts' '*.map' '*.tsbuildinfo'
  '*.c' '*.cc' '*.cpp' '*.cxx' '*.h' '*.hh' '*.hpp' '*.gyp' '*.gypi' '*.o' '*.a' '*.mk' 'Makefile'
  '.npmignore' '.eslintrc*' '.prettierrc*' '.editorconfig' '*.yml' '.taprc' '.gitattributes' '.nycrc*' '.jshintrc'
  'tsconfig*.json' '*.html')
# Per-addon source folders (C/C++ and the copy of SQLite) once the addon is compiled.
TRIM_ADDON_DIRS=(src deps native build/Release/obj.target build/Release/.deps)

# args: app-dir, file listing unneeded package paths, addon package paths...
trim_node_modules() {
  local app="$1" unneeded="$2"; shift 2
  local pkg d
  while IFS= read -r pkg; do
    if [ -n "$pkg" ]; then rm -rf "${app:?}/$pkg"; fi
  done < "$unneeded"
  for pkg in "$@"; do
    for d in "${TRIM_ADDON_DIRS[@]}"; do rm -rf "${app:?}/$pkg/$d"; done
  done
  local nm="$app/node_modules" find_dirs=() find_files=() n
  for n in "${TRIM_DIRS[@]}"; do find_dirs+=(-name "$n" -o); done
  for n in "${TRIM_FILES[@]}"; do find_files+=(-name "$n" -o); done
  local dir
  while IFS= read -r -d '' dir; do
    if [ -f "$(dirname "$dir")/package.json" ]; then rm -rf "$dir"; fi
  done < <(find "$nm" -depth -type d \( "${find_dirs[@]}" -false \) -print0)
  find "$nm" -type f \( "${find_files[@]}" -false \) \
    -not -iname 'LICEN[CS]E*' -not -iname 'NOTICE*' -not -iname 'COPYING*' -delete
  rm -rf "$nm/.bin" "$nm/.package-lock.json"
  find "$nm" -depth -type d -empty -delete
}
