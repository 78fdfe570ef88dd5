"""Runs singer-io tap-gitlab 1.0.1 against the API at $TAP_GITLAB_BASE_URL.

tap-gitlab 1.0.1 hard-codes `self.base_url = "https://gitlab.com/api/v4"` in
`tap_gitlab.client.Client.__init__`. This wrapper is the whole patch: after the original
__init__, the base URL is replaced by the environment variable. Nothing installed is edited;
run it with the tap's venv python (`python tap_gitlab_at.py --config … --catalog …`). The fake
is served over HTTPS and trusted through REQUESTS_CA_BUNDLE, as the tap would reach GitLab.
"""

import os
import sys

import tap_gitlab
from tap_gitlab import client

_original_init = client.Client.__init__


def _init(self, config):
    _original_init(self, config)
    self.base_url = os.environ["TAP_GITLAB_BASE_URL"].rstrip("/")


client.Client.__init__ = _init

if __name__ == "__main__":
    sys.exit(tap_gitlab.main())
