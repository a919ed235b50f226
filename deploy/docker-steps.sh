#!/bin/sh
# The build steps of deploy/Dockerfile, one per RUN line: the Dockerfile calls this script, and
# apps/cli/test/serve-deploy.test.ts runs the same steps here in a scratch copy of the repository
# (there is no Docker engine on our machines), so the two cannot drift apart.
#
#   sh deploy/docker-steps.sh <step>      run from the repository root (the builder's WORKDIR)
#
# Steps, in order:
#   install   pnpm install of the CLI, the packages it depends on and the root's build tools, as locked
#   build     turbo build of @imgcls/cli and every workspace package it depends on
#   deploy    pnpm deploy --prod: the CLI with only its production dependencies in $IMGCLS_APP_DIR
#   models    every model in $IMGCLS_MODELS verified loadable offline from $IMGCLS_APP_DIR: an
#             installed model package as it is, any other id pulled into $IMGCLS_CACHE_DIR first
#   link      (runtime stage) puts an `imgcls` command in $IMGCLS_BIN_DIR
#
# Settings (environment):
#   IMGCLS_APP_DIR      where `deploy` writes the application (default /opt/imgcls)
#   IMGCLS_CACHE_DIR    the model download cache baked into the image (default $IMGCLS_APP_DIR/cache)
#   IMGCLS_MODELS       space-separated registry ids the image serves (default: cifar10)
#   IMGCLS_REMOTE_HOST  npm CDN or mirror to pull from (default: the CLI's, https://cdn.jsdelivr.net);
#                       serve with the same --remote-host, since cached copies are found by URL
#   IMGCLS_BIN_DIR      where `link` puts the command (default /usr/local/bin)
#   PNPM                how to run pnpm (default: the repository's pinned version, scripts/pnpm.mjs,
#                       until `install` has put it in node_modules/.bin)
#   TURBO_CACHE_DIR     turbo's cache (the test points it at the working tree's, so unchanged
#                       packages are not rebuilt)
set -eu

app_dir=${IMGCLS_APP_DIR:-/opt/imgcls}
cache_dir=${IMGCLS_CACHE_DIR:-$app_dir/cache}
models=${IMGCLS_MODELS:-cifar10}
bin_dir=${IMGCLS_BIN_DIR:-/usr/local/bin}

pnpm_command() {
  if [ -n "${PNPM:-}" ]; then
    # shellcheck disable=SC2086 # PNPM may be a command with arguments
    $PNPM "$@"
  elif [ -x node_modules/.bin/pnpm ]; then
    node_modules/.bin/pnpm "$@"
  else
    node scripts/pnpm.mjs "$@"
  fi
}

imgcls() {
  IMGCLS_CACHE_DIR="$cache_dir" IMGCLS_MODELS_DIR='' node "$app_dir/dist/cli.js" "$@"
}

step=${1:-}
case "$step" in
  install)
    # The CLI's dependency tree (`...`) plus the root (turbo, tsup, typescript); not the web demo.
    pnpm_command install --frozen-lockfile --prefer-offline --filter '@imgcls/cli...' --filter 'imgcls-monorepo'
    ;;
  build)
    # turbo runs each package's build through `pnpm run`: the pnpm installed by `install` must be on PATH.
    PATH="$PWD/node_modules/.bin:$PATH" turbo run build --filter='@imgcls/cli...' --output-logs=errors-only
    ;;
  deploy)
    rm -rf "$app_dir"
    # --legacy: workspace packages are copied in as they would be published (their `files`), no links
    # back into the build tree.
    pnpm_command --filter '@imgcls/cli' deploy --prod --legacy --prefer-offline "$app_dir"
    ;;
  models)
    mkdir -p "$cache_dir"
    remote=''
    if [ -n "${IMGCLS_REMOTE_HOST:-}" ]; then remote="--remote-host $IMGCLS_REMOTE_HOST"; fi
    # Run from / so that no ./models folder of the build tree is taken for the image's.
    cd /
    # The cache is keyed by URL: a copy pulled from a mirror is found again only with the same
    # --remote-host, so the checks use it too (and so must `imgcls serve` in the image).
    # shellcheck disable=SC2086 # $remote is empty or two words
    for id in $models; do
      if ! imgcls --quiet --offline $remote models verify "$id" >/dev/null 2>&1; then
        imgcls --quiet $remote models pull "$id"
      fi
      imgcls --quiet --offline $remote models verify "$id"
    done
    ;;
  link)
    mkdir -p "$bin_dir"
    printf '#!/bin/sh\nexec node %s/dist/cli.js "$@"\n' "$app_dir" >"$bin_dir/imgcls"
    chmod 755 "$bin_dir/imgcls"
    ;;
  *)
    echo "usage: sh deploy/docker-steps.sh install|build|deploy|models|link" >&2
    exit 2
    ;;
esac
