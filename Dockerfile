# The GitHub Action's container, and the command line's (`docker run --rm IMAGE --version`).
# GitHub runs it as root with the workspace mounted at /github/workspace: no USER, no WORKDIR
# (docs: Dockerfile support for GitHub Actions). A released version is not built on the runner:
# action.yml runs the image the release workflow pushed (scripts/select_image.py).
#
# The base image, pinned by digest so that every build starts from the same bytes; the digest
# is the multi-platform index of the tag in the comment. To bump it (a Python or Debian fix):
#   skopeo inspect --raw docker://docker.io/library/python:3.11-slim-bookworm | sha256sum
# (or the "Digest:" of `docker buildx imagetools inspect python:3.11-slim-bookworm`), put it
# below, run `make test`, and note the bump in CHANGELOG.md.
# python:3.11-slim-bookworm
ARG BASE=docker.io/library/python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b

# --- builder: the sdist and the wheel, then the runtime virtualenv ---------------------------
FROM ${BASE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    SRC=/src BUILD_VENV=/opt/build VENV=/opt/alembic-heads-bot

# Only what the package is built from. tests/test_packaging.py runs this stage outside a
# container: these COPY sources, then the RUN lines below, with its own paths.
COPY pyproject.toml README.md LICENSE requirements.lock requirements-build.lock ${SRC}/
COPY bot ${SRC}/bot

# The build backend and the `build` front end, exact versions and hashes. Regenerate after a
# change to requirements-build.in, with Python 3.11 and pip-tools, from the repository root:
#   pip-compile --allow-unsafe --generate-hashes --no-emit-options --strip-extras \
#     --output-file=requirements-build.lock requirements-build.in
# Then the sdist, and the wheel from it, exactly as the release workflow builds them;
# --no-isolation: with the backend above, not a fresh unpinned download.
RUN python -m venv "$BUILD_VENV" \
    && "$BUILD_VENV/bin/pip" install --require-hashes --no-deps -r "$SRC/requirements-build.lock" \
    && "$BUILD_VENV/bin/python" -m build --no-isolation --outdir "$SRC/dist" "$SRC"

# The runtime: the locked wheels (exact versions and hashes; regenerate requirements.lock after
# changing the dependencies in pyproject.toml, with Python 3.11 and pip-tools:
#   pip-compile --generate-hashes --no-emit-options --strip-extras \
#     --output-file=requirements.lock pyproject.toml
# ), then the bot's own wheel with no index at all. The base image's pip installs into the
# virtualenv, which so holds no pip of its own.
RUN python -m venv --without-pip "$VENV" \
    && python -m pip --python "$VENV/bin/python" install --require-hashes --no-deps \
        -r "$SRC/requirements.lock" \
    && python -m pip --python "$VENV/bin/python" install --no-index --no-deps "$SRC"/dist/*.whl

# --- runtime: the base image, git and the virtualenv -----------------------------------------
FROM ${BASE}

# git >= 2.38 for `git merge-tree --write-tree`: bookworm has 2.39. Not pinned to an exact
# Debian revision, so that each build takes the distribution's security fixes. Without the
# packages' manuals and documentation (their copyright files stay), and without apt's lists and
# downloaded packages, whatever the base image's apt configuration keeps.
# hadolint ignore=DL3008
RUN printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' \
        'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/locale/*' \
        > /etc/dpkg/dpkg.cfg.d/no-docs \
    && apt-get update \
    && apt-get install -y --no-install-recommends git \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*

COPY --from=builder /opt/alembic-heads-bot /opt/alembic-heads-bot
ENV PATH=/opt/alembic-heads-bot/bin:$PATH PYTHONUNBUFFERED=1

# `action` is what the Action runs (action.yml passes it too); any other command works as well.
ENTRYPOINT ["alembic-heads-bot"]
CMD ["action"]
