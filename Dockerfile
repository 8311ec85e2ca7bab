# The GitHub Action's container. GitHub runs it as root with the workspace mounted at
# /github/workspace: no USER, no WORKDIR (docs: Dockerfile support for GitHub Actions).
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1

# git >= 2.38 for `git merge-tree --write-tree`: bookworm has 2.39. Not pinned to an exact
# Debian revision, so that each build takes the distribution's security fixes.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*

# Exact versions and hashes. Regenerate after changing the dependencies in pyproject.toml,
# with Python 3.11 and pip-tools, from the repository root:
#   pip-compile --generate-hashes --no-emit-options --strip-extras \
#     --output-file=requirements.lock pyproject.toml
COPY requirements.lock /tmp/requirements.lock
RUN pip install --require-hashes --no-deps -r /tmp/requirements.lock

COPY pyproject.toml README.md /tmp/src/
COPY bot /tmp/src/bot
RUN pip install --no-deps /tmp/src && rm -rf /tmp/src /tmp/requirements.lock

ENTRYPOINT ["alembic-heads-bot", "action"]
