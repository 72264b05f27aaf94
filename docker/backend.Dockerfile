# The kernel's image: Debian's python3, the project installed (editable) in a virtualenv at
# /opt/venv. compose.yaml bind-mounts the source folders over /app, so edits reach the container
# without a rebuild; the copy made here only lets the image run on its own.
FROM debian:bookworm-slim
# PEM certificates to trust during the build, for networks behind a TLS-intercepting proxy
# (`omc-dev up` passes the host's /usr/local/share/ca-certificates); empty elsewhere.
ARG EXTRA_CA_CERTS=""
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && if [ -n "$EXTRA_CA_CERTS" ]; then \
      printf '%s\n' "$EXTRA_CA_CERTS" > /usr/local/share/ca-certificates/omc-build-extra.crt \
      && update-ca-certificates >/dev/null; \
    fi
# pip trusts the system store (with any extra certificates), not only its own bundle.
ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# Dependencies first, read from pyproject.toml alone: a source edit does not reinstall them.
COPY pyproject.toml ./
RUN python3 -m venv /opt/venv \
 && python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; extra = p["optional-dependencies"]; print("\n".join(p["dependencies"] + extra["kernel"] + extra["dev"]))' > /tmp/requirements.txt \
 && pip install --no-cache-dir "setuptools>=68" wheel -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt
COPY README.md ./
COPY devtools devtools
COPY kernel kernel
RUN pip install --no-cache-dir --no-deps --no-build-isolation --config-settings editable_mode=compat -e . \
 && omc-dev --version
# The container runs as root: keep root-owned __pycache__ folders out of the bind-mounted tree.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
